/**
 * Issue 12, finding 2: how long a valid login takes while junk logins (random usernames, so
 * every one costs a full argon2 verification) flood the service, before and after bounding the
 * hashing. "Before" is the same build with the waiting queue unbounded (PASSWORD_HASH_QUEUE at
 * its maximum: every junk login waits for a hash, as the old code did); "after" is the default
 * (4 running, 8 waiting per lane, the rest refused at once with 429), probed twice: by a new
 * device, and by a returning device that presents the `X-Device-Token` its earlier login was
 * given (the trusted lane). All run side by side in one run, against one engine, with the flood spread over many client IPs (one trusted proxy hop), so
 * the per-IP limit does not apply: this is what is left once the rate limits are bypassed.
 *
 *   npm run build && npx ts-node --transpile-only bench/login-flood.bench.ts
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { writeFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { intEnv, median } from './lib/load';
import { appEnv, BENCH_ADMIN, startApp, startEngine, stopAll, type App } from './lib/processes';
import { machine, RESULTS_DIR } from './lib/results';

const FLOODS = [32, 128];
const SCENARIOS = ['before', 'after', 'returning'] as const;
type Scenario = (typeof SCENARIOS)[number];
const RUNS = intEnv('BENCH_FLOOD_RUNS', 3);
const VALID_LOGINS = intEnv('BENCH_FLOOD_VALID_LOGINS', 5);
const WARMUP_MS = 1500;

let ipCounter = 0;
const nextIp = () => {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};

interface Sample {
  /** Milliseconds of each valid login that was let in (201). */
  okMs: number[];
  /** Valid logins refused with 429 (they may retry at once). */
  refused: number;
  junk: Record<string, number>;
}

/** Who probes: a new device, or one that presents the token its last login was given. */
interface Prober {
  app: App;
  deviceToken?: string;
}

async function validLogin({ app, deviceToken }: Prober): Promise<{
  status: number;
  ms: number;
  deviceToken: string | null;
}> {
  const t0 = performance.now();
  const res = await fetch(`${app.baseUrl}/auth/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': nextIp(),
      ...(deviceToken ? { 'x-device-token': deviceToken } : {}),
    },
    body: JSON.stringify(BENCH_ADMIN),
  });
  await res.arrayBuffer();
  return {
    status: res.status,
    ms: performance.now() - t0,
    deviceToken: res.headers.get('x-device-token'),
  };
}

async function underFlood(prober: Prober, connections: number): Promise<Sample> {
  const { app } = prober;
  const junk: Record<string, number> = {};
  const flood = autocannon(
    {
      url: `${app.baseUrl}/auth/login`,
      connections,
      duration: 600,
      timeout: 120,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => ({
            ...req,
            headers: {
              ...req.headers,
              'content-type': 'application/json',
              'x-forwarded-for': nextIp(),
            },
            body: JSON.stringify({
              username: `junk-${Math.random()}`,
              password: 'not-a-password-1',
            }),
          }),
          onResponse: (status) => {
            junk[status] = (junk[status] ?? 0) + 1;
          },
        },
      ],
    },
    () => undefined,
  );
  const finished = new Promise<void>((done) => flood.on('done', () => done()));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const okMs: number[] = [];
  let refused = 0;
  for (let i = 0; i < VALID_LOGINS; i++) {
    const { status, ms } = await validLogin(prober);
    if (status === 201) okMs.push(ms);
    else if (status === 429) refused++;
    else throw new Error(`valid login answered ${status}`);
  }
  flood.stop();
  await finished;
  // Let the server finish the junk it had already taken in (the unbounded queue keeps hashing
  // after the clients go), so it does not slow down the next scenario on the other app.
  while ((await validLogin({ app })).status !== 201) await new Promise((r) => setTimeout(r, 200));
  return { okMs, refused, junk };
}

async function main(): Promise<void> {
  const engine = await startEngine();
  const common = {
    TRUST_PROXY: '1',
    LOGIN_RATE_LIMIT: '1000000',
    LOGIN_IP_RATE_LIMIT: '1000000',
  };
  const apps = {
    before: await startApp('before', 'dist/src/main.js', {
      env: appEnv(engine.uriFor('bench_flood'), { ...common, PASSWORD_HASH_QUEUE: '10000' }),
    }),
    after: await startApp('after', 'dist/src/main.js', {
      env: appEnv(engine.uriFor('bench_flood'), common),
    }),
  };
  const rows: Record<string, unknown>[] = [];
  try {
    const firstLogin = await validLogin({ app: apps.after });
    if (!firstLogin.deviceToken) throw new Error('the login handed out no X-Device-Token');
    const probers: Record<Scenario, Prober> = {
      before: { app: apps.before },
      after: { app: apps.after },
      returning: { app: apps.after, deviceToken: firstLogin.deviceToken },
    };
    const quiet: Record<string, number> = {};
    for (const name of SCENARIOS) {
      const times: number[] = [];
      for (let i = 0; i < VALID_LOGINS; i++) times.push((await validLogin(probers[name])).ms);
      quiet[name] = median(times);
    }
    for (const connections of FLOODS) {
      for (let run = 0; run < RUNS; run++) {
        // Rotate which goes first, so a drift in the machine's load hits all alike.
        const order = SCENARIOS.map((_, i) => SCENARIOS[(i + run) % SCENARIOS.length]);
        for (const name of order) {
          const s = await underFlood(probers[name], connections);
          rows.push({ name, connections, run, ...s, p50: s.okMs.length ? median(s.okMs) : null });
          console.log(name, connections, run, JSON.stringify(rows[rows.length - 1]));
        }
      }
    }
    const summary = FLOODS.map((connections) => {
      const p50 = (name: string) =>
        median(
          rows
            .filter((r) => r.name === name && r.connections === connections && r.p50 !== null)
            .map((r) => r.p50 as number),
        );
      const refusedShare = (name: string) => {
        const mine = rows.filter((r) => r.name === name && r.connections === connections);
        const refused = mine.reduce((n, r) => n + (r.refused as number), 0);
        return `${refused}/${mine.length * VALID_LOGINS}`;
      };
      const before = p50('before');
      const after = p50('after');
      const returning = p50('returning');
      return {
        connections,
        beforeP50Ms: Math.round(before),
        afterP50Ms: Math.round(after),
        returningP50Ms: Math.round(returning),
        beforeOverReturning: Math.round((before / returning) * 100) / 100,
        validRefusedBefore: refusedShare('before'),
        validRefusedAfter: refusedShare('after'),
        validRefusedReturning: refusedShare('returning'),
      };
    });
    const out = {
      name: 'login-flood',
      date: new Date().toISOString(),
      machine: machine(),
      command: 'npm run build && npx ts-node --transpile-only bench/login-flood.bench.ts',
      settings: { RUNS, VALID_LOGINS, WARMUP_MS, floods: FLOODS },
      quietP50Ms: quiet,
      summary,
      rows,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(resolve(RESULTS_DIR, 'login-flood.json'), `${JSON.stringify(out, null, 2)}\n`);
    const md = [
      '# Valid login during a junk-login flood (issue 12, finding 2)',
      '',
      `${out.date}, ${out.machine.cores} cores, load average at start ${out.machine.loadAverageAtStart}. Command: \`${out.command}\`.`,
      'Before: waiting queue unbounded (the old behaviour). After: 4 running, 8 waiting per lane, the rest 429 at once; probed by a new device and by a returning device (`X-Device-Token`, the trusted lane).',
      `Median over ${RUNS} runs of the p50 of ${VALID_LOGINS} sequential valid logins per run; without a flood: before ${Math.round(quiet.before)} ms, after ${Math.round(quiet.after)} ms, returning device ${Math.round(quiet.returning)} ms.`,
      '',
      '| junk connections | before p50 | after p50, new device | after p50, returning device | before / returning | valid logins refused (429): before | after, new device | after, returning device |',
      '|---|---|---|---|---|---|---|---|',
      ...summary.map(
        (s) =>
          `| ${s.connections} | ${s.beforeP50Ms} ms | ${s.afterP50Ms} ms | ${s.returningP50Ms} ms | ${s.beforeOverReturning}× | ${s.validRefusedBefore} | ${s.validRefusedAfter} | ${s.validRefusedReturning} |`,
      ),
      '',
    ].join('\n');
    writeFileSync(resolve(RESULTS_DIR, 'login-flood.md'), md);
    console.log(md);
  } finally {
    await stopAll(apps.before, apps.after, engine);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
