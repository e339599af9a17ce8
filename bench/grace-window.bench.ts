/**
 * Issue 11 finding 6: what a stolen refresh token is worth around the reuse grace window.
 *
 * A victim's client holds refresh token R0; an attacker copies it. The victim refreshes (R0 →
 * R1) at t0. The attacker replays R0 at t0 + d:
 * - inside the window (d < REFRESH_REUSE_GRACE_SECONDS) the service cannot tell the replay from
 *   a second tab racing the first, so it answers with the victim's current pair (R1 and the
 *   same access token);
 * - outside it, the replay is reuse: the session is revoked for both.
 * Part A sweeps d across the window. Part B measures, after a successful in-window replay, how
 * long the attacker keeps access when the victim's client goes on refreshing as clients do (at
 * each access-token expiry): a passive attacker (only uses the access token it got) and an
 * active one (refreshes first, then whenever its token nears expiry). Part C runs the same
 * replay with the window disabled (0) and two tabs refreshing at once, the price of 0.
 *
 * Production build, one instance on the embedded engine, real clock. Short lifetimes
 * (`BENCH_GRACE_SECONDS`, `BENCH_ACCESS_TTL_SECONDS`) keep the run short; the exposures scale
 * with them, so the figures are also given as fractions of the access-token lifetime.
 */
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { login, request } from './lib/http';
import { intEnv, median, round } from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  ROOT,
  sleep,
  startApp,
  startEngine,
  stopAll,
  type App,
} from './lib/processes';
import { report, runBench } from './lib/results';

const GRACE_S = intEnv('BENCH_GRACE_SECONDS', 2);
const TTL_S = intEnv('BENCH_ACCESS_TTL_SECONDS', 6);
const ROUNDS = Math.max(3, intEnv('BENCH_GRACE_ROUNDS', 3));
/** Replay offsets after the victim's rotation, as fractions of the grace window. */
const OFFSETS = [0, 0.25, 0.5, 0.75, 0.95, 1.1, 1.5];
const POLL_MS = 50;

interface Replay {
  /** Planned offset after the victim's rotation answered. */
  offsetMs: number;
  /** When the replay was actually sent, after the rotation answered. */
  sentAtMs: number;
  status: number;
  code: string;
  /** The attacker was handed the victim's current refresh token. */
  gotVictimPair: boolean;
  /** The victim's next refresh (with its current token) still worked afterwards. */
  victimStillIn: boolean;
}

const refresh = (app: App, refreshToken: string) =>
  request('POST', `${app.baseUrl}/auth/refresh`, { body: { refreshToken } });
const current = (app: App, token: string) =>
  request('GET', `${app.baseUrl}/sessions/current`, { token });

async function replayAt(app: App, offsetMs: number): Promise<Replay> {
  const victim = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
  const stolen = victim.refreshToken;
  const rotated = await refresh(app, stolen);
  if (rotated.status !== 200) throw new Error(`victim refresh answered ${rotated.status}`);
  const t0 = performance.now();
  await sleep(Math.max(0, offsetMs - (performance.now() - t0)));
  const sentAtMs = round(performance.now() - t0, 1);
  const res = await refresh(app, stolen);
  const gotVictimPair = res.status === 200 && res.body.refreshToken === rotated.body.refreshToken;
  const next = await refresh(app, rotated.body.refreshToken);
  return {
    offsetMs,
    sentAtMs,
    status: res.status,
    code: res.body?.code ?? '',
    gotVictimPair,
    victimStillIn: next.status === 200,
  };
}

interface Exposure {
  behaviour: 'passive' | 'active';
  /** From the attacker's successful replay to its first refused request. */
  exposureMs: number;
  /** The session ended (refresh reuse) by the end: the theft was detected. */
  detected: boolean;
  victimFinalStatus: number;
}

/**
 * The victim refreshes at every access-token expiry; the attacker replays inside the window
 * at once and then uses what it got until it is refused (or for 3 token lifetimes).
 */
async function exposure(app: App, behaviour: Exposure['behaviour']): Promise<Exposure> {
  const victim = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
  const stolen = victim.refreshToken;
  let victimRefresh = (await refresh(app, stolen)).body.refreshToken as string;
  const replay = await refresh(app, stolen);
  if (replay.status !== 200) throw new Error(`in-window replay answered ${replay.status}`);
  const start = performance.now();
  let attackerAccess = replay.body.accessToken as string;
  let attackerRefresh = replay.body.refreshToken as string;
  let attackerIssuedAt = start;
  if (behaviour === 'active') {
    const ahead = await refresh(app, attackerRefresh);
    if (ahead.status === 200) {
      attackerAccess = ahead.body.accessToken;
      attackerRefresh = ahead.body.refreshToken;
      attackerIssuedAt = performance.now();
    }
  }
  const ttlMs = TTL_S * 1000;
  let victimNextRefresh = start + ttlMs;
  let victimFinalStatus = 200;
  const giveUp = start + 3 * ttlMs;
  for (;;) {
    const now = performance.now();
    if (now >= victimNextRefresh) {
      const v = await refresh(app, victimRefresh);
      victimFinalStatus = v.status;
      if (v.status === 200) victimRefresh = v.body.refreshToken;
      victimNextRefresh = now + ttlMs;
    }
    if (behaviour === 'active' && now - attackerIssuedAt > ttlMs * 0.8) {
      const a = await refresh(app, attackerRefresh);
      if (a.status === 200) {
        attackerAccess = a.body.accessToken;
        attackerRefresh = a.body.refreshToken;
        attackerIssuedAt = performance.now();
      }
    }
    const res = await current(app, attackerAccess);
    if (res.status !== 200 || now > giveUp) {
      const v = await refresh(app, victimRefresh);
      return {
        behaviour,
        exposureMs: round(performance.now() - start, 0),
        detected: v.body?.code === 'REFRESH_TOKEN_REUSED' || v.body?.code === 'SESSION_ENDED',
        victimFinalStatus: v.status === 200 ? v.status : victimFinalStatus,
      };
    }
    await sleep(POLL_MS);
  }
}

/** Two tabs of one client refresh with the same token at once. */
async function twoTabs(app: App): Promise<{ statuses: number[]; codes: string[] }> {
  const s = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
  const both = await Promise.all([refresh(app, s.refreshToken), refresh(app, s.refreshToken)]);
  return {
    statuses: both.map((r) => r.status).sort(),
    codes: both.map((r) => r.body?.code ?? 'ok').sort(),
  };
}

async function main(): Promise<void> {
  const engine = await startEngine();
  const apps: App[] = [];
  try {
    const base = {
      ACCESS_TOKEN_TTL_SECONDS: String(TTL_S),
      LOGIN_RATE_LIMIT: '100000',
      LOGIN_IP_RATE_LIMIT: '100000',
      SESSION_CACHE_TTL_MS: '0',
    };
    const withGrace = await startApp('grace', 'dist/src/main.js', {
      env: appEnv(engine.uriFor('bench_grace'), {
        ...base,
        REFRESH_REUSE_GRACE_SECONDS: String(GRACE_S),
      }),
    });
    apps.push(withGrace);

    // Part A: the replay across the window.
    const replays: Replay[] = [];
    for (const f of OFFSETS) {
      for (let i = 0; i < ROUNDS; i++) {
        const r = await replayAt(withGrace, Math.round(f * GRACE_S * 1000));
        replays.push(r);
        console.log(
          `  replay at ${r.offsetMs} ms: ${r.status} ${r.code} victim pair=${r.gotVictimPair} victim still in=${r.victimStillIn}`,
        );
      }
    }
    const inside = replays.filter((r) => r.offsetMs < GRACE_S * 1000);
    const outside = replays.filter((r) => r.offsetMs >= GRACE_S * 1000);

    // Part B: how long the attacker keeps access after an in-window replay.
    const exposures: Exposure[] = [];
    for (const behaviour of ['passive', 'active'] as const) {
      for (let i = 0; i < ROUNDS; i++) {
        const e = await exposure(withGrace, behaviour);
        exposures.push(e);
        console.log(
          `  ${behaviour} attacker: access for ${e.exposureMs} ms, detected=${e.detected}, victim ${e.victimFinalStatus}`,
        );
      }
    }
    const of = (b: Exposure['behaviour']) => exposures.filter((e) => e.behaviour === b);
    const medianExposure = (b: Exposure['behaviour']) =>
      round(median(of(b).map((e) => e.exposureMs)), 0);
    const tabsWithGrace: { statuses: number[]; codes: string[] }[] = [];
    for (let i = 0; i < ROUNDS; i++) tabsWithGrace.push(await twoTabs(withGrace));
    await withGrace.stop();
    apps.pop();

    // Part C: the window disabled.
    const noGrace = await startApp('no grace', 'dist/src/main.js', {
      env: appEnv(engine.uriFor('bench_grace_0'), { ...base, REFRESH_REUSE_GRACE_SECONDS: '0' }),
    });
    apps.push(noGrace);
    const replaysNoGrace: Replay[] = [];
    for (let i = 0; i < ROUNDS; i++) replaysNoGrace.push(await replayAt(noGrace, 0));
    const tabsNoGrace: { statuses: number[]; codes: string[] }[] = [];
    for (let i = 0; i < ROUNDS; i++) tabsNoGrace.push(await twoTabs(noGrace));

    const count = (rs: Replay[], p: (r: Replay) => boolean) =>
      `${rs.filter(p).length}/${rs.length}`;
    const tabsOk = (ts: { statuses: number[] }[]) =>
      `${ts.filter((t) => t.statuses.every((s) => s === 200)).length}/${ts.length}`;
    const saved = report({
      name: 'grace-window',
      title: 'Stolen refresh token replayed around the reuse grace window (issue 11 finding 6)',
      method:
        `Production build on the embedded engine, REFRESH_REUSE_GRACE_SECONDS=${GRACE_S}, ACCESS_TOKEN_TTL_SECONDS=${TTL_S}, ` +
        `real clock, ${ROUNDS} rounds per case. A: the victim rotates R0→R1, the attacker replays R0 at offsets across ` +
        `the window. B: after an in-window replay, the victim refreshes at each token expiry; the attacker uses its ` +
        `access token every ${POLL_MS} ms (passive) or also refreshes first and before each expiry (active), until refused. ` +
        `C: the window set to 0.`,
      figures: [
        {
          name: 'replay inside the window: attacker gets the victim’s current pair',
          value: count(inside, (r) => r.gotVictimPair),
          note: `offsets ${[...new Set(inside.map((r) => r.offsetMs))].join(', ')} ms`,
        },
        {
          name: 'replay outside the window: session revoked (REFRESH_TOKEN_REUSED)',
          value: count(outside, (r) => r.code === 'REFRESH_TOKEN_REUSED' && !r.victimStillIn),
          note: `offsets ${[...new Set(outside.map((r) => r.offsetMs))].join(', ')} ms`,
        },
        {
          name: 'passive attacker: access after an in-window replay (median)',
          value: medianExposure('passive'),
          unit: 'ms',
          note: `${round(medianExposure('passive') / (TTL_S * 1000), 2)} × the access-token lifetime; detected ${of('passive').filter((e) => e.detected).length}/${of('passive').length}`,
        },
        {
          name: 'active attacker: access after an in-window replay (median)',
          value: medianExposure('active'),
          unit: 'ms',
          note: `${round(medianExposure('active') / (TTL_S * 1000), 2)} × the access-token lifetime; detected ${of('active').filter((e) => e.detected).length}/${of('active').length}`,
        },
        {
          name: 'two tabs refreshing at once, window on: both get the pair',
          value: tabsOk(tabsWithGrace),
        },
        {
          name: 'window 0: immediate replay revokes the session',
          value: count(
            replaysNoGrace,
            (r) => r.code === 'REFRESH_TOKEN_REUSED' && !r.victimStillIn,
          ),
        },
        {
          name: 'window 0: two tabs refreshing at once, both get the pair',
          value: tabsOk(tabsNoGrace),
          note: [...new Set(tabsNoGrace.flatMap((t) => t.codes))].join(', '),
        },
      ],
      goals: [],
      details: {
        graceSeconds: GRACE_S,
        accessTtlSeconds: TTL_S,
        rounds: ROUNDS,
        replays,
        exposures,
        tabsWithGrace,
        replaysNoGrace,
        tabsNoGrace,
      },
    });
    writeMarkdown(saved);
  } finally {
    await stopAll(...apps, engine);
  }
}

function writeMarkdown(saved: ReturnType<typeof report>): void {
  const lines = [
    `# ${saved.title}`,
    '',
    'Command: `npm run build && npx ts-node --transpile-only bench/grace-window.bench.ts`',
    '(`BENCH_GRACE_SECONDS`, `BENCH_ACCESS_TTL_SECONDS`, `BENCH_GRACE_ROUNDS`). Written by the script.',
    '',
    `Run ${saved.date}, ${saved.machine.cores} cores, load average ${saved.machine.loadAverageAtStart} at start.`,
    '',
    saved.method,
    '',
    '| figure | value | note |',
    '|---|---|---|',
    ...saved.figures.map(
      (f) => `| ${f.name} | ${f.value}${f.unit ? ` ${f.unit}` : ''} | ${f.note ?? ''} |`,
    ),
    '',
    'Raw runs: `grace-window.json`. What the figures mean for a deployment: docs/security.md,',
    '"The refresh grace window".',
    '',
  ];
  writeFileSync(resolve(ROOT, 'bench/results/grace-window.md'), lines.join('\n'));
}

runBench(main);
