import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { USERS_OPTIONS, type UsersOptions } from './users.options';
import { conflict } from '../common/api.exception';
import { PasswordService } from './password.service';
import { User } from './schemas/user.schema';
import { type AuthUser, toUserView } from './user.view';

export interface CreateUserInput {
  username: string;
  password: string;
  roles?: string[];
  groups?: string[];
}

const unique = (values: string[] | undefined) => [...new Set(values ?? [])];

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly passwords: PasswordService,
    @Inject(USERS_OPTIONS) private readonly settings: UsersOptions,
  ) {}

  /** The collection's name, for the change stream that follows it (SessionChangeWatcher). */
  get collectionName(): string {
    return this.users.collection.collectionName;
  }

  /** Creates the `initialAdmin` of the options unless a user of that name exists. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.initialAdmin) return;
    const { username: adminUsername, password: adminPassword } = this.settings.initialAdmin;
    const passwordHash = await this.passwords.hash(adminPassword);
    // One upsert: several instances starting together create the admin once and never
    // overwrite an existing user's password or roles.
    const result = await this.users.updateOne(
      { username: adminUsername },
      { $setOnInsert: { username: adminUsername, passwordHash, roles: ['admin'], groups: [] } },
      { upsert: true },
    );
    if (result.upsertedCount) this.logger.log(`Created the admin user "${adminUsername}"`);
  }

  /** Creates a user with a hashed password; 409 CONFLICT when the username is taken. */
  async create(input: CreateUserInput): Promise<AuthUser> {
    const passwordHash = await this.passwords.hash(input.password);
    try {
      const doc = await this.users.create({
        username: input.username,
        passwordHash,
        roles: unique(input.roles),
        groups: unique(input.groups),
      });
      return toUserView(doc);
    } catch (error) {
      if ((error as { code?: number }).code === 11000) {
        throw conflict(`The username "${input.username}" is taken`);
      }
      throw error;
    }
  }

  /**
   * The user whose password this is, or null. Runs one argon2 verification whether or not the
   * user exists, so neither the answer nor its timing tells the two apart.
   */
  async verifyCredentials(username: string, password: string): Promise<AuthUser | null> {
    const user = await this.users
      .findOne({ username })
      .select('+passwordHash')
      .lean<User & { _id: Types.ObjectId }>();
    const ok = await this.passwords.verify(user?.passwordHash, password);
    return ok && user ? toUserView(user) : null;
  }

  /** Same as verifyCredentials, for a user known by id (reauth). */
  async verifyPasswordById(userId: string, password: string): Promise<AuthUser | null> {
    const user = Types.ObjectId.isValid(userId)
      ? await this.users
          .findById(userId)
          .select('+passwordHash')
          .lean<User & { _id: Types.ObjectId }>()
      : null;
    const ok = await this.passwords.verify(user?.passwordHash, password);
    return ok && user ? toUserView(user) : null;
  }

  async findById(userId: string): Promise<AuthUser | null> {
    const user = await this.users.findById(userId).lean<User & { _id: Types.ObjectId }>();
    return user ? toUserView(user) : null;
  }

  /** The id of the user of this name, or null; a covered query (admin actions by username). */
  async idOf(username: string): Promise<Types.ObjectId | null> {
    const user = await this.users.findOne({ username }, { _id: 1 }).lean<{ _id: Types.ObjectId }>();
    return user?._id ?? null;
  }

  async findByUsername(username: string): Promise<AuthUser | null> {
    const user = await this.users.findOne({ username }).lean<User & { _id: Types.ObjectId }>();
    return user ? toUserView(user) : null;
  }
}
