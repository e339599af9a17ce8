/**
 * Revocation: two instances of the production build on one database, each with its own session
 * cache. A session is signed out on instance A; how long does instance B keep honouring it?
 *
 * Run twice, side by side in one run:
 * - on the engine started as a replica set (`--replSet rs0`): the instances follow the sessions
 *   collection through change streams (SessionChangeWatcher), and the cache lifetime is set long
 *   (BENCH_WATCH_CACHE_TTL_MS, 60 s) so that only the change stream can explain a quick refusal;
 * - on the engine as a standalone server (no change streams): the cache lifetime
 *   (BENCH_CACHE_TTL_MS, 2 s) bounds it.
 *
 * Each round: log in on A, use the session on A and then on B (so B's cache has just taken it:
 * the worst case), `POST /auth/logout` on A, one request on A, then poll B (one request at a time,
 * POLL_MS apart) until it answers 401. The delay is from A's logout answer to B's first 401
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
const WATCH_CACHE_TTL_MS = intEnv('BENCH_WATCH_CACHE_TTL_MS', 60_000);
const ROUNDS = Math.max(5, intEnv('BENCH_REVOCATION_ROUNDS', 7));
const WATCH_ROUNDS = Math.max(20, intEnv('BENCH_WATCH_ROUNDS', 200));
const POLL_MS = 1;
const WATCH_P99_GOAL_MS = 100;

interface Round {
  /** One cached GET /sessions on B just before the logout: what a poll costs by itself. */
  requestMs: number;
  sameInstanceStatus: number;
  sameInstanceCode: string;
  otherInstanceDelayMs: number;
  /** B's last 200 after the logout (lower bound of when it started refusing); null if none. */
  otherInstanceLastHonouredMs: number | null;
  otherInstanceCode: string;
  polls: number;
}

async function oneRound(a: App, b: App, cacheTtlMs: number): Promise<Round> {
  const { accessToken } = await login(a.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
  const list = (app: App) => request('GET', `${app.baseUrl}/sessions`, { token: accessToken });
  await expectStatus(200, 'GET', `${a.baseUrl}/sessions`, { token: accessToken });
  const before = performance.now();
  await expectStatus(200, 'GET', `${b.baseUrl}/sessions`, { token: accessToken });
  const requestMs = round(performance.now() - before, 1);
  await expectStatus(204, 'POST', `${a.baseUrl}/auth/logout`, { token: accessToken });
  const ended = performance.now();

  const giveUp = ended + 3 * cacheTtlMs + 2000;
  let polls = 0;
  let lastHonoured: number | null = null;
  for (;;) {
    polls++;
    const res = await list(b);
    const now = performance.now();
    if (res.status === 200) lastHonoured = round(now - ended, 1);
    if (res.status === 401) {
      // Asked after B's answer, so that B is polled from the very moment of the logout.
      const onA = await list(a);
      return {
        requestMs,
        sameInstanceStatus: onA.status,
        sameInstanceCode: onA.body?.code ?? '',
        otherInstanceDelayMs: round(now - ended, 1),
        otherInstanceLastHonouredMs: lastHonoured,
        otherInstanceCode: res.body?.code ?? '',
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

/** The q-quantile by the nearest-rank method (q = 0.99: the value 99 % of rounds stay at or under). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

interface Scenario {
  label: string;
  engineArgs: string[];
  cacheTtlMs: number;
  rounds: number;
}

async function runScenario(s: Scenario) {
  let engine: Engine | undefined;
  const apps: App[] = [];
  try {
    engine = await startEngine({ args: s.engineArgs });
    const env = appEnv(engine.uriFor('bench_revocation'), {
      SESSION_CACHE_TTL_MS: String(s.cacheTtlMs),
      LOGIN_RATE_LIMIT: '100000',
      LOGIN_IP_RATE_LIMIT: '100000',
    });
    // One after the other: both would otherwise race to create the admin user.
    apps.push(await startApp(`${s.label} A`, 'dist/src/main.js', { env }));
    apps.push(await startApp(`${s.label} B`, 'dist/src/main.js', { env }));
    const [a, b] = apps;
    const rounds: Round[] = [];
    for (let i = 0; i < s.rounds; i++) {
      const r = await oneRound(a, b, s.cacheTtlMs);
      rounds.push(r);
      if (i < 5 || (i + 1) % 50 === 0) {
        console.log(
          `  ${s.label} round ${i + 1}/${s.rounds}: A answered ${r.sameInstanceStatus} ${r.sameInstanceCode}; ` +
            `B refused after ${r.otherInstanceDelayMs} ms (${r.otherInstanceCode})`,
        );
      }
    }
    const delays = rounds.map((r) => r.otherInstanceDelayMs);
    const honoured = rounds.map((r) => r.otherInstanceLastHonouredMs ?? 0);
    return {
      requestMs: round(median(rounds.map((r) => r.requestMs)), 1),
      ...s,
      rounds,
      p50: round(quantile(delays, 0.5), 1),
      p99: round(quantile(delays, 0.99), 1),
      max: Math.max(...delays),
      medianHonoured: round(median(honoured), 1),
      maxHonoured: Math.max(...honoured),
      immediate: rounds.every((r) => r.sameInstanceStatus === 401),
    };
  } finally {
    await stopAll(...apps, engine);
  }
}

async function main(): Promise<void> {
  const watched = await runScenario({
    label: 'replica set',
    engineArgs: ['--replSet', 'rs0'],
    cacheTtlMs: WATCH_CACHE_TTL_MS,
    rounds: WATCH_ROUNDS,
  });
  const standalone = await runScenario({
    label: 'standalone',
    engineArgs: [],
    cacheTtlMs: CACHE_TTL_MS,
    rounds: ROUNDS,
  });
  const both = [watched, standalone];
  report({
    name: 'revocation',
    title: 'Revocation across instances (logout on A, then requests on B)',
    method:
      `Two production instances on one engine, B caching the session just before the logout on A (the worst case), ` +
      `then polled one request at a time, ${POLL_MS} ms apart, until it answers 401; times from A's logout answer. ` +
      `Replica set (change streams): SESSION_CACHE_TTL_MS=${WATCH_CACHE_TTL_MS}, ${WATCH_ROUNDS} rounds. ` +
      `Standalone: SESSION_CACHE_TTL_MS=${CACHE_TTL_MS}, ${ROUNDS} rounds.`,
    figures: [
      ...both.flatMap((r) => [
        {
          name: `${r.label}: B's first 401 after the logout, p50`,
          value: r.p50,
          unit: 'ms',
          note: `cache lifetime ${r.cacheTtlMs} ms; ${r.rounds.length} rounds`,
        },
        {
          name: `${r.label}: B's first 401 after the logout, p99`,
          value: r.p99,
          unit: 'ms',
          note: `max ${r.max} ms; includes the polling request's own latency`,
        },
        {
          name: `${r.label}: one cached request on B (median)`,
          value: r.requestMs,
          unit: 'ms',
          note: 'what a single poll costs by itself',
        },
        {
          name: `${r.label}: B's last 200 after the logout (median / max)`,
          value: `${r.medianHonoured} / ${r.maxHonoured}`,
          unit: 'ms',
        },
      ]),
      {
        name: 'same instance, first request after logout',
        value: both.every((r) => r.immediate) ? '401 every round' : 'not refused in some rounds',
      },
    ],
    goals: [
      {
        name: 'replica set: the other instance refuses within 100 ms (p99)',
        target: `≤ ${WATCH_P99_GOAL_MS} ms`,
        actual: `p99 ${watched.p99} ms (max ${watched.max} ms)`,
        met: watched.p99 <= WATCH_P99_GOAL_MS,
      },
      {
        name: 'standalone: the other instance stops honouring within the cache lifetime',
        target: `≤ ${CACHE_TTL_MS} ms`,
        actual: `last 200 at ≤ ${standalone.maxHonoured} ms`,
        met: standalone.maxHonoured <= CACHE_TTL_MS,
      },
      {
        name: 'same instance refuses immediately',
        target: '401 on the first request',
        actual: both.every((r) => r.immediate) ? 'every round' : 'not every round',
        met: both.every((r) => r.immediate),
      },
    ],
    details: {
      pollMs: POLL_MS,
      scenarios: both.map(({ rounds, ...rest }) => ({
        ...rest,
        delaysMs: rounds.map((r) => r.otherInstanceDelayMs),
      })),
    },
  });
}

runBench(main);
