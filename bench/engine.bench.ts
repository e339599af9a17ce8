/**
 * Driver-level throughput of the embedded engine at 10k and 1M documents.
 *
 *   npm run bench:engine            (or: npx ts-node --transpile-only bench/engine.bench.ts)
 *
 * BENCH_SIZES, BENCH_RUNS, BENCH_OPS, BENCH_CONCURRENCY and BENCH_OPERATIONS override the
 * defaults below.
 *
 * The engine runs in its own process (the CLI), so the client and the server do not share an
 * event loop. Each figure is the median of several runs of a fixed number of operations issued
 * with a fixed concurrency, the sizes taking turns. Prints a table and writes
 * bench/results/engine.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient, type Collection } from 'mongodb';

const SIZES = (process.env.BENCH_SIZES ?? '10000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS_PER_RUN = Number(process.env.BENCH_OPS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LOAD_BATCH = 10_000;
const ALL_OPERATIONS = ['insert', 'findOne', 'update', 'delete'] as const;
type Operation = (typeof ALL_OPERATIONS)[number];
const OPERATIONS = ALL_OPERATIONS.filter((op) =>
  (process.env.BENCH_OPERATIONS ?? ALL_OPERATIONS.join(',')).split(',').includes(op),
);

interface BenchDoc {
  key: string;
  email: string;
  n: number;
  createdAt: Date;
}

const makeDoc = (i: number): BenchDoc => ({
  key: `user-${i}`,
  email: `user-${i}@example.com`,
  n: i,
  createdAt: new Date(1_700_000_000_000 + i),
});

async function startEngineProcess(): Promise<{ uri: string; child: ChildProcess }> {
  const cli = join(__dirname, '..', 'packages', 'embedded-mongo', 'src', 'cli.ts');
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=6144', '-r', 'ts-node/register/transpile-only', cli, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('mongodb://')) return { uri: line.trim(), child };
  }
  throw new Error('engine exited before printing its URI');
}

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
  const { uri, child } = await startEngineProcess();
  const client = await MongoClient.connect(uri, { maxPoolSize: CONCURRENCY });
  const results: Record<string, Record<Operation, number>> = {};
  try {
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
    child.kill('SIGTERM');
  }

  console.log(`\nops/s, median of ${RUNS} runs of ${OPS_PER_RUN} ops, concurrency ${CONCURRENCY}`);
  console.table(results);
  const sizes = Object.keys(results);
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    runs: RUNS,
    opsPerRun: OPS_PER_RUN,
    concurrency: CONCURRENCY,
    opsPerSecond: results,
  };
  if (sizes.length >= 2) {
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
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
