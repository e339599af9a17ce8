import { ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { MongoClient } from 'mongodb';
import type { Test } from 'supertest';
import { SERVER_SELECTION_TIMEOUT_MS } from '../../src/database/database.module';
import {
  AppProcess,
  ENGINE_CLI,
  nodeArgsFor,
  refusesConnections,
  startAppProcess,
} from '../support/app-process';
import { bearer, createTestApp, createUser, login, TestApp } from '../support/app';
import { startTestDatabase, TestDatabase } from '../support/database';
import { assertErrorShape } from '../support/hostile';

const PASSWORD = 'a-long-password-for-faults';
/**
 * Every request must settle within this, database or no database: the driver gives up on an
 * unreachable server after SERVER_SELECTION_TIMEOUT_MS (2.5 s); the rest is slack for the
 * shared, busy CPUs the suite runs on (the app and its 20 clients share one event loop).
 */
const SETTLE_MS = SERVER_SELECTION_TIMEOUT_MS + 5000;

interface EngineProcess {
  child: ChildProcess;
  port: number;
  uri: string;
}

/** `npm run mongo:embedded` as a child process: a database we can kill -9 under the app. */
async function startEngineProcess(port = 0): Promise<EngineProcess> {
  const child = spawn(process.execPath, [...nodeArgsFor(ENGINE_CLI), '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const uri = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`engine did not start: ${err}`)), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const line = out.split('\n').find((l) => /^mongodb:\/\/127\.0\.0\.1:\d+$/.test(l.trim()));
      if (line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code}: ${err}`));
    });
  });
  return { child, uri, port: Number(new URL(uri).port) };
}

async function killEngine(engine: EngineProcess): Promise<void> {
  if (engine.child.exitCode !== null || engine.child.signalCode !== null) return;
  const exited = new Promise((resolve) => engine.child.once('exit', resolve));
  engine.child.kill('SIGKILL');
  await exited;
}

type Sample = { route: string; status: number; ms: number; body: unknown };

/**
 * Issue #6 hardening: the database dies under load and comes back; the service answers 503
 * meanwhile, never 500, never hangs, never dies, and serves again without a restart.
 */
describe('the database goes away under load (e2e)', () => {
  let engine: EngineProcess;
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    engine = await startEngineProcess();
    t = await createTestApp(
      {},
      { db: { uri: `${engine.uri}/faults`, dbName: 'faults', stop: async () => undefined } },
    );
    await createUser(t, { username: 'alice', password: PASSWORD });
  }, 60_000);
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await t?.close();
    if (engine) await killEngine(engine);
  });

  it('answers only 2xx, 401 or 503 within the bound while the engine is killed and restarted, then serves again', async () => {
    // What the error filter logs for a 500 (the stack) goes into the failure message: the cause
    // of a rare 500 under a killed engine is otherwise lost with the app's silenced logs.
    const logged: string[] = [];
    const logError = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((message: unknown) => void logged.push(String(message)));
    const s = await login(t, 'alice', PASSWORD);
    const samples: Sample[] = [];
    let phase: 'up' | 'down' | 'back' = 'up';
    const byPhase: Record<string, Sample[]> = { up: [], down: [], back: [] };
    let running = true;

    const requests: [string, () => Test][] = [
      [
        'POST /auth/login',
        () => t.http().post('/auth/login').send({ username: 'alice', password: PASSWORD }),
      ],
      [
        'GET /sessions',
        () => t.http().get('/sessions').set('Authorization', bearer(s.accessToken)),
      ],
      [
        'GET /sessions/current',
        () => t.http().get('/sessions/current').set('Authorization', bearer(s.accessToken)),
      ],
      [
        'PATCH /sessions/current/data',
        () =>
          t
            .http()
            .patch('/sessions/current/data')
            .set('Authorization', bearer(s.accessToken))
            .send({ n: samples.length }),
      ],
      [
        'POST /auth/refresh',
        () => t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }),
      ],
      ['GET /health', () => t.http().get('/health')],
    ];
    const worker = async (w: number) => {
      for (let i = w; running; i++) {
        const [route, make] = requests[i % requests.length];
        const started = Date.now();
        const res = await make().timeout(SETTLE_MS + 3000);
        const sample = { route, status: res.status, ms: Date.now() - started, body: res.body };
        samples.push(sample);
        byPhase[phase].push(sample);
      }
    };
    const workers = Array.from({ length: 20 }, (_, w) => worker(w));
    const waitFor = async (ok: () => boolean, ms: number) => {
      const until = Date.now() + ms;
      while (!ok() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return ok();
    };

    try {
      await waitFor(() => byPhase.up.length >= 60, 20_000);
      phase = 'down';
      await killEngine(engine);
      // Long enough for requests to run into the dead server and the driver to notice.
      expect(
        await waitFor(() => byPhase.down.filter((x) => x.status === 503).length >= 20, 20_000),
      ).toBe(true);
      phase = 'back';
      engine = await startEngineProcess(engine.port);
      // The in-memory engine came back empty: a login answering 401 proves it is reachable.
      const recovered = await waitFor(
        () => byPhase.back.some((x) => x.route === 'POST /auth/login' && x.status === 401),
        20_000,
      );
      expect(recovered).toBe(true);
    } finally {
      running = false;
      await Promise.all(workers);
      logError.mockRestore();
    }

    for (const x of samples) {
      const what = `${x.route} → ${x.status} in ${x.ms} ms: ${JSON.stringify(x.body)}${
        x.status === 500 ? `\nlogged: ${logged.join('\n')}` : ''
      }`;
      expect({ what, allowed: [200, 201, 401, 503].includes(x.status) }).toEqual({
        what,
        allowed: true,
      });
      expect({ what, settled: x.ms <= SETTLE_MS }).toEqual({ what, settled: true });
      if (x.route === 'GET /health') {
        expect(x.body).toEqual(
          x.status === 200 ? { status: 'ok', db: 'up' } : { status: 'error', db: 'down' },
        );
      } else if (x.status >= 400) {
        const code = assertErrorShape(x.route, x.status, x.body);
        if (x.status === 401)
          expect(['SESSION_EXPIRED', 'INVALID_CREDENTIALS', 'REFRESH_TOKEN_INVALID']).toContain(
            code,
          );
      }
    }
    // While up, everything worked (the refresh token is the first one: its replays are within
    // the grace window or, later, reuse).
    for (const x of byPhase.up) {
      if (x.route !== 'POST /auth/refresh') expect(x.status).toBeLessThan(300);
    }
    expect(unhandled).toEqual([]);

    // Served again without a restart: the same app, a new user on the new engine.
    await createUser(t, { username: 'alice', password: PASSWORD });
    const again = await login(t, 'alice', PASSWORD);
    await t.http().get('/sessions').set('Authorization', bearer(again.accessToken)).expect(200);
    await t.http().get('/health').expect(200);
  }, 120_000);
});

/**
 * SIGTERM while many requests are in flight: each of them completes (not 5xx, not cut off), what
 * they wrote is in the database, and the process exits 0. Extends the single-request case in
 * test/lifecycle.e2e-spec.ts to load.
 */
describe('SIGTERM under load (e2e)', () => {
  let db: TestDatabase;
  let app: AppProcess;
  const ADMIN = { username: 'root', password: 'a-long-admin-password-for-faults' };

  beforeAll(async () => {
    db = await startTestDatabase();
    app = await startAppProcess({
      MONGODB_URI: db.uri,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'faults-5e1a9d3c7f2b6e0a8d4c1f7b3e9a5d2c',
      SWEEP_ENABLED: 'false',
      LOGIN_RATE_LIMIT: '1000',
      LOGIN_IP_RATE_LIMIT: '1000',
      // 16 logins in flight at once at the production hashing cost: room for all of them to
      // wait (the default refuses past 4 running and 8 waiting, see test/login-flood).
      PASSWORD_HASH_QUEUE: '64',
    });
  }, 60_000);
  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.kill('SIGKILL');
      await app.exited;
    }
    await db?.stop();
  });

  /** A request whose headers the server has taken in; its body is sent when `finish()` is called. */
  const held = async (method: string, path: string, body: object, token?: string) => {
    const text = JSON.stringify(body);
    const req = httpRequest({
      host: '127.0.0.1',
      port: app.port,
      method,
      path,
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        expect: '100-continue',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    const response = new Promise<{ status: number; body: any; connection?: string }>(
      (resolve, reject) => {
        req.on('response', (res: IncomingMessage) => {
          let data = '';
          res.setEncoding('utf8').on('data', (c: string) => (data += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: data ? JSON.parse(data) : null,
              connection: res.headers.connection,
            }),
          );
        });
        req.on('error', reject);
      },
    );
    await new Promise<void>((resolve) => req.on('continue', resolve));
    return { finish: () => (req.end(text), response) };
  };

  it('completes every request in flight, keeps what they wrote, and exits 0', async () => {
    const call = async (path: string, body: object, token?: string) => {
      const res = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return (await res.json()) as any;
    };
    const admin = await call('/auth/login', ADMIN);
    const users = Array.from({ length: 8 }, (_, i) => `drain-user-${i}`);
    const devices = await Promise.all(
      Array.from({ length: 8 }, () => call('/auth/login', { ...ADMIN, label: 'device' })),
    );

    // 24 requests in flight at once: logins, user creations and data writes.
    const inFlight = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) =>
        held('POST', '/auth/login', { ...ADMIN, label: `drain-${i}` }),
      ),
      ...users.map((username) =>
        held(
          'POST',
          '/admin/users',
          { username, password: 'a-long-password-0' },
          admin.accessToken,
        ),
      ),
      ...devices.map((d, i) =>
        held('PUT', '/sessions/current/data', { drained: i }, d.accessToken),
      ),
    ]);

    app.kill('SIGTERM');
    await refusesConnections(app.port, 10_000);
    const answers = await Promise.all(inFlight.map((r) => r.finish()));

    expect(answers.map((a) => a.status)).toEqual([
      ...Array(8).fill(201),
      ...Array(8).fill(201),
      ...Array(8).fill(200),
    ]);
    for (const a of answers) expect(a.connection).toBe('close');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const client = await MongoClient.connect(db.uri);
    try {
      const store = client.db(db.dbName);
      expect(await store.collection('sessions').countDocuments({ label: /^drain-/ })).toBe(8);
      expect(await store.collection('users').countDocuments({ username: { $in: users } })).toBe(8);
      const data = await store
        .collection('sessions')
        .find({ label: 'device' })
        .project({ data: 1 })
        .toArray();
      expect(data.map((d) => d.data.drained).sort((a, b) => a - b)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7,
      ]);
    } finally {
      await client.close();
    }
  }, 90_000);
});
