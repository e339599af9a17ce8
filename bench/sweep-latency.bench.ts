/**
 * p99 latency of an authenticated route while the sweep deletes 100,000 sessions, against the
 * same route with no sweep running, in one run.
 *
 *   npm run bench:sweep [-- --sessions 100000 --runs 3 --baseline-seconds 10 --connections 10]
 *
 * Three processes, as in production: the embedded MongoDB engine (`npm run mongo:embedded`),
 * the service (`npm start`) and the sweep (`npm run sweep`, the same code the cron runs). Each
 * run inserts the sessions (ended past retention, so the sweep deletes them all), measures the
 * route for a fixed time with no sweep (A), again for exactly as long as the sweep takes (B),
 * and once more with no sweep (A'); the baseline is A and A' together, so load from outside
 * the benchmark that drifts during a run weighs on both sides. Medians over the runs are
 * printed and written to bench/results/sweep-latency.json. SWEEP_BATCH_SIZE is passed through.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { ENGINE_CLI, freePort, nodeArgsFor } from '../test/support/app-process';
import { storedSession } from '../test/support/session-docs';

const ROOT = join(__dirname, '..');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SESSIONS = option('sessions', 100_000);
const RUNS = option('runs', 3);
const BASELINE_SECONDS = option('baseline-seconds', 10);
const CONNECTIONS = option('connections', 10);
const ROUTE = '/sessions';
const ADMIN = { username: 'bench', password: 'bench-password-0123456789' };

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

function start(script: string, args: string[], env: Record<string, string>): Child {
  // The build when it is current, else the sources (as `npm run bench` runs this without building).
  const proc = spawn(process.execPath, [...nodeArgsFor(script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let rest = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
    listeners.forEach((l) => l());
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const waitFor = (match: (line: string) => boolean, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: timed out`)), timeoutMs);
      const check = () => {
        const line = lines.find(match);
        if (line === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(line);
      };
      listeners.add(check);
      check();
    });
  return { proc, lines, waitFor, exited };
}

interface Latency {
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  seconds: number;
}

/** Two measurements as one: percentiles weighted by each side's request count. */
function combined(a: Latency, b: Latency): Latency {
  const w = (x: number, y: number) =>
    Math.round((x * a.requests + y * b.requests) / Math.max(1, a.requests + b.requests));
  return {
    p50: w(a.p50, b.p50),
    p99: w(a.p99, b.p99),
    requests: a.requests + b.requests,
    non2xx: a.non2xx + b.non2xx,
    seconds: a.seconds + b.seconds,
  };
}

function summary(result: autocannon.Result): Latency {
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx + result.errors,
    seconds: result.duration,
  };
}

/** Load on the route for `seconds`, or until `stop()` is called. */
function load(url: string, token: string, seconds: number) {
  let instance!: autocannon.Instance;
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${ROUTE}`,
        connections: CONNECTIONS,
        duration: seconds,
        headers: { authorization: `Bearer ${token}` },
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
  });
  return { result, stop: () => instance.stop() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const mongoPort = await freePort();
  const engine = start(ENGINE_CLI, ['--port', String(mongoPort)], {});
  await engine.waitFor((l) => l.trim() === `mongodb://127.0.0.1:${mongoPort}`);
  const uri = `mongodb://127.0.0.1:${mongoPort}/bench`;

  const appPort = await freePort();
  const app = start('src/main', [], {
    MONGODB_URI: uri,
    PORT: String(appPort),
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    JWT_SECRET: 'bench-7c3e9a1f5d2b8e4c6a0f9d7b1e3c5a8f2d',
    SWEEP_ENABLED: 'false',
    LOG_LEVEL: 'warn',
  });
  // LOG_LEVEL=warn hides the "listening" line: wait for the port instead.
  const url = `http://127.0.0.1:${appPort}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      if (i > 300) throw new Error('the service did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };

  const client = await MongoClient.connect(uri);
  const sessions = client.db().collection('sessions');
  const runs: {
    baseline: Latency;
    duringSweep: Latency;
    sweep: object;
    loadAverage: number;
  }[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const longAgo = Date.now() - 400 * 86_400_000;
      for (let i = 0; i < SESSIONS; i += 5000) {
        await sessions.insertMany(
          Array.from({ length: Math.min(5000, SESSIONS - i) }, () =>
            storedSession({
              state: 'ended',
              endReason: 'logout',
              lastSeenAt: new Date(longAgo),
              expiresAt: new Date(longAgo),
              expiredAt: new Date(longAgo),
            }),
          ),
          { ordered: false },
        );
      }

      const before = summary(await load(url, accessToken, BASELINE_SECONDS).result);

      const sweep = start('src/sweep/cli', [], { MONGODB_URI: uri, LOG_LEVEL: 'debug' });
      await sweep.waitFor((l) => l.includes('session sweep started'), 120_000);
      const during = load(url, accessToken, 3600);
      const code = await sweep.exited;
      during.stop();
      const duringSweep = summary(await during.result);
      const result = JSON.parse(sweep.lines.find((l) => l.startsWith('{"expiredIdle"'))!);
      if (code !== 0 || result.deleted !== SESSIONS || duringSweep.non2xx > 0) {
        throw new Error(`sweep run ${run} failed: exit ${code}, ${JSON.stringify(result)}`);
      }
      const after = summary(await load(url, accessToken, BASELINE_SECONDS).result);
      const baseline = combined(before, after);
      runs.push({ baseline, duringSweep, sweep: result, loadAverage: loadavg()[0] });
      console.log(
        `run ${run}: baseline p50 ${baseline.p50} ms p99 ${baseline.p99} ms | during sweep ` +
          `p50 ${duringSweep.p50} ms p99 ${duringSweep.p99} ms | sweep deleted ${result.deleted} ` +
          `in ${result.durationMs} ms (${result.batches} batches), load average ${loadavg()[0].toFixed(1)}`,
      );
    }
  } finally {
    await client.close();
    app.proc.kill('SIGTERM');
    engine.proc.kill('SIGTERM');
    await Promise.all([app.exited, engine.exited]);
  }

  const med = (pick: (r: (typeof runs)[number]) => number) => median(runs.map(pick));
  const figures = {
    route: `GET ${ROUTE}`,
    sessionsDeleted: SESSIONS,
    runs: RUNS,
    connections: CONNECTIONS,
    baselineSeconds: BASELINE_SECONDS * 2,
    batchSize: Number(process.env.SWEEP_BATCH_SIZE ?? 1000),
    median: {
      baselineP50Ms: med((r) => r.baseline.p50),
      baselineP99Ms: med((r) => r.baseline.p99),
      duringSweepP50Ms: med((r) => r.duringSweep.p50),
      duringSweepP99Ms: med((r) => r.duringSweep.p99),
      p99Ratio: Number(med((r) => r.duringSweep.p99 / r.baseline.p99).toFixed(2)),
      sweepDurationMs: med((r) => (r.sweep as { durationMs: number }).durationMs),
    },
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model },
    at: new Date().toISOString(),
    runsDetail: runs,
  };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  // Full-size figures at the default batch size are the reference ones; any other setting (a quick
  // run from `npm run bench`, another batch size) gets its own file rather than replace them.
  const suffix = [
    process.env.SWEEP_BATCH_SIZE ? `batch-${process.env.SWEEP_BATCH_SIZE}` : '',
    RUNS < 3 || SESSIONS !== 100_000 || BASELINE_SECONDS !== 10 ? 'quick' : '',
  ].filter(Boolean);
  const file = ['sweep-latency', ...suffix].join('-') + '.json';
  writeFileSync(join(__dirname, 'results', file), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures.median, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
