/**
 * Guard cost: requests per second of routes behind SessionGuard against a `@Public()` route of the
 * same app, side by side in one run. The app is the production build plus one bench-only
 * controller whose public and protected routes run the same handler (bench/apps/guard-probe-app.ts),
 * so that their ratio is the guard's cost alone; `GET /sessions/current` and `GET /health` are
 * the product's own routes. App and engine are separate processes; the load comes from this one.
 */
import { expectStatus, login } from './lib/http';
import { compareTargets, describeCpu, round, summarize, totalCpuMs } from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { report, runBench, ratioGoal } from './lib/results';
import { GUARD_ROUTES, PROTECTED_PROBE, PUBLIC_PROBE, SESSIONS_CURRENT } from './lib/routes';

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  try {
    engine = await startEngine();
    app = await startApp('nest-sessions + guard probe', 'bench/apps/guard-probe-app.ts', {
      nodeArgs: ['-r', 'ts-node/register/transpile-only'],
      env: appEnv(engine.uriFor('bench_guard'), { LOGIN_RATE_LIMIT: '1000' }),
    });
    const { accessToken } = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
    const auth = { authorization: `Bearer ${accessToken}` };

    for (const route of GUARD_ROUTES) {
      // A protected route must refuse a request without a token, or it is not behind the guard.
      if (route.protected) await expectStatus(401, 'GET', `${app.baseUrl}${route.path}`);
      await expectStatus(200, 'GET', `${app.baseUrl}${route.path}`, {
        headers: route.protected ? auth : {},
      });
    }
    console.log(`measuring ${GUARD_ROUTES.map((r) => r.path).join(', ')}`);
    const series = await compareTargets(
      GUARD_ROUTES.map((route) => ({
        name: route.path,
        target: {
          url: `${app!.baseUrl}${route.path}`,
          headers: route.protected ? auth : {},
          expectStatus: 200,
          cpuOf: { app: app!.pid, engine: engine!.pid },
        },
      })),
    );
    const summaries = series.map(summarize);
    const rps = (route: (typeof GUARD_ROUTES)[number]) =>
      summaries[GUARD_ROUTES.indexOf(route)].requestsPerSec;
    const cpu = (route: (typeof GUARD_ROUTES)[number]) =>
      totalCpuMs(summaries[GUARD_ROUTES.indexOf(route)]);
    const cpuRatio = (route: (typeof GUARD_ROUTES)[number]) =>
      round(cpu(PUBLIC_PROBE) / cpu(route), 3);
    const guardOnly = round(rps(PROTECTED_PROBE) / rps(PUBLIC_PROBE), 3);
    const current = round(rps(SESSIONS_CURRENT) / rps(PUBLIC_PROBE), 3);

    report({
      name: 'guard',
      title: 'Guard cost: SessionGuard vs. a @Public() route of the same app',
      method:
        'The production build (AppModule, configureApp and the pino logger from dist/, NODE_ENV=production, ' +
        'LOG_LEVEL=silent) plus a bench-only controller whose public and protected routes return the same ' +
        'constant JSON; one app process, the engine in another, autocannon in the bench process; runs ' +
        'interleaved, median of runs. The token is valid and its session cached, as for a signed-in client.',
      figures: [
        ...GUARD_ROUTES.map((route, i) => ({
          name: `GET ${route.path}`,
          value: summaries[i].requestsPerSec,
          unit: 'req/s',
          note:
            `${route.protected ? 'SessionGuard' : '@Public()'}, ${route.does}; p50 ${summaries[i].p50Ms} ms, ` +
            `p99 ${summaries[i].p99Ms} ms; CPU per request: ${describeCpu(summaries[i])}`,
        })),
        { name: 'guard alone (same handler, protected / public)', value: guardOnly, unit: '×' },
        { name: 'GET /sessions/current / public probe', value: current, unit: '×' },
        {
          name: 'the same two ratios from CPU per request',
          value: `${cpuRatio(PROTECTED_PROBE)}× / ${cpuRatio(SESSIONS_CURRENT)}×`,
          note: 'public CPU per request ÷ protected (app + engine): what req/s would be if the app were the only thing on the CPU',
        },
      ],
      goals: [
        ratioGoal(
          'protected route vs. public route, same handler (the guard alone)',
          guardOnly,
          0.85,
        ),
        ratioGoal('GET /sessions/current vs. the public route', current, 0.85),
      ],
      details: {
        routes: GUARD_ROUTES,
        summaries: Object.fromEntries(GUARD_ROUTES.map((r, i) => [r.path, summaries[i]])),
        series,
      },
    });
  } finally {
    await stopAll(app, engine);
  }
}

runBench(main);
