/**
 * Memory of the admin export at 10,000 and 100,000 sessions: does it grow with N?
 *
 *   npm run bench:export        (or: npx ts-node --transpile-only bench/export-memory.bench.ts)
 *
 * The embedded engine runs in one child process, the app in another (bench/support/
 * app-process.ts, heap capped at APP_HEAP_MB), and this process is the HTTP client, so the
 * app's figures are its own. Sessions are inserted straight into the database. For each size
 * and format the app is garbage-collected and its memory read (baseline); while the whole
 * export streams to a client that discards it, memory is sampled every SAMPLE_MS (peak RSS and
 * heap, garbage included) and, every LIVE_SAMPLE_MS, read right after a forced GC (live heap:
 * what the export really holds). Growth = peak minus baseline. One more run reads the largest
 * export slowly, so a server that ignored backpressure would have to buffer it.
 * Prints a table and writes bench/results/export-memory.json.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const SAMPLE_MS = 20;
const LIVE_SAMPLE_MS = 500;
/** The app's V8 heap cap: an export that held its sessions in memory would not fit. */
const APP_HEAP_MB = Number(process.env.APP_HEAP_MB ?? 128);
const INSERT_BATCH = 5_000;
const USERS = 1_000;
/** The slow client stops reading for SLOW_PAUSE_MS after every SLOW_EVERY_BYTES. */
const SLOW_EVERY_BYTES = 1024 * 1024;
const SLOW_PAUSE_MS = 200;
const ADMIN = { username: 'bench-admin', password: 'bench-admin-password' };

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  cpu: { user: number; system: number };
}

/** CPU seconds a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return 0;
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

async function startEngine(): Promise<{ uri: string; child: ChildProcess }> {
  const cli = join(__dirname, '..', 'src', 'database', 'embedded-mongo', 'cli.ts');
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=4096', '-r', 'ts-node/register/transpile-only', cli, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line.startsWith('mongodb://')) return { uri: line.trim(), child };
  }
  throw new Error('the engine exited before printing its URI');
}

class AppProcess {
  private waiters: ((m: Mem) => void)[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: { mem?: Mem }) => {
      if (m.mem) this.waiters.shift()?.(m.mem);
    });
  }

  static async start(uri: string): Promise<AppProcess> {
    const child = fork(join(__dirname, 'support', 'app-process.ts'), [], {
      execArgv: [
        '--expose-gc',
        `--max-old-space-size=${APP_HEAP_MB}`,
        '-r',
        'ts-node/register/transpile-only',
      ],
      env: {
        ...process.env,
        MONGODB_URI: uri,
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`the app exited with ${code}`)));
    });
    return new AppProcess(child, port);
  }

  private ask(message: 'mem' | 'gc'): Promise<Mem> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.child.send(message);
    });
  }
  mem = () => this.ask('mem');
  gc = () => this.ask('gc');
  stop = () => this.child.send('stop');
}

function sessionDoc(i: number, now: number): Document {
  const user = i % USERS;
  const created = new Date(now - (i + 1) * 1000);
  const state = i % 10 === 0 ? 'ended' : i % 7 === 0 ? 'expired' : 'active';
  return {
    userId: new ObjectId(user.toString(16).padStart(24, '0')),
    username: `user-${user}`,
    groups: ['staff', `team-${user % 17}`],
    ip: `198.51.100.${i % 250}`,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126',
    label: i % 3 === 0 ? `laptop "${i}", office` : null,
    state,
    createdAt: created,
    lastSeenAt: new Date(now - 1000),
    expiresAt: new Date(created.getTime() + 7 * 86400_000),
    expiredAt: state === 'active' ? null : new Date(now - 500),
    endReason: state === 'ended' ? 'logout' : state === 'expired' ? 'admin' : null,
    refreshHash: randomBytes(32).toString('hex'),
    refreshHistory: [],
    rotatedAt: null,
    data: {},
  };
}

async function fill(sessions: Collection, from: number, to: number): Promise<void> {
  const now = Date.now();
  for (let i = from; i < to; i += INSERT_BATCH) {
    const docs = [];
    for (let j = i; j < Math.min(to, i + INSERT_BATCH); j++) docs.push(sessionDoc(j, now));
    await sessions.insertMany(docs, { ordered: false });
  }
}

async function token(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (res.status !== 201) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** Streams an export to nowhere; counts bytes and records (newlines after the header/array). */
function download(
  port: number,
  bearer: string,
  format: 'json' | 'csv',
  slow: boolean,
): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const req = get(
      `http://127.0.0.1:${port}/admin/sessions?format=${format}`,
      { headers: { Authorization: `Bearer ${bearer}` } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`export answered ${res.statusCode}`));
        let bytes = 0;
        let lines = 0;
        let sincePause = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) lines++;
          sincePause += chunk.length;
          if (slow && sincePause >= SLOW_EVERY_BYTES) {
            sincePause = 0;
            res.pause();
            setTimeout(() => res.resume(), SLOW_PAUSE_MS);
          }
        });
        res.on('end', () => resolve({ bytes, lines }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

interface Run {
  sessions: number;
  format: 'json' | 'csv';
  client: 'fast' | 'slow';
  seconds: number;
  megabytes: number;
  baselineRssMb: number;
  peakRssGrowthMb: number;
  baselineHeapMb: number;
  peakHeapGrowthMb: number;
  peakLiveHeapGrowthMb: number;
  appCpuSeconds: number;
  engineCpuSeconds: number;
  samples: number;
}

async function measure(
  engine: ChildProcess,
  app: AppProcess,
  bearer: string,
  sessions: number,
  format: 'json' | 'csv',
  client: 'fast' | 'slow',
): Promise<Run> {
  const base = await app.gc();
  const engineCpuBefore = cpuSecondsOf(engine.pid);
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let peakLive = base.heapUsed;
  let samples = 0;
  let done = false;
  const sampler = (async () => {
    let lastLive = Date.now();
    while (!done) {
      const live = Date.now() - lastLive >= LIVE_SAMPLE_MS;
      const m = live ? await app.gc() : await app.mem();
      if (live) {
        lastLive = Date.now();
        peakLive = Math.max(peakLive, m.heapUsed);
      }
      samples++;
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      await delay(SAMPLE_MS);
    }
  })();
  const started = process.hrtime.bigint();
  const { bytes, lines } = await download(app.port, bearer, format, client === 'slow');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  done = true;
  await sampler;
  const after = await app.mem();
  const appCpu = (after.cpu.user + after.cpu.system - base.cpu.user - base.cpu.system) / 1e6;
  const engineCpu = cpuSecondsOf(engine.pid) - engineCpuBefore;
  // json: "[", one line per record, "]"; csv: header plus one line per record (labels have no newline)
  const records = format === 'json' ? lines - 2 : lines - 1;
  if (records < sessions) throw new Error(`expected ${sessions}+ records, counted ${records}`);
  return {
    sessions,
    format,
    client,
    seconds: Math.round(seconds * 100) / 100,
    megabytes: mb(bytes),
    baselineRssMb: mb(base.rss),
    peakRssGrowthMb: mb(peakRss - base.rss),
    baselineHeapMb: mb(base.heapUsed),
    peakHeapGrowthMb: mb(peakHeap - base.heapUsed),
    peakLiveHeapGrowthMb: mb(peakLive - base.heapUsed),
    appCpuSeconds: Math.round(appCpu * 10) / 10,
    engineCpuSeconds: Math.round(engineCpu * 10) / 10,
    samples,
  };
}

async function main(): Promise<void> {
  const engine = await startEngine();
  const uri = `${engine.uri}/bench_export`;
  const client = await MongoClient.connect(uri);
  let app: AppProcess | undefined;
  const runs: Run[] = [];
  try {
    app = await AppProcess.start(uri);
    const bearer = await token(app.port);
    const sessions = client.db().collection('sessions');
    // Warm up the code paths (JIT, lazy requires) so the first measured run is not penalised.
    await fill(sessions, 0, 1000);
    await download(app.port, bearer, 'json', false);
    await download(app.port, bearer, 'csv', false);
    let filled = 1000;
    for (const size of SIZES) {
      await fill(sessions, filled, size);
      filled = size;
      for (const format of ['json', 'csv'] as const) {
        runs.push(await measure(engine.child, app, bearer, size, format, 'fast'));
        console.log(JSON.stringify(runs[runs.length - 1]));
      }
    }
    runs.push(await measure(engine.child, app, bearer, filled, 'csv', 'slow'));
    console.log(JSON.stringify(runs[runs.length - 1]));
  } finally {
    app?.stop();
    await client.close();
    engine.child.kill('SIGTERM');
  }

  const columns: [string, (r: Run) => string | number][] = [
    ['sessions', (r) => r.sessions],
    ['format', (r) => r.format],
    ['client', (r) => r.client],
    ['seconds', (r) => r.seconds],
    ['MB sent', (r) => r.megabytes],
    ['RSS growth MB', (r) => r.peakRssGrowthMb],
    ['heap growth MB', (r) => r.peakHeapGrowthMb],
    ['live heap growth MB', (r) => r.peakLiveHeapGrowthMb],
    ['app CPU s', (r) => r.appCpuSeconds],
    ['engine CPU s', (r) => r.engineCpuSeconds],
  ];
  console.log(`\napp heap cap ${APP_HEAP_MB} MB`);
  console.log(columns.map(([h]) => h).join(' | '));
  for (const r of runs)
    console.log(columns.map(([h, f]) => String(f(r)).padStart(h.length)).join(' | '));
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'export-memory.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        appHeapCapMb: APP_HEAP_MB,
        sampleMs: SAMPLE_MS,
        liveSampleMs: LIVE_SAMPLE_MS,
        runs,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
