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

/** This app's own settings, injected into the session module's options factory. */
@Injectable()
export class AppSettings {
  readonly tokenSecret = randomBytes(32).toString('base64url');
  readonly adminPassword = required('ADMIN_PASSWORD');
  readonly memberPassword = required('MEMBER_PASSWORD');
}

@Module({ providers: [AppSettings], exports: [AppSettings] })
export class SettingsModule {}

/** A user without roles, for the @Roles check. */
@Injectable()
export class SeedMember implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersService,
    private readonly settings: AppSettings,
  ) {}

  async onApplicationBootstrap() {
    await this.users.create({ username: 'member', password: this.settings.memberPassword });
  }
}

@Module({})
export class AppModule {
  static register(mongoUri: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule,
        MongooseModule.forRootAsync({ useFactory: () => ({ uri: mongoUri }) }),
        SessionModule.forRootAsync({
          imports: [SettingsModule],
          inject: [AppSettings],
          useFactory: (settings: AppSettings) => ({
            secrets: [settings.tokenSecret],
            idleTimeoutSeconds: 3600,
            initialAdmin: { username: 'admin', password: settings.adminPassword },
          }),
        }),
      ],
      controllers: [NotesController],
      providers: [SeedMember],
    };
  }
}
