/**
 * `npm run bench`: runs every `bench/*.bench.ts`, one at a time, each in its own process group
 * with a time limit, then renders the figures into `bench/results/SUMMARY.md` (and nowhere
 * else: figures never go into the README or docs/). A benchmark that fails or overruns is killed with everything it started
 * and reported; the others still run.
 *
 * BENCH_ONLY=guard,auth   run only these (names without `.bench.ts`)
 * BENCH_TIMEOUT_S=150     per-benchmark limit
 * BENCH_BUDGET_S=540      limit for the whole run; benchmarks that would start after it are skipped
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { intEnv } from './lib/load';
import { ROOT } from './lib/processes';
import { renderSummary } from './lib/summary';
import { machine } from './lib/results';

/** Ours first, in the order docs/benchmarks.md presents them; any other benchmark after, by name. */
const PREFERRED = ['guard', 'alternatives', 'revocation', 'auth', 'memory'];

/**
 * Settings for other benchmarks in this combined run, so that all of them fit in about ten
 * minutes; anything set in the environment wins. Run one alone (`npm run bench:engine`, …) for
 * its full-size figures.
 */
const COMBINED_RUN: Record<string, { env?: Record<string, string>; args?: string[] }> = {
  engine: { env: { BENCH_SIZES: '10000,100000', BENCH_OPS: '2000' } },
  'sweep-latency': { args: ['--runs', '1', '--baseline-seconds', '5'] },
};

function discover(): string[] {
  const found = readdirSync(resolve(ROOT, 'bench'))
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length));
  const rank = (n: string) => (PREFERRED.includes(n) ? PREFERRED.indexOf(n) : PREFERRED.length);
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

interface Outcome {
  name: string;
  status: 'ok' | 'failed' | 'timed out' | 'skipped';
  seconds: number;
}

let current: ReturnType<typeof spawn> | undefined;

function killGroup(signal: NodeJS.Signals): void {
  if (current?.pid === undefined || current.exitCode !== null || current.signalCode !== null)
    return;
  try {
    process.kill(-current.pid, signal);
  } catch {
    // already gone
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killGroup('SIGKILL');
    process.exit(130);
  });
}
process.on('exit', () => killGroup('SIGKILL'));

function runOne(name: string, timeoutMs: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((done) => {
    console.log(`\n#### bench:${name} (limit ${Math.round(timeoutMs / 1000)} s)`);
    // detached: its own process group, so that the engine and apps it starts die with it.
    const settings = COMBINED_RUN[name] ?? {};
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        resolve(ROOT, 'bench', `${name}.bench.ts`),
        ...(settings.args ?? []),
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
        detached: true,
        env: { ...settings.env, ...process.env },
      },
    );
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`bench:${name} exceeded ${Math.round(timeoutMs / 1000)} s: stopping it`);
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Whatever the benchmark left behind in its group goes too.
      killGroup('SIGKILL');
      current = undefined;
      const seconds = Math.round((Date.now() - started) / 1000);
      done({ name, seconds, status: timedOut ? 'timed out' : code === 0 ? 'ok' : 'failed' });
    });
  });
}

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names = discover().filter((n) => only.length === 0 || only.includes(n));
  const perBenchMs = intEnv('BENCH_TIMEOUT_S', 150) * 1000;
  const deadline = Date.now() + intEnv('BENCH_BUDGET_S', 540) * 1000;
  const atStart = machine();
  console.log(
    `benchmarks: ${names.join(', ')}\nmachine: ${atStart.cpu}, ${atStart.cores} cores, ` +
      `${atStart.totalMemoryGiB} GiB, Node ${atStart.node}, load average ${atStart.loadAverageAtStart}`,
  );
  const outcomes: Outcome[] = [];
  for (const name of names) {
    const left = deadline - Date.now();
    if (left < 30_000) {
      outcomes.push({ name, status: 'skipped', seconds: 0 });
      console.error(`bench:${name} skipped: the run's time budget is spent`);
      continue;
    }
    outcomes.push(await runOne(name, Math.min(perBenchMs, left)));
  }
  const summaryFile = renderSummary(atStart, outcomes);
  console.log('\n#### outcome');
  console.table(outcomes);
  console.log(`summary: ${summaryFile}`);
  process.exitCode = outcomes.every((o) => o.status === 'ok') ? 0 : 1;
}

void main();
