import autocannon from 'autocannon';
import { readCpuMs } from './processes';

/** Load settings shared by every throughput figure, overridable for quick or long runs. */
export const LOAD = {
  connections: intEnv('BENCH_CONNECTIONS', 50),
  /** Seconds per measured run. */
  duration: intEnv('BENCH_DURATION', 5),
  /** Seconds of discarded warm-up before the measured runs of each target (JIT, caches, pools). */
  warmup: intEnv('BENCH_WARMUP', 2),
  /** Measured runs per target; figures are the median. */
  runs: Math.max(3, intEnv('BENCH_RUNS', 3)),
};

export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export interface LoadTarget {
  url: string;
  method?: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request hooks, e.g. to chain rotated refresh tokens (see autocannon's `requests`). */
  requests?: autocannon.Request[];
  connections?: number;
  /** Status expected on every response (default: any 2xx). */
  expectStatus?: number;
  /**
   * Processes whose CPU time per response to report (e.g. `{ app: pid, engine: pid }`): unlike
   * req/s, it barely moves when other work shares the machine.
   */
  cpuOf?: Record<string, number>;
}

export interface LoadRun {
  requestsPerSec: number;
  latencyMs: { mean: number; p50: number; p97_5: number; p99: number; max: number };
  requests: number;
  durationSec: number;
  connections: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** CPU milliseconds each `cpuOf` process spent per response during the run. */
  cpuMsPerRequest: Record<string, number>;
}

/**
 * One autocannon run, from this process, against an app in another process. A run that saw any
 * error, timeout or unexpected status throws: a fast stream of 401s is not a throughput figure.
 */
export async function runLoad(target: LoadTarget, durationSec = LOAD.duration): Promise<LoadRun> {
  const connections = target.connections ?? LOAD.connections;
  const cpuBefore = Object.entries(target.cpuOf ?? {}).map(
    ([name, pid]) => [name, pid, readCpuMs(pid)] as const,
  );
  const result = await autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body,
    requests: target.requests,
    connections,
    pipelining: 1,
    duration: durationSec,
    // A stuck server must not hang the run: every request gives up after 10 s.
    timeout: 10,
  });
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s?.count ?? 0]),
  );
  const unexpected =
    target.expectStatus === undefined
      ? result.non2xx
      : Object.entries(statusCodes)
          .filter(([code]) => Number(code) !== target.expectStatus)
          .reduce((n, [, count]) => n + count, 0);
  const run: LoadRun = {
    // Completed responses over the measured time, rather than autocannon's mean of per-second
    // samples, which under-counts when the last second is partial.
    requestsPerSec: round(result.requests.total / result.duration, 1),
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    requests: result.requests.total,
    durationSec: result.duration,
    connections,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    cpuMsPerRequest: Object.fromEntries(
      cpuBefore.map(([name, pid, before]) => [
        name,
        round((readCpuMs(pid) - before) / Math.max(1, result.requests.total), 3),
      ]),
    ),
  };
  if (run.errors > 0 || run.timeouts > 0 || unexpected > 0 || run.requests === 0) {
    throw new Error(
      `load on ${target.method ?? 'GET'} ${target.url} was not clean: ` +
        `${run.requests} responses, ${run.errors} errors, ${run.timeouts} timeouts, ` +
        `status codes ${JSON.stringify(statusCodes)}`,
    );
  }
  return run;
}

export interface Series {
  name: string;
  runs: LoadRun[];
}

/**
 * Measures several targets side by side: one discarded warm-up per target, then `runs` rounds in
 * which every target is measured once, in rotating order, so that drift in the machine's load
 * (other tenants, thermal) spreads over all targets instead of biasing the one measured last.
 */
export async function compareTargets(
  targets: { name: string; target: LoadTarget | (() => Promise<LoadTarget>) }[],
  options: { runs?: number; duration?: number; warmup?: number; log?: (s: string) => void } = {},
): Promise<Series[]> {
  const runs = options.runs ?? LOAD.runs;
  const log = options.log ?? ((s: string) => console.log(s));
  // A function target is called before every run, for state a run uses up (e.g. refresh tokens).
  const resolveTarget = async (t: LoadTarget | (() => Promise<LoadTarget>)) =>
    typeof t === 'function' ? t() : t;
  const series = targets.map((t) => ({ name: t.name, runs: [] as LoadRun[] }));
  for (const t of targets) {
    log(`  warm-up ${t.name} (${options.warmup ?? LOAD.warmup} s)`);
    await runLoad(await resolveTarget(t.target), options.warmup ?? LOAD.warmup);
  }
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + round) % targets.length;
      const run = await runLoad(
        await resolveTarget(targets[i].target),
        options.duration ?? LOAD.duration,
      );
      series[i].runs.push(run);
      log(
        `  run ${round + 1}/${runs} ${targets[i].name}: ${run.requestsPerSec} req/s, ` +
          `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms` +
          Object.entries(run.cpuMsPerRequest)
            .map(([name, ms]) => `, ${name} CPU ${ms} ms/req`)
            .join(''),
      );
    }
  }
  return series;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Median req/s, latency percentiles and CPU per request of a series. */
export function summarize(s: Series) {
  const pick = (f: (r: LoadRun) => number) => round(median(s.runs.map(f)), 3);
  const cpuNames = Object.keys(s.runs[0]?.cpuMsPerRequest ?? {});
  return {
    requestsPerSec: round(median(s.runs.map((r) => r.requestsPerSec)), 1),
    p50Ms: pick((r) => r.latencyMs.p50),
    p97_5Ms: pick((r) => r.latencyMs.p97_5),
    p99Ms: pick((r) => r.latencyMs.p99),
    cpuMsPerRequest: Object.fromEntries(
      cpuNames.map((name) => [name, pick((r) => r.cpuMsPerRequest[name])]),
    ),
  };
}

export type Summary = ReturnType<typeof summarize>;

/** "app 0.41 ms, engine 0.02 ms" */
export function describeCpu(summary: Summary): string {
  return Object.entries(summary.cpuMsPerRequest)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');
}

/** CPU milliseconds per request summed over every measured process (app + engine). */
export function totalCpuMs(summary: Summary): number {
  return round(
    Object.values(summary.cpuMsPerRequest).reduce((a, b) => a + b, 0),
    3,
  );
}
