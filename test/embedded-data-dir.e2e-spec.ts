import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { AppModule } from '../src/app.module';
import { configureApp, createHttpAdapter, type NestHttpApplication } from '../src/app.setup';
import { appConfig } from '../config';
import { UsersService } from '../src/users/users.service';
import { TEST_ENV, TEST_PLATFORM } from './support/app';

/**
 * The app without MONGODB_URI starts the embedded engine; EMBEDDED_MONGO_DATA_DIR makes what it
 * stores outlive the process. Only meaningful on the embedded engine itself.
 */
const embeddedOnly = process.env.MONGODB_URI ? describe.skip : describe;

async function startApp(env: Record<string, string>): Promise<NestHttpApplication> {
  const overrides: Record<string, string | undefined> = {
    ...TEST_ENV,
    ...(TEST_PLATFORM ? { HTTP_PLATFORM: TEST_PLATFORM } : {}),
    ...env,
    MONGODB_URI: undefined,
  };
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(overrides)) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    // The adapter the configuration names: configureApp sets up that platform's body parsing.
    const app = moduleRef.createNestApplication<NestHttpApplication>(
      createHttpAdapter(appConfig()),
      {
        logger: false,
        rawBody: true,
      },
    );
    configureApp(app);
    await app.init();
    if (appConfig().httpPlatform === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
    return app;
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

embeddedOnly('the app on the embedded engine with EMBEDDED_MONGO_DATA_DIR (e2e)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nest-sessions-data-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps users and sessions across a restart of the app', async () => {
    const env = { EMBEDDED_MONGO_DATA_DIR: dir, EMBEDDED_MONGO_REPLICA_SET: 'rs0' };
    const first = await startApp(env);
    let accessToken: string;
    try {
      await first.get(UsersService).create({ username: 'alice', password: 'alice-password' });
      const res = await request(first.getHttpServer())
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(201);
      accessToken = res.body.accessToken as string;
      // The engine runs as the replica set it was asked to be (change streams work on it).
      const hello = await first
        .get<Connection>(getConnectionToken())
        .db!.admin()
        .command({ hello: 1 });
      expect(hello.setName).toBe('rs0');
    } finally {
      await first.close();
    }
    expect(readdirSync(dir)).not.toContain('mongod.lock');

    const second = await startApp(env);
    try {
      // The session issued before the restart is still valid, and the user can log in again.
      const current = await request(second.getHttpServer())
        .get('/sessions/current')
        .set('Authorization', `Bearer ${accessToken}`)
        .expect(200);
      expect(current.body).toMatchObject({ valid: true, user: { username: 'alice' } });
      await request(second.getHttpServer())
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password' })
        .expect(201);
    } finally {
      await second.close();
    }
  });
});
