/**
 * Revocation: two instances of the production build on one database, each with its own session
 * cache (SESSION_CACHE_TTL_MS). A session is signed out on instance A; how long does instance B
 * keep honouring it, and does A refuse it at once?
 *
 * Each round: log in on A, use the session on A and then on B (so B's cache has just taken it:
 * the worst case), `POST /auth/logout` on A, one request on A, then poll B (one request at a time,
 * POLL_MS apart) until it answers 401. The delay is from the end of the logout to B's first 401
 * response, an upper bound on when B started refusing; the last 200 before it is the lower bound.
 */
import { performance } from 'node:perf_hooks';
import { expectStatus, login, request } from './lib/http';
import { intEnv, median, round } from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  sleep,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { report, runBench } from './lib/results';

const CACHE_TTL_MS = intEnv('BENCH_CACHE_TTL_MS', 2000);
const ROUNDS = Math.max(5, intEnv('BENCH_REVOCATION_ROUNDS', 7));
const POLL_MS = 2;

interface Round {
  sameInstanceStatus: number;
  sameInstanceCode: string;
  otherInstanceDelayMs: number;
  /** B's last 200 after the logout (lower bound of when it started refusing); null if none. */
  otherInstanceLastHonouredMs: number | null;
  otherInstanceCode: string;
  /** From B caching the session to B refusing it: bounded by the cache lifetime plus one poll. */
  sinceCachedOnBMs: number;
  polls: number;
}

async function oneRound(a: App, b: App): Promise<Round> {
  const { accessToken } = await login(a.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
  const current = (app: App) =>
    request('GET', `${app.baseUrl}/sessions/current`, { token: accessToken });
  await expectStatus(200, 'GET', `${a.baseUrl}/sessions/current`, { token: accessToken });
  const cachedOnB = performance.now();
  await expectStatus(200, 'GET', `${b.baseUrl}/sessions/current`, { token: accessToken });
  await expectStatus(204, 'POST', `${a.baseUrl}/auth/logout`, { token: accessToken });
  const ended = performance.now();
  const onA = await current(a);

  const giveUp = ended + 3 * CACHE_TTL_MS + 2000;
  let polls = 0;
  let lastHonoured: number | null = null;
  for (;;) {
    polls++;
    const res = await current(b);
    const now = performance.now();
    if (res.status === 200) lastHonoured = round(now - ended, 1);
    if (res.status === 401) {
      return {
        sameInstanceStatus: onA.status,
        sameInstanceCode: onA.body?.code ?? '',
        otherInstanceDelayMs: round(now - ended, 1),
        otherInstanceLastHonouredMs: lastHonoured,
        otherInstanceCode: res.body?.code ?? '',
        sinceCachedOnBMs: round(now - cachedOnB, 1),
        polls,
      };
    }
    if (res.status !== 200)
      throw new Error(`instance B answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (now > giveUp) {
      throw new Error(
        `instance B still honours an ended session ${Math.round(now - ended)} ms later`,
      );
    }
    await sleep(POLL_MS);
  }
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  const apps: App[] = [];
  try {
    engine = await startEngine();
    const env = appEnv(engine.uriFor('bench_revocation'), {
      SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS),
      LOGIN_RATE_LIMIT: '1000',
    });
    // One after the other: both would otherwise race to create the admin user.
    apps.push(await startApp('instance A', 'dist/src/main.js', { env }));
    apps.push(await startApp('instance B', 'dist/src/main.js', { env }));
    const [a, b] = apps;

    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await oneRound(a, b);
      rounds.push(r);
      console.log(
        `  round ${i + 1}/${ROUNDS}: A answered ${r.sameInstanceStatus} ${r.sameInstanceCode} at once; ` +
          `B refused after ${r.otherInstanceDelayMs} ms (${r.otherInstanceCode})`,
      );
    }
    const delays = rounds.map((r) => r.otherInstanceDelayMs);
    const honoured = rounds.map((r) => r.otherInstanceLastHonouredMs ?? 0);
    const maxDelay = Math.max(...delays);
    const maxHonoured = Math.max(...honoured);
    const immediate = rounds.every((r) => r.sameInstanceStatus === 401);
    report({
      name: 'revocation',
      title: 'Revocation across instances (logout on A, then requests on B)',
      method:
        `Two production instances on one engine, SESSION_CACHE_TTL_MS=${CACHE_TTL_MS}; B caches the session ` +
        `just before the logout on A (the worst case); B is then polled one request at a time, ${POLL_MS} ms apart; ` +
        `${ROUNDS} rounds. B started refusing between its last 200 and its first 401 (times from the end of the logout).`,
      figures: [
        { name: 'configured cache lifetime', value: CACHE_TTL_MS, unit: 'ms' },
        {
          name: 'other instance: last 200 after the logout (max)',
          value: maxHonoured,
          unit: 'ms',
          note: `median ${round(median(honoured), 1)} ms: the longest an ended session was still honoured`,
        },
        {
          name: 'other instance: first 401 after the logout (max)',
          value: maxDelay,
          unit: 'ms',
          note: `median ${round(median(delays), 1)} ms; includes the polling request's own latency`,
        },
        {
          name: 'same instance, first request after logout',
          value: immediate ? '401 every round' : 'not refused in some rounds',
          note: [...new Set(rounds.map((r) => r.sameInstanceCode))].join(', '),
        },
      ],
      goals: [
        {
          name: 'other instance stops honouring within the cache lifetime',
          target: `≤ ${CACHE_TTL_MS} ms`,
          actual: `last 200 at ≤ ${maxHonoured} ms, first 401 at ≤ ${maxDelay} ms`,
          met: maxHonoured <= CACHE_TTL_MS,
        },
        {
          name: 'same instance refuses immediately',
          target: '401 on the first request',
          actual: `${rounds.filter((r) => r.sameInstanceStatus === 401).length}/${ROUNDS} rounds`,
          met: immediate,
        },
      ],
      details: { cacheTtlMs: CACHE_TTL_MS, pollMs: POLL_MS, rounds },
    });
  } finally {
    await stopAll(...apps, engine);
  }
}

runBench(main);
