import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';

/**
 * Crash safety: an engine process with --dbpath is SIGKILLed at a random moment while writers
 * run, then restarted on the same directory. Every write the writers saw acknowledged must be
 * there, and no multi-document write may be there in part.
 */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

const CLI = join(__dirname, '..', 'src', 'cli.ts');
const ITERATIONS = 3;
const BATCH = 5;
const WRITERS = 4;
/** ts-node compiles the CLI on every start, which takes seconds on a busy machine. */
const TIMEOUT_MS = 180_000;

function startEngine(dir: string): {
  child: ChildProcess;
  uri: Promise<string>;
  stderr: () => string;
} {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', CLI, '--port', '0', '--dbpath', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const uri = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) return line.trim();
    throw new Error(`the engine exited without printing its URI: ${stderr}`);
  })();
  return { child, uri, stderr: () => stderr };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

engineOnly('crash safety (SIGKILL at random points)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-mongo-kill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'loses no acknowledged write and leaves no multi-document write half applied',
    async () => {
      const acknowledgedBatches = new Set<string>();
      let acknowledgedIncs = 0;
      let attemptedIncs = 0;

      for (let iteration = 0; iteration < ITERATIONS; iteration++) {
        const engine = startEngine(dir);
        const uri = await engine.uri;
        const client = await MongoClient.connect(uri, {
          retryWrites: false,
          serverSelectionTimeoutMS: 2000,
          maxPoolSize: WRITERS,
        });
        const batches = client.db('crash').collection('batches');
        const counter = client.db('crash').collection('counter');

        // What earlier lives of the engine acknowledged is all there, and whole.
        const docs = await batches.find().toArray();
        const perBatch = new Map<string, number>();
        for (const doc of docs)
          perBatch.set(doc.batch as string, (perBatch.get(doc.batch as string) ?? 0) + 1);
        for (const batch of acknowledgedBatches) expect(perBatch.get(batch)).toBe(BATCH);
        for (const [batch, n] of perBatch) {
          expect([batch, n]).toEqual([batch, BATCH]);
          acknowledgedBatches.add(batch); // present whole: counts as written from now on
        }
        const count =
          ((await counter.findOne({ _id: 'n' as never }))?.n as number | undefined) ?? 0;
        expect(count).toBeGreaterThanOrEqual(acknowledgedIncs);
        expect(count).toBeLessThanOrEqual(attemptedIncs);
        acknowledgedIncs = count;
        attemptedIncs = count;

        let stop = false;
        const writer = async (w: number) => {
          for (let i = 0; !stop; i++) {
            const batch = `${iteration}-${w}-${i}`;
            try {
              await batches.insertMany(
                Array.from({ length: BATCH }, (_, k) => ({ batch, k })),
                i % 2 === 0 ? {} : { writeConcern: { j: true } },
              );
              acknowledgedBatches.add(batch);
              attemptedIncs++;
              await counter.updateOne({ _id: 'n' as never }, { $inc: { n: 1 } }, { upsert: true });
              acknowledgedIncs++;
            } catch {
              return; // the engine died under this write: it was never acknowledged
            }
          }
        };
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
        engine.child.kill('SIGKILL');
        await exited(engine.child);
        stop = true;
        await Promise.all(writers);
        await client.close(true);
      }

      // A last life checks the final killed one, and then shuts down cleanly.
      const engine = startEngine(dir);
      const client = await MongoClient.connect(await engine.uri);
      const docs = await client.db('crash').collection('batches').find().toArray();
      const perBatch = new Map<string, number>();
      for (const doc of docs)
        perBatch.set(doc.batch as string, (perBatch.get(doc.batch as string) ?? 0) + 1);
      for (const batch of acknowledgedBatches) expect(perBatch.get(batch)).toBe(BATCH);
      for (const n of perBatch.values()) expect(n).toBe(BATCH);
      const count = (await client.db('crash').collection('counter').findOne())?.n as number;
      expect(count).toBeGreaterThanOrEqual(acknowledgedIncs);
      expect(acknowledgedBatches.size).toBeGreaterThan(0);

      // While it runs, a second engine on the same directory is refused.
      const second = startEngine(dir);
      second.uri.catch(() => undefined);
      expect(await exited(second.child)).toBe(1);
      expect(second.stderr()).toMatch(/in use by another engine/);

      await client.close();
      engine.child.kill('SIGTERM');
      expect(await exited(engine.child)).toBe(0);
    },
    TIMEOUT_MS,
  );
});
