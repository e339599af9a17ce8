import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModuleOptions } from '@nestjs/passport';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { UsersModule } from '../users/users.module';
import { USERS_OPTIONS, UsersOptions } from '../users/users.options';
import { AuthController } from './auth.controller';
import { BadTokenLimiter } from './guards/bad-token.limiter';
import { GroupsGuard } from './guards/groups.guard';
import { RecentAuthGuard } from './guards/recent-auth.guard';
import { LoginThrottlerGuard, loginThrottlers } from './guards/login-throttler.guard';
import { MongoThrottlerStorage } from '../rate-limit/mongo-throttler.storage';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { LoginGuard } from './guards/login.guard';
import { ModuleRoutesGuard, SESSION_GUARDS_ARE_GLOBAL } from './guards/module-routes.guard';
import { RolesGuard } from './guards/roles.guard';
import { SessionGuard } from './guards/session.guard';
import { SessionDataInterceptor } from './interceptors/session-data.interceptor';
import { Session, SessionSchema } from './schemas/session.schema';
import { OwnSessionsService } from './own-sessions.service';
import { SessionEvents } from './events/session-events';
import { SessionCache } from './session-cache';
import { SessionChangeWatcher } from './session-change.watcher';
import { SessionCheckService } from './session-check.service';
import {
  resolveSessionOptions,
  SESSION_MODULE_OPTIONS,
  SESSION_SETTINGS,
  SessionModuleAsyncOptions,
  SessionModuleOptions,
  SessionModuleStaticOptions,
  SessionSettings,
} from './session-module.options';
import { SessionsController } from './sessions.controller';
import { SessionStore } from './session.store';
import { SessionsService } from './sessions.service';
import { SessionSignIn } from './sign-in.service';
import { DeviceTrust } from './device-trust';
import { LocalStrategy } from './strategies/local.strategy';
import { TokenService } from './token.service';
import { TokenTransport } from './transport/token-transport.service';
import { InitialAdmin } from './initial-admin';

/**
 * The options, resolved once, in a module of their own: the host's `forRootAsync` factory
 * injects from the host's providers (and `imports`), never from the session module's, and the
 * modules the session module imports (users, throttler) can read the settings too. Global, so
 * the app's own features (admin, sweep) read the same settings.
 */
@Module({})
class SessionOptionsModule {
  static register(
    optionsProvider: Provider,
    imports: NonNullable<SessionModuleAsyncOptions['imports']>,
  ): DynamicModule {
    return {
      module: SessionOptionsModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        {
          provide: SESSION_SETTINGS,
          useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options),
          inject: [SESSION_MODULE_OPTIONS],
        },
        {
          provide: USERS_OPTIONS,
          useFactory: (settings: SessionSettings): UsersOptions => ({
            passwordHashing: settings.passwordHashing,
          }),
          inject: [SESSION_SETTINGS],
        },
      ],
      exports: [SESSION_MODULE_OPTIONS, SESSION_SETTINGS, USERS_OPTIONS],
    };
  }
}

/**
 * Sessions, auth routes and the guards that protect everything else. Import it once, at the
 * root: `SessionModule.forRoot({ secrets, ... })` or `forRootAsync({ inject, useFactory })`;
 * every setting is an option (see SessionModuleOptions), none comes from the environment.
 * It is global, so its services, the store, the guards and the settings can be injected
 * anywhere (the Mongoose models are not exported: SessionStore is the sessions collection). It
 * needs a Mongoose connection. Its routes validate and shape errors on their own.
 */
@Module({})
export class SessionModule {
  static forRoot(options: SessionModuleOptions & SessionModuleStaticOptions = {}): DynamicModule {
    // Fail at the call site, not at bootstrap, when the options are wrong.
    resolveSessionOptions(options);
    return SessionModule.build(
      { provide: SESSION_MODULE_OPTIONS, useValue: options },
      [],
      options.globalGuards,
    );
  }

  static forRootAsync(options: SessionModuleAsyncOptions): DynamicModule {
    return SessionModule.build(
      {
        provide: SESSION_MODULE_OPTIONS,
        useFactory: options.useFactory,
        inject: (options.inject ?? []) as never[],
      },
      options.imports ?? [],
      options.globalGuards,
    );
  }

  private static build(
    optionsProvider: Provider,
    imports: NonNullable<SessionModuleAsyncOptions['imports']>,
    globalGuards = true,
  ): DynamicModule {
    const optionsModule = SessionOptionsModule.register(optionsProvider, imports);
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
        optionsModule,
        UsersModule,
        JwtModule.register({}),
        MongooseModule.forFeature([{ name: Session.name, schema: SessionSchema }]),
        RateLimitModule,
      ],
      controllers: [AuthController, SessionsController],
      providers: [
        // The login limits, for this module's guards only, counted in MongoDB so that every
        // instance on the database shares them. Not through ThrottlerModule: that module is
        // global, and its settings would replace the host's own for every ThrottlerGuard.
        {
          provide: getOptionsToken(),
          inject: [SESSION_SETTINGS, MongoThrottlerStorage],
          useFactory: (settings: SessionSettings, storage: MongoThrottlerStorage) =>
            loginThrottlers(settings, storage),
        },
        { provide: getStorageToken(), useExisting: MongoThrottlerStorage },
        SessionEvents,
        SessionStore,
        SessionsService,
        SessionCheckService,
        OwnSessionsService,
        InitialAdmin,
        TokenService,
        TokenTransport,
        SessionSignIn,
        DeviceTrust,
        SessionCache,
        SessionChangeWatcher,
        SessionGuard,
        BadTokenLimiter,
        RolesGuard,
        GroupsGuard,
        RecentAuthGuard,
        { provide: SESSION_GUARDS_ARE_GLOBAL, useValue: globalGuards },
        ModuleRoutesGuard,
        LoginGuard,
        LoginThrottlerGuard,
        LocalStrategy,
        // LoginGuard (passport's AuthGuard) picks this module instance's strategy by name.
        {
          provide: AuthModuleOptions,
          useFactory: (strategy: LocalStrategy) => ({ defaultStrategy: strategy.registeredAs }),
          inject: [LocalStrategy],
        },
        SessionDataInterceptor,
        ...globals,
      ],
      exports: [
        SessionEvents,
        SessionStore,
        SessionsService,
        SessionCheckService,
        OwnSessionsService,
        TokenService,
        SessionCache,
        SessionChangeWatcher,
        TokenTransport,
        SessionSignIn,
        DeviceTrust,
        SessionGuard,
        // SessionGuard's own dependency: a host that applies the guard itself resolves it there.
        BadTokenLimiter,
        RolesGuard,
        GroupsGuard,
        RecentAuthGuard,
        SessionDataInterceptor,
        UsersModule,
      ],
    };
  }
}
