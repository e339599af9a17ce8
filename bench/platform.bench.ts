/**
 * nest-sessions on each HTTP platform against bare peers with no framework on top, side by side
 * in one run on one engine: the same `GET /sessions/current` JSON, 32 connections, from
 * - this service's production build (NODE_ENV=production, LOG_LEVEL=warn) on Express and on
 *   Fastify (HTTP_PLATFORM), every security behaviour on (headers, validation, request ids,
 *   logging, the session check against the session cache);
 * - bare Express 5 + passport-jwt with a KeyObject secret (stateless: nothing can be revoked);
 * - bare Express 5 + express-session + connect-mongo (`touchAfter: 60`) on the same engine;
 * - bare Fastify 5 + @fastify/jwt (stateless).
 * Every app is its own process; the load comes from here. Runs interleaved, median of runs.
 */
import { expectStatus, login } from './lib/http';
import { compareTargets, describeCpu, round, summarize, totalCpuMs } from './lib/load';
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
const CONNECTIONS = 32;

async function main(): Promise<void> {
  let engine: Engine | undefined;
  const apps: App[] = [];
  try {
    engine = await startEngine();
    const uri = engine.uri;
    const ours = (platform: string) =>
      startApp(`nest-sessions (${platform})`, 'dist/src/main.js', {
        env: appEnv(`${uri}/bench_platform_${platform}`, {
          HTTP_PLATFORM: platform,
          LOG_LEVEL: 'warn',
          LOGIN_RATE_LIMIT: '1000',
        }),
      });
    const bare = (name: string, script: string, env: Record<string, string>) =>
      startApp(name, script, { nodeArgs: TS_NODE, env: { NODE_ENV: 'production', ...env } });
    const [express, fastify, expressJwt, expressSession, fastifyJwt] = await Promise.all([
      ours('express'),
      ours('fastify'),
      bare('bare Express + passport-jwt', 'bench/apps/bare/express-jwt.ts', {
        JWT_SECRET: BENCH_JWT_SECRET,
      }),
      bare('bare Express + express-session', 'bench/apps/bare/express-session.ts', {
        MONGODB_URI: uri,
        SESSION_SECRET: BENCH_JWT_SECRET,
      }),
      bare('bare Fastify + @fastify/jwt', 'bench/apps/bare/fastify-jwt.ts', {
        JWT_SECRET: BENCH_JWT_SECRET,
      }),
    ]);
    apps.push(express, fastify, expressJwt, expressSession, fastifyJwt);

    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const oursToken = async (app: App) =>
      (await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password)).accessToken;
    const bareToken = async (app: App) =>
      (
        await expectStatus(201, 'POST', `${app.baseUrl}/auth/login`, {
          body: { username: BENCH_ADMIN.username },
        })
      ).body.accessToken as string;
    const sessionLogin = await expectStatus(201, 'POST', `${expressSession.baseUrl}/auth/login`, {
      body: { username: BENCH_ADMIN.username },
    });
    const cookie = (sessionLogin.headers.get('set-cookie') ?? '').split(';')[0];
    if (!cookie.startsWith('connect.sid=')) throw new Error(`no session cookie: ${cookie}`);

    const targets = [
      { name: 'nest-sessions on Express', app: express, headers: bearer(await oursToken(express)) },
      { name: 'nest-sessions on Fastify', app: fastify, headers: bearer(await oursToken(fastify)) },
      {
        name: 'bare Express + passport-jwt (KeyObject)',
        app: expressJwt,
        headers: bearer(await bareToken(expressJwt)),
      },
      {
        name: 'bare Express + express-session + connect-mongo',
        app: expressSession,
        headers: { cookie },
      },
      {
        name: 'bare Fastify + @fastify/jwt',
        app: fastifyJwt,
        headers: bearer(await bareToken(fastifyJwt)),
      },
    ];
    // Each must refuse a request without credentials and answer the caller with one.
    for (const t of targets) {
      await expectStatus(401, 'GET', `${t.app.baseUrl}/sessions/current`);
      await expectStatus(200, 'GET', `${t.app.baseUrl}/sessions/current`, { headers: t.headers });
    }

    console.log(`measuring GET /sessions/current, ${CONNECTIONS} connections`);
    const series = await compareTargets(
      targets.map((t) => ({
        name: t.name,
        target: {
          url: `${t.app.baseUrl}/sessions/current`,
          headers: t.headers,
          connections: CONNECTIONS,
          expectStatus: 200,
          cpuOf: { app: t.app.pid, engine: engine!.pid },
        },
      })),
    );
    const s = series.map(summarize);
    const [onExpress, onFastify, jwt, session, fjwt] = s;
    const best = onFastify.requestsPerSec >= onExpress.requestsPerSec ? onFastify : onExpress;
    const bestName = best === onFastify ? 'Fastify' : 'Express';
    const ratio = (a: number, b: number) => round(a / b, 3);
    const goals: Goal[] = [
      ratioGoal(
        `nest-sessions (best platform: ${bestName}) vs bare Express + passport-jwt`,
        ratio(best.requestsPerSec, jwt.requestsPerSec),
        0.9,
      ),
      ratioGoal(
        `nest-sessions (best platform: ${bestName}) vs bare Express + express-session + connect-mongo`,
        ratio(best.requestsPerSec, session.requestsPerSec),
        2,
      ),
    ];
    const cpu = (x: typeof onExpress) => round(totalCpuMs(x), 3);
    report({
      name: 'platform',
      title: 'nest-sessions on Express and Fastify vs bare peers (GET /sessions/current)',
      method:
        'One engine; five app processes: the production build (NODE_ENV=production, LOG_LEVEL=warn) ' +
        'with HTTP_PLATFORM=express and =fastify, and bare Express/Fastify peers without a framework ' +
        '(bench/apps/bare/). Autocannon from the bench process, ' +
        `${CONNECTIONS} connections, runs interleaved, median of runs. Command: npm run bench:platform.`,
      figures: [
        ...targets.map((t, i) => ({
          name: t.name,
          value: s[i].requestsPerSec,
          unit: 'req/s',
          note: `p50 ${s[i].p50Ms} ms, p99 ${s[i].p99Ms} ms; CPU per request: ${describeCpu(s[i])}`,
        })),
        {
          name: 'Fastify / Express (nest-sessions)',
          value: ratio(onFastify.requestsPerSec, onExpress.requestsPerSec),
          unit: '×',
        },
        {
          name: 'nest-sessions on Express / bare passport-jwt',
          value: ratio(onExpress.requestsPerSec, jwt.requestsPerSec),
          unit: '×',
        },
        {
          name: 'nest-sessions on Fastify / bare passport-jwt',
          value: ratio(onFastify.requestsPerSec, jwt.requestsPerSec),
          unit: '×',
        },
        {
          name: 'nest-sessions on Express / bare express-session',
          value: ratio(onExpress.requestsPerSec, session.requestsPerSec),
          unit: '×',
        },
        {
          name: 'nest-sessions on Fastify / bare express-session',
          value: ratio(onFastify.requestsPerSec, session.requestsPerSec),
          unit: '×',
        },
        {
          name: 'nest-sessions on Fastify / bare @fastify/jwt',
          value: ratio(onFastify.requestsPerSec, fjwt.requestsPerSec),
          unit: '×',
        },
        {
          name: 'CPU per request (app + engine), ms',
          value: `${cpu(onExpress)} / ${cpu(onFastify)} / ${cpu(jwt)} / ${cpu(session)} / ${cpu(fjwt)}`,
          note: 'in the order above: what req/s would track if each app had the CPU to itself',
        },
      ],
      goals,
      details: { connections: CONNECTIONS, series },
    });
  } finally {
    await stopAll(...apps, engine);
  }
}

runBench(main);
