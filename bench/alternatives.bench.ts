/**
 * nest-sessions against the usual alternatives, side by side in one run on one database server:
 * the same `GET /sessions/current` JSON behind (1) nest-sessions' SessionGuard, (2) a stateless
 * passport-jwt `AuthGuard('jwt')` — the upper bound, since it looks nothing up — with the secret
 * as a string (what passport-jwt's README shows) and as a KeyObject, and (3) express-session with
 * connect-mongo. Every app is its own process; the engine is a third; the load comes from here.
 *
 * Those alternatives are minimal apps, while nest-sessions runs its whole production stack
 * (helmet, pino, validation pipe, exception filter, guards). So a second comparison runs all
 * three inside ONE production process (bench/apps/guard-probe-app.ts): `GET /sessions/current`
 * against bench-only routes behind passport-jwt (KeyObject secret) and express-session +
 * connect-mongo, which isolates the session check itself.
 */
import { createSecretKey } from 'node:crypto';
import { sign, verify } from 'jsonwebtoken';
import { expectStatus, login } from './lib/http';
import {
  compareTargets,
  describeCpu,
  round,
  summarize,
  totalCpuMs,
  type Summary,
} from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  BENCH_JWT_SECRET,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { report, runBench, type Goal, ratioGoal } from './lib/results';

const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** In-process cost of one jsonwebtoken verify with each kind of secret (µs, median of 5 batches). */
function jwtVerifyMicros(): { stringSecretUs: number; keyObjectUs: number } {
  const key = createSecretKey(Buffer.from(BENCH_JWT_SECRET));
  const token = sign(
    { sub: 'u', sid: 's', username: 'u', roles: ['user'], groups: [] },
    BENCH_JWT_SECRET,
    {
      expiresIn: 900,
    },
  );
  const time = (secret: string | ReturnType<typeof createSecretKey>) => {
    const n = 500;
    const batches: number[] = [];
    for (let b = 0; b < 5; b++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) verify(token, secret);
      batches.push(Number(process.hrtime.bigint() - t0) / n / 1000);
    }
    batches.sort((a, c) => a - c);
    return round(batches[2], 1);
  };
  time(key); // warm-up
  return { stringSecretUs: time(BENCH_JWT_SECRET), keyObjectUs: time(key) };
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  const apps: App[] = [];
  try {
    engine = await startEngine();
    console.log(`engine at ${engine.uri} (pid ${engine.pid})`);
    const uri = engine.uri;
    const [ours, jwtString, jwtKeyObject, expressSession, stack] = await Promise.all([
      startApp('nest-sessions', 'dist/src/main.js', {
        env: appEnv(`${uri}/bench_alternatives`, { LOGIN_RATE_LIMIT: '1000' }),
      }),
      startApp('passport-jwt (string secret)', 'bench/alternatives/jwt-app.ts', {
        nodeArgs: TS_NODE,
        env: { JWT_SECRET: BENCH_JWT_SECRET, JWT_KEY_MODE: 'string', NODE_ENV: 'production' },
      }),
      startApp('passport-jwt (KeyObject secret)', 'bench/alternatives/jwt-app.ts', {
        nodeArgs: TS_NODE,
        env: { JWT_SECRET: BENCH_JWT_SECRET, JWT_KEY_MODE: 'keyobject', NODE_ENV: 'production' },
      }),
      startApp('express-session + connect-mongo', 'bench/alternatives/express-session-app.ts', {
        nodeArgs: TS_NODE,
        env: {
          MONGODB_URI: uri,
          SESSION_DB: 'bench_express_session',
          SESSION_SECRET: BENCH_JWT_SECRET,
          NODE_ENV: 'production',
        },
      }),
      startApp('nest-sessions + alternatives on its stack', 'bench/apps/guard-probe-app.ts', {
        nodeArgs: TS_NODE,
        env: appEnv(`${uri}/bench_alternatives_stack`, { LOGIN_RATE_LIMIT: '1000' }),
      }),
    ]);
    apps.push(ours, jwtString, jwtKeyObject, expressSession, stack);

    const { accessToken } = await login(ours.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
    const jwtLogin = (app: App) =>
      expectStatus(201, 'POST', `${app.baseUrl}/auth/login`, {
        body: { username: BENCH_ADMIN.username },
      }).then((r) => r.body.accessToken as string);
    const [stringToken, keyObjectToken] = await Promise.all([
      jwtLogin(jwtString),
      jwtLogin(jwtKeyObject),
    ]);
    const sessionLogin = await expectStatus(201, 'POST', `${expressSession.baseUrl}/auth/login`, {
      body: { username: BENCH_ADMIN.username },
    });
    const cookie = (sessionLogin.headers.get('set-cookie') ?? '').split(';')[0];
    if (!cookie.startsWith('connect.sid='))
      throw new Error(`express-session gave no cookie: ${cookie}`);

    const stackToken = (await login(stack.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password))
      .accessToken;
    const stackJwt = (
      await expectStatus(201, 'POST', `${stack.baseUrl}/bench/jwt/login`, {
        body: { username: BENCH_ADMIN.username },
      })
    ).body.accessToken as string;
    const stackLogin = await expectStatus(
      201,
      'POST',
      `${stack.baseUrl}/bench/express-session/login`,
      { body: { username: BENCH_ADMIN.username } },
    );
    const stackCookie = (stackLogin.headers.get('set-cookie') ?? '').split(';')[0];
    if (!stackCookie.startsWith('connect.sid='))
      throw new Error(`express-session (same stack) gave no cookie: ${stackCookie}`);

    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // Each route must refuse a request without credentials, or the comparison means nothing.
    for (const app of apps) await expectStatus(401, 'GET', `${app.baseUrl}/sessions/current`);
    for (const path of ['/bench/jwt/current', '/bench/express-session/current']) {
      await expectStatus(401, 'GET', `${stack.baseUrl}${path}`);
    }
    const targets = [
      { name: 'nest-sessions SessionGuard', app: ours, headers: bearer(accessToken) },
      { name: 'passport-jwt, string secret', app: jwtString, headers: bearer(stringToken) },
      {
        name: 'passport-jwt, KeyObject secret',
        app: jwtKeyObject,
        headers: bearer(keyObjectToken),
      },
      { name: 'express-session + connect-mongo', app: expressSession, headers: { cookie } },
      {
        name: 'same stack: nest-sessions SessionGuard',
        app: stack,
        headers: bearer(stackToken),
      },
      {
        name: 'same stack: passport-jwt, KeyObject secret',
        app: stack,
        path: '/bench/jwt/current',
        headers: bearer(stackJwt),
      },
      {
        name: 'same stack: express-session + connect-mongo',
        app: stack,
        path: '/bench/express-session/current',
        headers: { cookie: stackCookie },
      },
    ].map((t) => ({ path: '/sessions/current', ...t }));
    const bodies = await Promise.all(
      targets.map((t) =>
        expectStatus(200, 'GET', `${t.app.baseUrl}${t.path}`, { headers: t.headers }).then(
          (r) => JSON.stringify(r.body).length,
        ),
      ),
    );

    console.log('measuring GET /sessions/current (and its same-stack counterparts) on each app');
    const series = await compareTargets(
      targets.map((t) => ({
        name: t.name,
        target: {
          url: `${t.app.baseUrl}${t.path}`,
          headers: t.headers,
          expectStatus: 200,
          cpuOf: { app: t.app.pid, engine: engine!.pid },
        },
      })),
    );
    const summaries = series.map(summarize);
    const [s, jwtS, jwtK, es, stackOurs, stackJwtK, stackEs] = summaries;
    const ratio = (a: number, b: number) => round(a / b, 3);
    const cpuRatio = (other: Summary) => round(totalCpuMs(other) / totalCpuMs(s), 3);
    const vsJwtString = ratio(s.requestsPerSec, jwtS.requestsPerSec);
    const vsJwtKey = ratio(s.requestsPerSec, jwtK.requestsPerSec);
    const vsExpress = ratio(s.requestsPerSec, es.requestsPerSec);
    const stackVsJwt = ratio(stackOurs.requestsPerSec, stackJwtK.requestsPerSec);
    const stackVsExpress = ratio(stackOurs.requestsPerSec, stackEs.requestsPerSec);
    const micro = jwtVerifyMicros();

    const goals: Goal[] = [
      ratioGoal(
        'minimal apps: vs stateless passport-jwt (string secret, the usual setup)',
        vsJwtString,
        0.9,
      ),
      ratioGoal(
        'minimal apps: vs stateless passport-jwt (KeyObject secret, its fastest)',
        vsJwtKey,
        0.9,
      ),
      ratioGoal('minimal apps: vs express-session + connect-mongo', vsExpress, 1, true),
      ratioGoal('same stack: vs stateless passport-jwt (KeyObject secret)', stackVsJwt, 0.9),
      ratioGoal('same stack: vs express-session + connect-mongo', stackVsExpress, 1, true),
    ];
    report({
      name: 'alternatives',
      title: 'Session check vs. the usual alternatives (GET /sessions/current)',
      method:
        'The same JSON on GET /sessions/current from four apps, each its own process on the same engine: ' +
        'nest-sessions is the production build, the alternatives are minimal Nest apps (no helmet, logging, ' +
        'pipe or filter). "Same stack": one production process (bench/apps/guard-probe-app.ts) serving ' +
        'GET /sessions/current and bench-only routes behind passport-jwt and express-session + connect-mongo, ' +
        'so only the session check differs. Autocannon from the bench process, runs interleaved, median of runs.',
      figures: [
        ...targets.map((t, i) => ({
          name: t.name,
          value: summaries[i].requestsPerSec,
          unit: 'req/s',
          note:
            `p50 ${summaries[i].p50Ms} ms, p99 ${summaries[i].p99Ms} ms; ` +
            `CPU per request: ${describeCpu(summaries[i])}`,
        })),
        { name: 'nest-sessions / passport-jwt (string)', value: vsJwtString, unit: '×' },
        { name: 'nest-sessions / passport-jwt (KeyObject)', value: vsJwtKey, unit: '×' },
        { name: 'nest-sessions / express-session', value: vsExpress, unit: '×' },
        {
          name: 'same stack: nest-sessions / passport-jwt (KeyObject)',
          value: stackVsJwt,
          unit: '×',
        },
        {
          name: 'same stack: nest-sessions / express-session',
          value: stackVsExpress,
          unit: '×',
        },
        {
          name: 'the same three ratios from CPU per request',
          value: `${cpuRatio(jwtS)}× / ${cpuRatio(jwtK)}× / ${cpuRatio(es)}×`,
          note: 'their CPU per request ÷ ours (app + engine): what req/s would be if each app had the CPU to itself',
        },
        {
          name: 'jsonwebtoken.verify, string secret',
          value: micro.stringSecretUs,
          unit: 'µs',
          note: 'in-process, one HS256 verify',
        },
        { name: 'jsonwebtoken.verify, KeyObject secret', value: micro.keyObjectUs, unit: 'µs' },
      ],
      goals,
      details: {
        responseBytes: Object.fromEntries(targets.map((t, i) => [t.name, bodies[i]])),
        summaries: Object.fromEntries(targets.map((t, i) => [t.name, summaries[i]])),
        jwtVerifyMicros: micro,
        series,
      },
    });
  } finally {
    await stopAll(...apps, engine);
  }
}

runBench(main);
