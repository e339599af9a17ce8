/**
 * Guard cost: requests per second of routes behind SessionGuard against a `@Public()` route of the
 * same production build, side by side in one run. The app and the engine are separate processes;
 * the load comes from this one.
 */
import { expectStatus, login } from './lib/http';
import { compareTargets, round, summarize } from './lib/load';
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
import { GUARD_ROUTES, PUBLIC_BASELINE } from './lib/routes';

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  try {
    engine = await startEngine();
    app = await startApp('nest-sessions', 'dist/src/main.js', {
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
        },
      })),
    );
    const summaries = series.map(summarize);
    const baseline = summaries[GUARD_ROUTES.indexOf(PUBLIC_BASELINE)];
    const current = summaries[GUARD_ROUTES.findIndex((r) => r.path === '/sessions/current')];
    const ratio = round(current.requestsPerSec / baseline.requestsPerSec, 3);

    report({
      name: 'guard',
      title: 'Guard cost: SessionGuard vs. a @Public() route of the same app',
      method:
        'One production build (`node dist/src/main.js`, NODE_ENV=production, LOG_LEVEL=silent) on the ' +
        'engine in its own process; autocannon from the bench process; runs interleaved, median of runs.',
      figures: [
        ...GUARD_ROUTES.map((route, i) => ({
          name: `GET ${route.path} req/s`,
          value: summaries[i].requestsPerSec,
          note: `${route.protected ? 'SessionGuard' : '@Public()'}: ${route.does}; p50 ${summaries[i].p50Ms} ms, p99 ${summaries[i].p99Ms} ms`,
        })),
        {
          name: `GET /sessions/current / GET ${PUBLIC_BASELINE.path}`,
          value: ratio,
          unit: '×',
        },
      ],
      goals: [
        {
          name: `protected GET /sessions/current vs. public GET ${PUBLIC_BASELINE.path}`,
          target: '≥ 0.85×',
          actual: `${ratio}×`,
          met: ratio >= 0.85,
        },
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
