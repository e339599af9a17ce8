/**
 * Driver-level throughput of the embedded engine at 10k and 1M documents, against the wire
 * protocol's ceiling on this machine.
 *
 *   npm run bench:engine            (or: npx ts-node --transpile-only bench/engine.bench.ts)
 *
 * BENCH_SIZES, BENCH_RUNS, BENCH_OPS, BENCH_CONCURRENCY and BENCH_OPERATIONS override the
 * defaults below.
 *
 * The engine runs in its own process (the CLI), so the client and the server do not share an
 * event loop. The ceiling is a canned-reply server (bench/lib/canned-wire-server.ts) in another
 * process, answering the same driver's findOne with a reply serialized in advance: what the
 * driver, the sockets and the framing cost with no server work at all. Each figure is the
 * median of several runs of a fixed number of operations issued with a fixed concurrency, the
 * ceiling and the sizes taking turns run by run. Prints a table and writes
 * bench/results/engine.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient, type Collection } from 'mongodb';

const SIZES = (process.env.BENCH_SIZES ?? '10000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS_PER_RUN = Number(process.env.BENCH_OPS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LOAD_BATCH = 10_000;
const ALL_OPERATIONS = ['insert', 'findOneById', 'findOne', 'update', 'delete'] as const;
/** The goal of issue 13: findOne by _id at the largest size reaches half the ceiling. */
const CEILING_GOAL = 0.5;
type Operation = (typeof ALL_OPERATIONS)[number];
const OPERATIONS = ALL_OPERATIONS.filter((op) =>
  (process.env.BENCH_OPERATIONS ?? ALL_OPERATIONS.join(',')).split(',').includes(op),
);

interface BenchDoc {
  _id: number;
  key: string;
  email: string;
  n: number;
  createdAt: Date;
}

const makeDoc = (i: number): BenchDoc => ({
  _id: i,
  key: `user-${i}`,
  email: `user-${i}@example.com`,
  n: i,
  createdAt: new Date(1_700_000_000_000 + i),
});

/** Starts a script that prints its URI on a line (the engine's CLI, the canned server). */
async function startUriProcess(
  script: string,
  args: string[] = [],
): Promise<{ uri: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=6144', '-r', 'ts-node/register/transpile-only', script, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('mongodb://')) return { uri: line.trim(), child };
  }
  throw new Error(`${script} exited before printing its URI`);
}

const startEngineProcess = () =>
  startUriProcess(join(__dirname, '..', 'packages', 'embedded-mongo', 'src', 'cli.ts'), [
    '--port',
    '0',
  ]);
const startCeilingProcess = () => startUriProcess(join(__dirname, 'lib', 'canned-wire-server.ts'));

/** Runs `count` calls of `op(i)` with CONCURRENCY in flight; returns operations per second. */
async function timed(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Distinct random integers in [0, size), so deletes hit documents that still exist. */
function distinctRandom(size: number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, size)) picked.add(Math.floor(Math.random() * size));
  return [...picked];
}

async function load(collection: Collection<BenchDoc>, size: number): Promise<void> {
  await collection.createIndex({ key: 1 }, { unique: true });
  for (let start = 0; start < size; start += LOAD_BATCH) {
    const batch = Array.from({ length: Math.min(LOAD_BATCH, size - start) }, (_, j) =>
      makeDoc(start + j),
    );
    await collection.insertMany(batch, { ordered: false });
  }
}

async function runOperation(
  collection: Collection<BenchDoc>,
  size: number,
  operation: Operation,
  run: number,
): Promise<number> {
  const ops = operation === 'delete' ? Math.min(OPS_PER_RUN, size / 10) : OPS_PER_RUN;
  const random = () => `user-${Math.floor(Math.random() * size)}`;
  switch (operation) {
    case 'insert': {
      const base = size + run * ops;
      const rate = await timed(ops, (i) => collection.insertOne(makeDoc(base + i)));
      // Back to `size` documents so later runs and operations see the same collection.
      await collection.deleteMany({ n: { $gte: size } });
      return rate;
    }
    case 'findOneById':
      return timed(ops, () => collection.findOne({ _id: Math.floor(Math.random() * size) }));
    case 'findOne':
      return timed(ops, () => collection.findOne({ key: random() }));
    case 'update':
      return timed(ops, () => collection.updateOne({ key: random() }, { $inc: { n: 0.5 } }));
    case 'delete': {
      const victims = distinctRandom(size, ops);
      const rate = await timed(ops, (i) => collection.deleteOne({ key: `user-${victims[i]}` }));
      await collection.insertMany(victims.map(makeDoc), { ordered: false });
      return rate;
    }
  }
}

async function main(): Promise<void> {
  const loadAtStart = Number(loadavg()[0].toFixed(2));
  const { uri, child } = await startEngineProcess();
  const ceilingServer = await startCeilingProcess();
  const client = await MongoClient.connect(uri, { maxPoolSize: CONCURRENCY });
  const ceilingClient = await MongoClient.connect(ceilingServer.uri, { maxPoolSize: CONCURRENCY });
  const ceiling = ceilingClient.db('bench').collection<BenchDoc>('docs');
  const ceilingRates: number[] = [];
  const results: Record<string, Record<Operation, number>> = {};
  try {
    await timed(OPS_PER_RUN, () => ceiling.findOne({ _id: 1 }));
    const collections = new Map<number, Collection<BenchDoc>>();
    for (const size of SIZES) {
      const collection = client.db(`bench_${size}`).collection<BenchDoc>('docs');
      await collection.drop().catch(() => undefined);
      const loadStarted = Date.now();
      await load(collection, size);
      console.log(
        `loaded ${size} documents in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`,
      );
      // Warm up the connections and the JIT before measuring.
      await runOperation(collection, size, 'findOne', 0);
      collections.set(size, collection);
      results[String(size)] = {} as Record<Operation, number>;
    }
    // Sizes alternate run by run, so a busy moment on a shared machine hits both alike.
    for (const operation of OPERATIONS) {
      const rates = new Map<number, number[]>(SIZES.map((size) => [size, []]));
      for (let run = 0; run < RUNS; run++) {
        if (operation === 'findOneById') {
          ceilingRates.push(
            await timed(OPS_PER_RUN, () =>
              ceiling.findOne({ _id: Math.floor(Math.random() * 1e6) }),
            ),
          );
        }
        for (const size of SIZES) {
          rates.get(size)!.push(await runOperation(collections.get(size)!, size, operation, run));
        }
      }
      for (const size of SIZES) {
        results[String(size)][operation] = Math.round(median(rates.get(size)!));
      }
    }
    for (const collection of collections.values()) await collection.drop();
  } finally {
    await client.close();
    await ceilingClient.close();
    child.kill('SIGTERM');
    ceilingServer.child.kill('SIGTERM');
  }

  console.log(`\nops/s, median of ${RUNS} runs of ${OPS_PER_RUN} ops, concurrency ${CONCURRENCY}`);
  console.table(results);
  const sizes = Object.keys(results);
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    // A shared machine: the ratios, measured side by side, matter more than absolute figures.
    loadAverageAtStart: loadAtStart,
    runs: RUNS,
    opsPerRun: OPS_PER_RUN,
    concurrency: CONCURRENCY,
    opsPerSecond: results,
  };
  if (ceilingRates.length > 0) {
    const ceilingOps = Math.round(median(ceilingRates));
    const ratios: Record<string, number> = {};
    for (const size of sizes) {
      ratios[size] = Number((results[size].findOneById / ceilingOps).toFixed(3));
    }
    const largest = sizes[sizes.length - 1];
    report.ceiling = {
      what: 'findOne by _id against a canned-reply wire server (bench/lib/canned-wire-server.ts)',
      opsPerSecond: ceilingOps,
      runs: ceilingRates.map(Math.round),
    };
    report.findOneByIdToCeiling = ratios;
    report.goal = {
      name: `findOne by _id at ${largest} documents vs. the protocol ceiling`,
      target: `≥ ${CEILING_GOAL}×`,
      actual: `${ratios[largest]}×`,
      met: ratios[largest] >= CEILING_GOAL,
    };
    console.log(`ceiling (canned replies): ${ceilingOps} ops/s`);
    for (const size of sizes) {
      console.log(`findOne by _id at ${size} documents / ceiling: ${ratios[size]}x`);
    }
  }
  if (sizes.length >= 2 && OPERATIONS.includes('findOne')) {
    const small = results[sizes[0]].findOne;
    const large = results[sizes[sizes.length - 1]].findOne;
    const ratio = small / large;
    report.findOneCostRatio = Number(ratio.toFixed(2));
    console.log(
      `findOne cost at ${sizes[sizes.length - 1]} / at ${sizes[0]} documents: ${ratio.toFixed(2)}x`,
    );
  }
  const outDir = join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'engine.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'engine.md'), markdown(report, results));
}

/** bench/results/engine.md: the committed copy of the figures (the JSON is not committed). */
function markdown(
  report: Record<string, unknown>,
  results: Record<string, Record<Operation, number>>,
): string {
  const sizes = Object.keys(results);
  const lines = [
    '# Embedded engine throughput (`npm run bench:engine`)',
    '',
    `${String(report.date)}, Node ${String(report.node)}, ${String(report.cpus)}, 1-minute load average ${String(report.loadAverageAtStart)} at the start.`,
    `Driver ops/s, median of ${RUNS} runs of ${OPS_PER_RUN} operations with ${CONCURRENCY} in flight; the engine and the ceiling server each in their own process.`,
    '',
    `| operation | ${sizes.map((size) => `${Number(size).toLocaleString('en-US')} docs`).join(' | ')} |`,
    `| --- | ${sizes.map(() => '---').join(' | ')} |`,
    ...OPERATIONS.map((op) => `| ${op} | ${sizes.map((size) => results[size][op]).join(' | ')} |`),
  ];
  const ceiling = report.ceiling as { opsPerSecond: number; runs: number[] } | undefined;
  const goal = report.goal as
    { name: string; target: string; actual: string; met: boolean } | undefined;
  if (ceiling && goal) {
    const ratios = report.findOneByIdToCeiling as Record<string, number>;
    lines.push(
      '',
      `Ceiling: the same driver's findOne against a canned-reply wire server (bench/lib/canned-wire-server.ts): ${ceiling.opsPerSecond} ops/s (runs: ${ceiling.runs.join(', ')}), measured in turns with the engine's runs.`,
      '',
      '| findOne by _id / ceiling | ratio |',
      '| --- | --- |',
      ...sizes.map((size) => `| ${Number(size).toLocaleString('en-US')} docs | ${ratios[size]}× |`),
      '',
      `Goal: ${goal.name}: ${goal.target}; measured ${goal.actual}: ${goal.met ? 'met' : 'NOT met'}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
