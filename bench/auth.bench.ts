/**
 * Login and refresh: throughput under load, latency one at a time, and where login's time goes.
 * argon2id is deliberately expensive (it is what makes a stolen password hash slow to crack), so
 * login is expected to be bound by it; this benchmark says by how much.
 */
import { performance } from 'node:perf_hooks';
import * as argon2 from 'argon2';
import type autocannon from 'autocannon';
import { withDb } from './lib/db';
import { expectStatus, login, pool } from './lib/http';
import {
  compareTargets,
  describeCpu,
  intEnv,
  LOAD,
  median,
  round,
  summarize,
  type LoadTarget,
} from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { report, runBench } from './lib/results';

const DB = 'bench_auth';
/** argon2 runs on libuv's 4 threads over 2 cores: more connections only lengthen the queue. */
const LOGIN_CONNECTIONS = intEnv('BENCH_LOGIN_CONNECTIONS', 8);
const SEQUENTIAL = 20;

async function timeEach(n: number, task: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await task();
    out.push(performance.now() - t0);
  }
  return out;
}

/** The argon2 parameters, read back from a hash the app wrote (`$argon2id$v=19$m=…,t=…,p=…$…`). */
function argonParameters(hash: string): string {
  return /^\$argon2\w+\$v=\d+\$([^$]+)\$/.exec(hash)?.[1] ?? 'unknown';
}

/**
 * `POST /auth/refresh` for a fresh set of sessions: every request presents a token that the
 * previous rotation returned, so each one is a real rotation. The live tokens go round a shared
 * queue (autocannon's per-connection context is reset after each pass over `requests`, so it
 * cannot carry a token); with one request in flight per connection, the queue is never empty.
 */
async function refreshTarget(app: App, engine: Engine, connections: number): Promise<LoadTarget> {
  // A few spare sessions, in case a token is taken for a request that is never sent.
  const tokens = await pool(connections + 8, 4, () =>
    login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password).then((r) => r.refreshToken),
  );
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/auth/refresh',
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ refreshToken: tokens.shift() }) }),
      onResponse: (status, body) => {
        if (status === 200)
          tokens.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
      },
    },
  ];
  return {
    url: `${app.baseUrl}/auth/refresh`,
    method: 'POST',
    requests,
    connections,
    expectStatus: 200,
    cpuOf: { app: app.pid, engine: engine.pid },
  };
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  try {
    engine = await startEngine();
    app = await startApp('nest-sessions', 'dist/src/main.js', {
      env: appEnv(engine.uriFor(DB), { LOGIN_RATE_LIMIT: '100000000' }),
    });
    const base = app.baseUrl;
    const credentials = { username: BENCH_ADMIN.username, password: BENCH_ADMIN.password };

    // One at a time: latency without queueing, and argon2 alone with the app's own parameters.
    const hash = await withDb(engine.uriFor(DB), async (db) => {
      const user = await db.collection('users').findOne({ username: BENCH_ADMIN.username });
      if (typeof user?.passwordHash !== 'string') throw new Error('admin user has no passwordHash');
      return user.passwordHash;
    });
    await login(base, credentials.username, credentials.password); // warm-up
    const loginMs = await timeEach(SEQUENTIAL, () =>
      login(base, credentials.username, credentials.password),
    );
    const { refreshToken } = await login(base, credentials.username, credentials.password);
    let token = refreshToken;
    const refreshMs = await timeEach(SEQUENTIAL, async () => {
      const res = await expectStatus(200, 'POST', `${base}/auth/refresh`, {
        body: { refreshToken: token },
      });
      token = res.body.refreshToken;
    });
    await argon2.verify(hash, credentials.password); // warm-up
    const argonMs = await timeEach(SEQUENTIAL, async () => {
      if (!(await argon2.verify(hash, credentials.password)))
        throw new Error('argon2 verify failed');
    });
    const loginP50 = median(loginMs);
    const argonP50 = median(argonMs);

    console.log('measuring POST /auth/login and POST /auth/refresh under load');
    const series = await compareTargets([
      {
        name: 'POST /auth/login',
        target: {
          url: `${base}/auth/login`,
          method: 'POST',
          body: JSON.stringify(credentials),
          connections: LOGIN_CONNECTIONS,
          expectStatus: 201,
          cpuOf: { app: app.pid, engine: engine.pid },
        },
      },
      { name: 'POST /auth/refresh', target: () => refreshTarget(app!, engine!, LOAD.connections) },
    ]);
    const [loginLoad, refreshLoad] = series.map(summarize);
    const share = round(argonP50 / loginP50, 2);

    report({
      name: 'auth',
      title: 'Login and refresh',
      method:
        `Production build on the engine (separate processes). One at a time: ${SEQUENTIAL} sequential calls each, ` +
        `median. Under load: autocannon, login with ${LOGIN_CONNECTIONS} connections (argon2 is CPU-bound), ` +
        `refresh with ${LOAD.connections}, each connection chaining the token its last refresh returned. ` +
        'argon2.verify timed in the bench process on a hash the app wrote.',
      figures: [
        {
          name: 'login throughput',
          value: loginLoad.requestsPerSec,
          unit: 'req/s',
          note:
            `p50 ${loginLoad.p50Ms} ms, p99 ${loginLoad.p99Ms} ms at ${LOGIN_CONNECTIONS} connections; ` +
            `CPU per login: ${describeCpu(loginLoad)}`,
        },
        {
          name: 'refresh throughput',
          value: refreshLoad.requestsPerSec,
          unit: 'req/s',
          note:
            `p50 ${refreshLoad.p50Ms} ms, p99 ${refreshLoad.p99Ms} ms at ${LOAD.connections} connections; ` +
            `CPU per refresh: ${describeCpu(refreshLoad)}`,
        },
        { name: 'login latency, one at a time (median)', value: round(loginP50, 1), unit: 'ms' },
        {
          name: 'refresh latency, one at a time (median)',
          value: round(median(refreshMs), 1),
          unit: 'ms',
        },
        {
          name: 'argon2.verify alone (median)',
          value: round(argonP50, 1),
          unit: 'ms',
          note: `argon2id ${argonParameters(hash)}`,
        },
        {
          name: 'argon2 share of login latency',
          value: `${Math.round(share * 100)} %`,
          note: `the other ${round(loginP50 - argonP50, 1)} ms: HTTP, validation, user lookup, session insert, token signing`,
        },
      ],
      goals: [],
      details: {
        argonParameters: argonParameters(hash),
        sequentialMs: { login: loginMs, refresh: refreshMs, argon2Verify: argonMs },
        summaries: { login: loginLoad, refresh: refreshLoad },
        series,
      },
    });
  } finally {
    await stopAll(app, engine);
  }
}

runBench(main);
