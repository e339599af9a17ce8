import type { Type } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter, type NestHttpApplication } from '../../src/app.setup';
import { appConfig } from '../../config';
import { Clock, ManualClock } from '../../src/common/clock';
import type { SessionModuleOptions } from '../../src/sessions';
import { UsersService } from '../../src/users/users.service';
import { startTestDatabase, TestDatabase } from './database';

/**
 * The HTTP platform the e2e suites run on: TEST_HTTP_PLATFORM, which each jest project sets
 * (`default`: express, `fastify`: fastify; jest.config.js), else the service's default.
 */
export const TEST_PLATFORM = process.env.TEST_HTTP_PLATFORM;

export interface TestApp {
  app: NestHttpApplication;
  /** A supertest agent on the app's HTTP server. */
  http: () => ReturnType<typeof request>;
  clock: ManualClock;
  connection: Connection;
  db: TestDatabase;
  close(): Promise<void>;
}

/**
 * Test defaults: cheap argon2 (the production cost makes suites crawl on shared cores), high
 * login and bad-token rate limits (tests that log in a lot or send many forged tokens must not
 * be throttled by accident; each limit has its own test), a fixed secret, quiet logs, and no scheduled sweep (it would change sessions
 * under a test at a real-time minute boundary; the sweep's own tests turn it on or call it).
 */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  JWT_SECRET: 'test-3f9c1a7e5b2d8f4a6c0e9b7d1f3a5c8e2b',
  PASSWORD_HASH_MEMORY_KIB: '1024',
  PASSWORD_HASH_TIME_COST: '1',
  LOGIN_RATE_LIMIT: '1000',
  LOGIN_IP_RATE_LIMIT: '100000',
  BAD_TOKEN_IP_RATE_LIMIT: '100000',
  SWEEP_ENABLED: 'false',
};

/**
 * SessionModule options matching TEST_ENV, for host-app test modules that configure the
 * module directly rather than through this app's env mapping.
 */
export const TEST_SESSION_OPTIONS = {
  secrets: [TEST_ENV.JWT_SECRET],
  passwordHashing: { memoryCostKib: 1024, timeCost: 1 },
  loginRateLimit: { limit: 1000 },
} satisfies SessionModuleOptions;

/**
 * Builds the real AppModule on a fresh test database with env overrides applied (restored
 * afterwards) and the Clock replaced by a ManualClock. Pass `options.db` to run on a database
 * you manage yourself (e.g. one you stop and restart); `close()` then leaves it alone. Pass
 * `options.module` to build another root module (e.g. one importing SessionModule with hooks).
 */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { db?: TestDatabase; module?: Type<unknown> } = {},
): Promise<TestApp> {
  const db = options.db ?? (await startTestDatabase());
  const platform = TEST_PLATFORM ? { HTTP_PLATFORM: TEST_PLATFORM } : {};
  const overrides = { ...TEST_ENV, ...platform, ...env, MONGODB_URI: db.uri };
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(overrides)) {
    saved.set(key, process.env[key]);
    process.env[key] = value;
  }
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));
  let app: NestHttpApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [options.module ?? AppModule] })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    app = moduleRef.createNestApplication<NestHttpApplication>(createHttpAdapter(appConfig()), {
      logger: false,
      // as in main.ts: the signed remote routes need the body bytes exactly as sent
      rawBody: true,
    });
    configureApp(app);
    await app.init();
    // Fastify registers routes and plugins on `ready()`; supertest needs them in place.
    if (appConfig().httpPlatform === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
  } catch (error) {
    // A start refused in a lifecycle hook (e.g. the bootstrap admin) has already connected.
    await app?.close().catch(() => undefined);
    if (!options.db) await db.stop();
    throw error;
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const server = app.getHttpServer();
  return {
    app,
    http: () => request(server),
    clock,
    connection: app.get<Connection>(getConnectionToken()),
    db,
    close: async () => {
      await app.close();
      if (!options.db) await db.stop();
    },
  };
}

export async function createUser(
  t: TestApp,
  u: { username: string; password: string; roles?: string[]; groups?: string[] },
): Promise<{ id: string }> {
  const user = await t.app.get(UsersService).create(u);
  return { id: user.id };
}

export interface LoggedIn {
  accessToken: string;
  refreshToken: string;
  session: any;
}

/** Logs in through HTTP and fails the test unless it answers 201. */
export async function login(
  t: TestApp,
  username: string,
  password: string,
  extra: { groups?: string[]; label?: string; userAgent?: string } = {},
): Promise<LoggedIn> {
  const { userAgent, ...body } = extra;
  const req = t.http().post('/auth/login');
  if (userAgent) req.set('User-Agent', userAgent);
  const res = await req.send({ username, password, ...body });
  if (res.status !== 201) {
    throw new Error(`login ${username} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body as LoggedIn;
}

/** `Authorization` header value for an access token. */
export const bearer = (token: string) => `Bearer ${token}`;

/** Two instances of the app on one database of their own, clocks in step. */
export interface TwoInstances {
  db: TestDatabase;
  a: TestApp;
  b: TestApp;
  /** Closes both apps, then stops the database. */
  close(): Promise<void>;
}

/** Two instances of the service on one fresh database, as behind a load balancer. */
export async function createTwoInstances(
  env: Record<string, string>,
  database?: Parameters<typeof startTestDatabase>[0],
): Promise<TwoInstances> {
  const db = await startTestDatabase(database);
  const a = await createTestApp(env, { db });
  const b = await createTestApp(env, { db });
  b.clock.set(a.clock.now());
  return {
    db,
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      await db.stop();
    },
  };
}
