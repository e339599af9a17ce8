import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { ThrottlerModule } from '@nestjs/throttler';
import { authConfig, AuthConfig, sessionConfig } from '../../config';
import { CommonModule } from '../common/common.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { GroupsGuard } from './guards/groups.guard';
import { LoginThrottlerGuard } from './guards/login-throttler.guard';
import { LoginGuard } from './guards/login.guard';
import { RolesGuard } from './guards/roles.guard';
import { SessionGuard } from './guards/session.guard';
import { SessionDataInterceptor } from './interceptors/session-data.interceptor';
import { Session, SessionSchema } from './schemas/session.schema';
import { SessionCache } from './session-cache';
import {
  SESSION_MODULE_OPTIONS,
  SessionModuleAsyncOptions,
  SessionModuleOptions,
  SessionModuleStaticOptions,
} from './session-module.options';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { LocalStrategy } from './strategies/local.strategy';
import { TokenService } from './token.service';

/**
 * Sessions, auth routes and the guards that protect everything else. Import it once, at the
 * root: `SessionModule.forRoot({ hooks, getTokenSecret })` or `forRootAsync({ useFactory })`.
 * It is global, so SessionsService, SessionCache, the guards and the Session/User models can be
 * injected anywhere. It needs a Mongoose connection (DatabaseModule) and ConfigModule.
 */
@Module({})
export class SessionModule {
  static forRoot(options: SessionModuleOptions & SessionModuleStaticOptions = {}): DynamicModule {
    return SessionModule.build(
      [{ provide: SESSION_MODULE_OPTIONS, useValue: options }],
      [],
      options.globalGuards,
    );
  }

  static forRootAsync(options: SessionModuleAsyncOptions): DynamicModule {
    return SessionModule.build(
      [
        {
          provide: SESSION_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: (options.inject ?? []) as never[],
        },
      ],
      options.imports ?? [],
      options.globalGuards,
    );
  }

  private static build(
    optionProviders: Provider[],
    imports: NonNullable<SessionModuleAsyncOptions['imports']>,
    globalGuards = true,
  ): DynamicModule {
    // Order matters: APP_GUARDs run in registration order (who you are, then what you may do).
    const globals: Provider[] = globalGuards
      ? [
          { provide: APP_GUARD, useExisting: SessionGuard },
          { provide: APP_GUARD, useExisting: RolesGuard },
          { provide: APP_GUARD, useExisting: GroupsGuard },
        ]
      : [];
    return {
      module: SessionModule,
      global: true,
      imports: [
        ...imports,
        CommonModule,
        ConfigModule.forFeature(authConfig),
        ConfigModule.forFeature(sessionConfig),
        UsersModule,
        JwtModule.register({}),
        MongooseModule.forFeature([{ name: Session.name, schema: SessionSchema }]),
        ThrottlerModule.forRootAsync({
          imports: [ConfigModule.forFeature(authConfig)],
          inject: [authConfig.KEY],
          useFactory: (auth: AuthConfig) => ({
            throttlers: [{ name: 'login', ttl: 60_000, limit: auth.loginRateLimit }],
          }),
        }),
      ],
      controllers: [AuthController, SessionsController],
      providers: [
        ...optionProviders,
        SessionsService,
        TokenService,
        SessionCache,
        SessionGuard,
        RolesGuard,
        GroupsGuard,
        LoginGuard,
        LoginThrottlerGuard,
        LocalStrategy,
        SessionDataInterceptor,
        ...globals,
      ],
      exports: [
        SESSION_MODULE_OPTIONS,
        SessionsService,
        TokenService,
        SessionCache,
        SessionGuard,
        RolesGuard,
        GroupsGuard,
        SessionDataInterceptor,
        UsersModule,
        MongooseModule,
      ],
    };
  }
}
