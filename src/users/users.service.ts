import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { conflict } from '../common/api.exception';
import type { HashingLane } from './hashing-gate';
import { PasswordService } from './password.service';
import { User } from './schemas/user.schema';
import { type AdminUserView, type AuthUser, toAdminUserView, toUserView } from './user.view';

export interface CreateUserInput {
  username: string;
  password: string;
  roles?: string[];
  groups?: string[];
}

const unique = (values: string[] | undefined) => [...new Set(values ?? [])];

@Injectable()
export class UsersService {
  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly passwords: PasswordService,
  ) {}

  /** The collection's name, for the change stream that follows it (SessionChangeWatcher). */
  get collectionName(): string {
    return this.users.collection.collectionName;
  }

  /**
   * Makes the ADMIN_USERNAME user exist with ADMIN_PASSWORD: created when missing; when the
   * variable changed since it was last applied, the new password is applied (`applied`: the
   * caller ends the admin's sessions); otherwise left alone, so a password changed through the
   * API is not reverted by the next restart. Refuses (throws) when the name belongs to a user who
   * is not an admin: the variable must never take over someone else's account.
   */
  async ensureBootstrapAdmin(
    username: string,
    password: string,
  ): Promise<{ outcome: 'created' | 'applied' | 'unchanged'; userId: string }> {
    const passwordHash = await this.passwords.hash(password);
    // One upsert: several instances starting together create the admin once.
    const created = await this.users.updateOne(
      { username },
      {
        $setOnInsert: {
          username,
          passwordHash,
          bootstrapPasswordHash: passwordHash,
          roles: ['admin'],
          groups: [],
        },
      },
      { upsert: true },
    );
    if (created.upsertedId) return { outcome: 'created', userId: String(created.upsertedId) };

    const user = await this.users
      .findOne({ username })
      .select('+passwordHash +bootstrapPasswordHash')
      .lean<User & { _id: Types.ObjectId }>();
    if (!user) throw new Error(`ADMIN_USERNAME: the user "${username}" vanished during start-up`);
    const userId = String(user._id);
    if (!user.roles.includes('admin')) {
      throw new Error(
        `ADMIN_USERNAME: "${username}" is an existing user without the admin role; ` +
          'name another user, or unset ADMIN_USERNAME/ADMIN_PASSWORD',
      );
    }
    const applied = user.bootstrapPasswordHash ?? null;
    if (applied && (await this.passwords.verify(applied, password))) {
      return { outcome: 'unchanged', userId };
    }
    if (!applied && (await this.passwords.verify(user.passwordHash, password))) {
      // An admin made before ADMIN_PASSWORD changes were tracked: remember what was applied.
      await this.users.updateOne(
        { _id: user._id, bootstrapPasswordHash: { $exists: false } },
        { $set: { bootstrapPasswordHash: user.passwordHash } },
      );
      return { outcome: 'unchanged', userId };
    }
    // Conditional on what this instance read: of several instances starting with the new value
    // one applies it, the others find it applied.
    const result = await this.users.updateOne(
      { _id: user._id, bootstrapPasswordHash: applied ?? { $exists: false } },
      { $set: { passwordHash, bootstrapPasswordHash: passwordHash } },
    );
    return { outcome: result.modifiedCount ? 'applied' : 'unchanged', userId };
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
   * user exists, so neither the answer nor its timing tells the two apart. `lane`: `trusted`
   * for a login from a device this user signed in on before (it goes ahead of a flood).
   */
  async verifyCredentials(
    username: string,
    password: string,
    lane: HashingLane = 'anyone',
  ): Promise<AuthUser | null> {
    const user = await this.users
      .findOne({ username })
      .select('+passwordHash')
      .lean<User & { _id: Types.ObjectId }>();
    const ok = await this.passwords.verify(user?.passwordHash, password, lane);
    return ok && user && !user.disabledAt ? toUserView(user) : null;
  }

  /**
   * Same as verifyCredentials, for a user known by id (reauth, password change): the caller has
   * a valid session, so the check takes the trusted lane.
   */
  async verifyPasswordById(userId: string, password: string): Promise<AuthUser | null> {
    const user = Types.ObjectId.isValid(userId)
      ? await this.users
          .findById(userId)
          .select('+passwordHash')
          .lean<User & { _id: Types.ObjectId }>()
      : null;
    const ok = await this.passwords.verify(user?.passwordHash, password, 'trusted');
    return ok && user && !user.disabledAt ? toUserView(user) : null;
  }

  /**
   * The user, or null when there is none or it is disabled: what a session may act for. The
   * session guard and refresh ask this, so a deleted or disabled user's sessions stop working.
   */
  async findActiveById(userId: string): Promise<AuthUser | null> {
    if (!Types.ObjectId.isValid(userId)) return null;
    const user = await this.users
      .findOne({ _id: userId, disabledAt: null })
      .lean<User & { _id: Types.ObjectId }>();
    return user ? toUserView(user) : null;
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

  // ------------------------------------------------------------------ admin user management

  /** Up to `limit` users by name, those after `after` (a name, the last of the previous page). */
  async list(limit: number, after?: string): Promise<AdminUserView[]> {
    const users = await this.users
      .find(after === undefined ? {} : { username: { $gt: after } })
      .sort({ username: 1 })
      .limit(limit)
      .lean<(User & { _id: Types.ObjectId })[]>();
    return users.map(toAdminUserView);
  }

  /** Stores a new password hash for the user; false when there is no such user. */
  async setPasswordById(userId: string | Types.ObjectId, password: string): Promise<boolean> {
    const passwordHash = await this.passwords.hash(password);
    const res = await this.users.updateOne({ _id: userId }, { $set: { passwordHash } });
    return res.matchedCount === 1;
  }

  /** Same as setPasswordById, by name; the user's id, or null when there is no such user. */
  async setPassword(username: string, password: string): Promise<Types.ObjectId | null> {
    const passwordHash = await this.passwords.hash(password);
    const user = await this.users
      .findOneAndUpdate({ username }, { $set: { passwordHash } }, { projection: { _id: 1 } })
      .lean<{ _id: Types.ObjectId }>();
    return user?._id ?? null;
  }

  /** Deletes the user; their id, or null when there was no such user. */
  async remove(username: string): Promise<Types.ObjectId | null> {
    const user = await this.users
      .findOneAndDelete({ username }, { projection: { _id: 1 } })
      .lean<{ _id: Types.ObjectId }>();
    return user?._id ?? null;
  }

  /**
   * Disables the user as of `now` (kept if already disabled: the first time stays) or enables
   * them; the user as now stored, or null when there is no such user.
   */
  async setDisabled(username: string, disabled: boolean, now: Date): Promise<AdminUserView | null> {
    const user = await this.users
      .findOneAndUpdate(
        disabled ? { username, disabledAt: null } : { username },
        { $set: { disabledAt: disabled ? now : null } },
        { returnDocument: 'after' },
      )
      .lean<User & { _id: Types.ObjectId }>();
    if (user) return toAdminUserView(user);
    // Already disabled (the conditional update matched nothing), or no such user.
    const existing = await this.users.findOne({ username }).lean<User & { _id: Types.ObjectId }>();
    return existing ? toAdminUserView(existing) : null;
  }
}
