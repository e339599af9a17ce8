import {
  type DynamicModule,
  Injectable,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { randomBytes } from 'node:crypto';
import { SessionModule, UsersService } from 'nest-sessions';
import { NotesController } from './notes.controller';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** A user without roles, for the @Roles check. */
@Injectable()
export class SeedMember implements OnApplicationBootstrap {
  constructor(private readonly users: UsersService) {}

  async onApplicationBootstrap() {
    await this.users.create({ username: 'member', password: required('MEMBER_PASSWORD') });
  }
}

@Module({})
export class AppModule {
  static register(mongoUri: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MongooseModule.forRoot(mongoUri),
        SessionModule.forRoot({
          secrets: [randomBytes(32).toString('base64url')],
          idleTimeoutSeconds: 3600,
          initialAdmin: { username: 'admin', password: required('ADMIN_PASSWORD') },
          globalGuards: false,
        }),
      ],
      controllers: [NotesController],
      providers: [SeedMember],
    };
  }
}
