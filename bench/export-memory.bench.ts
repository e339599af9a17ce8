/**
 * Memory of the admin export (`GET /admin/sessions`) at 10,000 and 100,000 sessions: does it
 * grow with the number of sessions?
 *
 *   npm run bench:export     (builds, then: npx ts-node --transpile-only bench/export-memory.bench.ts)
 *
 * The embedded engine (its CLI) and the production build of the app each run in their own
 * process, the app with its V8 heap capped at BENCH_EXPORT_HEAP_MB and bench/apps/memory-probe.js
 * preloaded; this process is the HTTP client. Sessions are inserted straight into the database.
 * For each size and format the app is garbage-collected and its memory read (baseline); while
 * the whole export streams to a client that discards it, the app's memory is sampled every
 * SAMPLE_MS (peak RSS and heap, garbage included) and, every LIVE_SAMPLE_MS, right after a forced
 * GC (live heap: what the export really holds). Growth = peak minus baseline. One more run reads
 * the largest export slowly, so a server that ignored backpressure would have to buffer it.
 * Writes bench/results/export-memory.json.
 */
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { withDb } from './lib/db';
import { login } from './lib/http';
import { intEnv } from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  readCpuMs,
  ROOT,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { mib, report, runBench, type Figure, type Goal } from './lib/results';

const SIZES = (process.env.BENCH_EXPORT_SIZES ?? '10000,100000').split(',').map(Number);
/** The app's V8 heap cap: an export that held its sessions in memory would not fit. */
const HEAP_MB = intEnv('BENCH_EXPORT_HEAP_MB', 128);
const SAMPLE_MS = 20;
const LIVE_SAMPLE_MS = 500;
const INSERT_BATCH = 5_000;
const USERS = 1_000;
/** The slow client stops reading for SLOW_PAUSE_MS after every SLOW_EVERY_BYTES. */
const SLOW_EVERY_BYTES = 1024 * 1024;
const SLOW_PAUSE_MS = 200;
/** Live heap may differ by this much between sizes and still count as "does not grow". */
const LIVE_HEAP_TOLERANCE_MIB = 2;

type Format = 'json' | 'csv';
type ClientSpeed = 'fast' | 'slow';

/** Talks to bench/apps/memory-probe.js over IPC: `mem`, or `gc` then mem. */
function probe(app: App): (message: 'mem' | 'gc') => Promise<NodeJS.MemoryUsage> {
  const waiting: ((m: NodeJS.MemoryUsage) => void)[] = [];
  app.process.on('message', (m: { mem?: NodeJS.MemoryUsage }) => {
    if (m.mem) waiting.shift()?.(m.mem);
  });
  return (message) =>
    new Promise((done) => {
      waiting.push(done);
      app.process.send(message);
    });
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

/** Streams an export to nowhere; counts bytes and line ends. */
function download(
  app: App,
  token: string,
  format: Format,
  speed: ClientSpeed,
): Promise<{ bytes: number; lines: number }> {
  return new Promise((done, fail) => {
    const req = get(
      `${app.baseUrl}/admin/sessions?format=${format}`,
      { headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        if (res.statusCode !== 200) return fail(new Error(`export answered ${res.statusCode}`));
        let bytes = 0;
        let lines = 0;
        let sincePause = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) lines++;
          sincePause += chunk.length;
          if (speed === 'slow' && sincePause >= SLOW_EVERY_BYTES) {
            sincePause = 0;
            res.pause();
            setTimeout(() => res.resume(), SLOW_PAUSE_MS);
          }
        });
        res.on('end', () => done({ bytes, lines }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
  });
}

interface Run {
  sessions: number;
  format: Format;
  client: ClientSpeed;
  seconds: number;
  mibSent: number;
  baselineRssMiB: number;
  rssGrowthMiB: number;
  baselineHeapMiB: number;
  heapGrowthMiB: number;
  liveHeapGrowthMiB: number;
  appCpuSeconds: number;
  engineCpuSeconds: number;
}

async function measure(
  engine: Engine,
  app: App,
  ask: ReturnType<typeof probe>,
  token: string,
  sessions: number,
  format: Format,
  client: ClientSpeed,
): Promise<Run> {
  const base = await ask('gc');
  const baseRss = app.rss();
  const cpu = { app: readCpuMs(app.pid), engine: readCpuMs(engine.pid) };
  let peakRss = baseRss;
  let peakHeap = base.heapUsed;
  let peakLive = base.heapUsed;
  let done = false;
  const sampler = (async () => {
    let lastLive = Date.now();
    while (!done) {
      const live = Date.now() - lastLive >= LIVE_SAMPLE_MS;
      const m = await ask(live ? 'gc' : 'mem');
      if (live) {
        lastLive = Date.now();
        peakLive = Math.max(peakLive, m.heapUsed);
      }
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      await delay(SAMPLE_MS);
    }
  })();
  const started = process.hrtime.bigint();
  const { bytes, lines } = await download(app, token, format, client);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  done = true;
  await sampler;
  // json: "[", one line per record, "]"; csv: a header, one line per record (no label has a
  // line break here). The bench admin's own session is one more record.
  const records = format === 'json' ? lines - 2 : lines - 1;
  if (records !== sessions + 1) throw new Error(`expected ${sessions + 1} records, got ${records}`);
  return {
    sessions,
    format,
    client,
    seconds: Math.round(seconds * 100) / 100,
    mibSent: mib(bytes),
    baselineRssMiB: mib(baseRss),
    rssGrowthMiB: mib(peakRss - baseRss),
    baselineHeapMiB: mib(base.heapUsed),
    heapGrowthMiB: mib(peakHeap - base.heapUsed),
    liveHeapGrowthMiB: mib(peakLive - base.heapUsed),
    appCpuSeconds: Math.round((readCpuMs(app.pid) - cpu.app) / 100) / 10,
    engineCpuSeconds: Math.round((readCpuMs(engine.pid) - cpu.engine) / 100) / 10,
  };
}

function goals(runs: Run[]): Goal[] {
  const [small, large] = [Math.min(...SIZES), Math.max(...SIZES)];
  const out: Goal[] = [];
  for (const format of ['json', 'csv'] as const) {
    const a = runs.find((r) => r.sessions === small && r.format === format && r.client === 'fast');
    const b = runs.find((r) => r.sessions === large && r.format === format && r.client === 'fast');
    if (!a || !b || a === b) continue;
    out.push({
      name: `${format} export: live heap does not grow from ${small} to ${large} sessions`,
      target: `within ${LIVE_HEAP_TOLERANCE_MIB} MiB of the ${small}-session run`,
      actual: `${b.liveHeapGrowthMiB} MiB vs ${a.liveHeapGrowthMiB} MiB`,
      met: b.liveHeapGrowthMiB <= a.liveHeapGrowthMiB + LIVE_HEAP_TOLERANCE_MIB,
    });
  }
  const slow = runs.find((r) => r.client === 'slow');
  const fast = runs.find((r) => r.sessions === slow?.sessions && r.format === slow?.format);
  if (slow && fast) {
    out.push({
      name: 'a slow client does not make the server buffer (backpressure)',
      target: `live heap within ${LIVE_HEAP_TOLERANCE_MIB} MiB of the fast client's`,
      actual: `${slow.liveHeapGrowthMiB} MiB vs ${fast.liveHeapGrowthMiB} MiB`,
      met: slow.liveHeapGrowthMiB <= fast.liveHeapGrowthMiB + LIVE_HEAP_TOLERANCE_MIB,
    });
  }
  return out;
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  const runs: Run[] = [];
  try {
    engine = await startEngine();
    const uri = engine.uriFor('bench_export');
    app = await startApp('nest-sessions', 'dist/src/main.js', {
      env: appEnv(uri),
      nodeArgs: [
        '--expose-gc',
        `--max-old-space-size=${HEAP_MB}`,
        '-r',
        resolve(ROOT, 'bench/apps/memory-probe.js'),
      ],
      ipc: true,
    });
    const ask = probe(app);
    const { accessToken } = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
    await withDb(uri, async (db) => {
      const sessions = db.collection('sessions');
      // Warm up the code paths (JIT, lazy requires) so the first measured run is not penalised.
      await fill(sessions, 0, 1000);
      await download(app!, accessToken, 'json', 'fast');
      await download(app!, accessToken, 'csv', 'fast');
      let filled = 1000;
      for (const size of SIZES) {
        await fill(sessions, filled, size);
        filled = size;
        for (const format of ['json', 'csv'] as const) {
          runs.push(await measure(engine!, app!, ask, accessToken, size, format, 'fast'));
          console.log(JSON.stringify(runs[runs.length - 1]));
        }
      }
      runs.push(await measure(engine!, app!, ask, accessToken, filled, 'csv', 'slow'));
      console.log(JSON.stringify(runs[runs.length - 1]));
    });
  } finally {
    await stopAll(app, engine);
  }

  const figures: Figure[] = runs.flatMap((r) => {
    const what = `${r.sessions.toLocaleString('en-US')} sessions, ${r.format}, ${r.client} client`;
    return [
      {
        name: `${what}: live heap growth`,
        value: r.liveHeapGrowthMiB,
        unit: 'MiB',
        note: `peak heap +${r.heapGrowthMiB} MiB (garbage included), RSS +${r.rssGrowthMiB} MiB`,
      },
      {
        name: `${what}: app CPU`,
        value: r.appCpuSeconds,
        unit: 's',
        note: `${r.mibSent} MiB sent in ${r.seconds} s; engine CPU ${r.engineCpuSeconds} s`,
      },
    ];
  });
  report({
    name: 'export-memory',
    title: 'Admin export memory',
    method:
      `GET /admin/sessions (json and csv) of ${SIZES.join(' and ')} sessions from the production ` +
      `build with its heap capped at ${HEAP_MB} MB; app memory sampled every ${SAMPLE_MS} ms and, ` +
      `after a forced GC, every ${LIVE_SAMPLE_MS} ms (live heap); growth is peak minus the value ` +
      `before the export. The slow client pauses ${SLOW_PAUSE_MS} ms after every MiB.`,
    figures,
    goals: goals(runs),
    details: { heapCapMb: HEAP_MB, sampleMs: SAMPLE_MS, liveSampleMs: LIVE_SAMPLE_MS, runs },
  });
}

runBench(main);
