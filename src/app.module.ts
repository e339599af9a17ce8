import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import {
  allConfigs,
  authConfig,
  AuthConfig,
  sessionConfig,
  SessionConfig,
  validateEnv,
} from '../config';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AccountModule } from './account/account.module';
import { AdminModule } from './admin/admin.module';
import { Clock } from './common/clock';
import { CommonModule } from './common/common.module';
import { createValidationPipe } from './common/validation';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { OperationsModule } from './operations/operations.module';
import { SessionModule, SessionModuleOptions } from './sessions';
import { SweepModule } from './sweep/sweep.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * This app's environment, validated by ConfigModule at start-up, mapped onto SessionModule's
 * options: the one place env variables reach the session library.
 */
export function sessionOptionsFromConfig(
  auth: AuthConfig,
  session: SessionConfig,
  clock: Clock,
): SessionModuleOptions {
  return {
    secrets: auth.jwtSecrets,
    accessTokenTtlSeconds: auth.accessTokenTtlSeconds,
    tokenClaims: {
      issuer: auth.tokenIssuer,
      audience: auth.tokenAudience,
      clockSkewSeconds: auth.clockSkewSeconds,
    },
    refreshReuseGraceSeconds: auth.refreshReuseGraceSeconds,
    idleTimeoutSeconds: session.idleTimeoutSeconds,
    absoluteTimeoutSeconds: session.absoluteTimeoutSeconds,
    maxSessionsPerUser: session.maxPerUser,
    retentionSeconds: session.retentionSeconds,
    lastSeenWriteIntervalSeconds: session.lastSeenWriteIntervalSeconds,
    // The app's only @RequireRecentAuth() routes are the admin's user changes.
    recentAuthMaxAgeSeconds: auth.adminReauthMaxAgeSeconds,
    cache: { ttlMs: session.cacheTtlMs, watch: session.cacheWatch },
    loginRateLimit: {
      limit: auth.loginRateLimit,
      ipLimit: auth.loginIpRateLimit,
      windowSeconds: 60,
    },
    badTokenRateLimit: { limit: auth.badTokenIpRateLimit, windowSeconds: 60 },
    passwordHashing: {
      memoryCostKib: auth.passwordHash.memoryCost,
      timeCost: auth.passwordHash.timeCost,
      parallelism: auth.passwordHash.parallelism,
      concurrency: auth.passwordHash.concurrency,
      queue: auth.passwordHash.queue,
    },
    trustedDevices: { maxAgeSeconds: auth.trustedDeviceMaxAgeSeconds },
    transport: { tokens: auth.tokenTransport, cookies: { secure: auth.secureCookies } },
    initialAdmin:
      auth.adminUsername && auth.adminPassword
        ? { username: auth.adminUsername, password: auth.adminPassword }
        : undefined,
    clock,
  };
}

/** Injected into sessionOptionsFromConfig, in its parameter order. */
export const SESSION_OPTIONS_INJECT = [authConfig.KEY, sessionConfig.KEY, Clock];

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv, cache: true }),
    CommonModule,
    DatabaseModule,
    // Session events (SessionEvents) go through it; WebhooksModule and host listeners subscribe.
    EventEmitterModule.forRoot(),
    SessionModule.forRootAsync({
      inject: SESSION_OPTIONS_INJECT,
      useFactory: sessionOptionsFromConfig,
    }),
    AdminModule,
    AccountModule,
    OperationsModule,
    HealthModule,
    SweepModule,
    WebhooksModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
export class AppModule {}
