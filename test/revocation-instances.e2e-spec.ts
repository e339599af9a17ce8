import request from 'supertest';
import { AppProcess, startAppProcess } from './support/app-process';
import { TEST_ENV } from './support/app';
import { startTestDatabase, TestDatabase } from './support/database';

const ADMIN = { username: 'root', password: 'a-long-admin-password-for-tests' };
const WATCHING = 'revocation by any instance reaches this cache at once';
const FALLBACK = 'reaches this one within the cache lifetime';

/** Two service processes starting on shared, busy cores. */
const START_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts A then B into `apps`, so that afterAll stops whatever started even if a start times out. */
async function startPair(db: TestDatabase, cacheTtlMs: number, apps: AppProcess[]): Promise<void> {
  const env = {
    ...TEST_ENV,
    LOG_LEVEL: 'info',
    MONGODB_URI: db.uri,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    SESSION_CACHE_TTL_MS: String(cacheTtlMs),
  };
  // One after the other: both would otherwise race to create the admin user.
  apps.push(await startAppProcess(env));
  apps.push(await startAppProcess(env));
}

async function stopAll(apps: AppProcess[]): Promise<void> {
  for (const app of apps) {
    if (app.child.exitCode === null && app.child.signalCode === null) app.kill('SIGTERM');
    await app.exited;
  }
}

async function signIn(app: AppProcess): Promise<string> {
  const res = await request(app.url).post('/auth/login').send(ADMIN);
  if (res.status !== 201) throw new Error(`login answered ${res.status}`);
  return res.body.accessToken as string;
}

const list = (app: AppProcess, token: string) =>
  request(app.url).get('/sessions').set('Authorization', `Bearer ${token}`);

/**
 * Two instances of the built service, each its own process with its own session cache, on one
 * database: the deployment the revocation guarantee is about.
 */
describe('revocation across two service processes (e2e)', () => {
  describe('on a replica set (the engine started with a replica set name)', () => {
    let db: TestDatabase;
    const apps: AppProcess[] = [];

    beforeAll(async () => {
      db = await startTestDatabase({ replicaSet: 'rs0' });
      // A day: nothing in this test waits for a cache entry to age out.
      await startPair(db, 24 * 3600 * 1000, apps);
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await stopAll(apps);
      await db?.stop();
    });

    it(
      'says at start-up that it watches, and B refuses a session signed out on A',
      async () => {
        const [a, b] = apps;
        for (const app of apps) await app.waitForLine((l) => l.includes(WATCHING));
        const token = await signIn(a);
        expect((await list(b, token)).status).toBe(200); // B has it cached now
        await request(a.url)
          .post('/auth/logout')
          .set('Authorization', `Bearer ${token}`)
          .expect(204);
        // Polled, with a bound far under the day-long cache lifetime: B refuses because the
        // change reached it, not because its cache entry aged out.
        const deadline = Date.now() + 10_000;
        let res = await list(b, token);
        while (res.status === 200 && Date.now() < deadline) {
          await sleep(20);
          res = await list(b, token);
        }
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('SESSION_ENDED');
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('on a standalone server (no change streams)', () => {
    let db: TestDatabase;
    const apps: AppProcess[] = [];
    const TTL_MS = 8000;

    beforeAll(async () => {
      db = await startTestDatabase();
      await startPair(db, TTL_MS, apps);
    }, START_TIMEOUT_MS);
    afterAll(async () => {
      await stopAll(apps);
      await db?.stop();
    });

    it(
      'says once that it falls back, and B honours a signed-out session until its cache entry ages out',
      async () => {
        if (process.env.MONGODB_URI) return; // the configured server decides
        const [a, b] = apps;
        for (const app of apps) {
          await app.waitForLine((l) => l.includes(FALLBACK));
          expect(app.lines.filter((l) => l.includes(FALLBACK))).toHaveLength(1);
        }
        const token = await signIn(a);
        expect((await list(b, token)).status).toBe(200);
        await request(a.url)
          .post('/auth/logout')
          .set('Authorization', `Bearer ${token}`)
          .expect(204);
        expect((await list(a, token)).status).toBe(401);
        expect((await list(b, token)).status).toBe(200);
        const deadline = Date.now() + TTL_MS + 20_000;
        let res = await list(b, token);
        while (res.status === 200 && Date.now() < deadline) {
          await sleep(100);
          res = await list(b, token);
        }
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('SESSION_ENDED');
      },
      TEST_TIMEOUT_MS,
    );
  });
});
