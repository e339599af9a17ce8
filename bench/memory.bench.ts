/**
 * Memory with 100,000 live sessions: resident memory of the app process (and of the engine
 * process, which holds the data) before and after the sessions exist, and after a sample of them
 * has been used (so the app's session cache holds what real traffic would put there).
 *
 * The sessions are inserted straight into the database in bulk — built with the app's own
 * Mongoose schemas, so they have exactly the shape and defaults the app writes — because 100,000
 * logins would spend their time in argon2, not in what this measures. Each gets a random refresh
 * token (stored as its SHA-256, as the app stores it); the sample is then used through the public
 * API: `POST /auth/refresh` for an access token, then `GET /sessions/current`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import * as argon2 from 'argon2';
import { Mongoose, Types } from 'mongoose';
import { SessionSchema } from '../src/sessions/schemas/session.schema';
import { UserSchema } from '../src/users/schemas/user.schema';
import { withDb } from './lib/db';
import { expectStatus, login, pool } from './lib/http';
import { intEnv, round } from './lib/load';
import {
  appEnv,
  BENCH_ADMIN,
  ROOT,
  sleep,
  startApp,
  startEngine,
  stopAll,
  type App,
  type Engine,
} from './lib/processes';
import { mib, report, runBench } from './lib/results';

const DB = 'bench_memory';
const SESSIONS = intEnv('BENCH_MEMORY_SESSIONS', 100_000);
const USERS = intEnv('BENCH_MEMORY_USERS', 1_000);
const SAMPLE = intEnv('BENCH_MEMORY_SAMPLE', 2_000);
const BATCH = 5_000;
const CACHE_TTL_MS = 5_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Builds plain documents shaped by the app's schemas: the first of each kind goes through Mongoose
 * (defaults applied, validated), the rest copy it with their own values for the same fields
 * (building 100,000 Mongoose documents would take longer than inserting them).
 */
function documentFactory() {
  const mongoose = new Mongoose();
  const models = {
    user: mongoose.model('User', UserSchema),
    session: mongoose.model('Session', SessionSchema),
  };
  const templates = new Map<string, Record<string, unknown>>();
  return (kind: keyof typeof models, fields: Record<string, unknown>): Record<string, unknown> => {
    const template = templates.get(kind);
    if (template) return { ...template, _id: new Types.ObjectId(), ...fields };
    const doc = new models[kind](fields);
    const invalid = doc.validateSync();
    if (invalid) throw new Error(`bench ${kind} does not fit the app's schema: ${invalid.message}`);
    const plain: Record<string, unknown> = { ...doc.toObject({ depopulate: true, versionKey: false }) };
    templates.set(kind, plain);
    return plain;
  };
}

interface Snapshot {
  appRssMiB: number;
  /** The app's live heap: read right after a full garbage collection. */
  appHeapUsedMiB: number;
  engineRssMiB: number;
}

/** Asks the app (bench/apps/memory-probe.js) to collect garbage and report its memory. */
function appMemoryAfterGc(app: App): Promise<NodeJS.MemoryUsage> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('the app did not report its memory')), 10_000);
    const onMessage = (message: { mem?: NodeJS.MemoryUsage }) => {
      if (!message.mem) return;
      clearTimeout(timer);
      app.process.off('message', onMessage);
      done(message.mem);
    };
    app.process.on('message', onMessage);
    app.process.send('gc');
  });
}

async function snapshot(app: App, engine: Engine): Promise<Snapshot> {
  // A moment for in-flight work (and the engine's own collections) to finish.
  await sleep(1000);
  const mem = await appMemoryAfterGc(app);
  return {
    appRssMiB: mib(app.rss()),
    appHeapUsedMiB: mib(mem.heapUsed),
    engineRssMiB: mib(engine.rss()),
  };
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  try {
    engine = await startEngine();
    const uri = engine.uriFor(DB);
    app = await startApp('nest-sessions', 'dist/src/main.js', {
      env: appEnv(uri, { SESSION_CACHE_TTL_MS: String(CACHE_TTL_MS) }),
      nodeArgs: ['--expose-gc', '-r', resolve(ROOT, 'bench/apps/memory-probe.js')],
      ipc: true,
    });
    // A login and a request first, so that the baseline includes what serving them loads.
    const { accessToken } = await login(app.baseUrl, BENCH_ADMIN.username, BENCH_ADMIN.password);
    await expectStatus(200, 'GET', `${app.baseUrl}/sessions/current`, { token: accessToken });
    const idle = await snapshot(app, engine);
    console.log(`idle: app ${idle.appRssMiB} MiB, engine ${idle.engineRssMiB} MiB`);

    const make = documentFactory();
    const passwordHash = await argon2.hash(randomBytes(16).toString('hex'), {
      type: argon2.argon2id,
    });
    const now = Date.now();
    const refreshTokens: string[] = [];
    const userIds = Array.from({ length: USERS }, () => new Types.ObjectId());
    const insertStarted = Date.now();
    await withDb(uri, async (db) => {
      await db.collection('users').insertMany(
        userIds.map((_id, i) =>
          make('user', {
            _id,
            username: `bench-user-${i}`,
            passwordHash,
            roles: ['user'],
            groups: [],
          }),
        ),
      );
      for (let from = 0; from < SESSIONS; from += BATCH) {
        const batch = [];
        for (let i = from; i < Math.min(from + BATCH, SESSIONS); i++) {
          const refreshToken = randomBytes(32).toString('base64url');
          if (i < SAMPLE) refreshTokens.push(refreshToken);
          const createdAt = new Date(now - (SESSIONS - i) * 10);
          batch.push(
            make('session', {
              userId: userIds[i % USERS],
              username: `bench-user-${i % USERS}`,
              groups: [],
              ip: `198.51.100.${i % 250}`,
              userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
              lastSeenAt: createdAt,
              createdAt,
              expiresAt: new Date(createdAt.getTime() + 7 * 24 * 3600 * 1000),
              refreshHash: sha256(refreshToken),
            }),
          );
        }
        await db.collection('sessions').insertMany(batch, { ordered: false });
      }
      const live = await db
        .collection('sessions')
        .countDocuments({ state: 'active', username: { $regex: /^bench-user-/ } });
      if (live !== SESSIONS) throw new Error(`expected ${SESSIONS} active sessions, found ${live}`);
    });
    const insertSeconds = round((Date.now() - insertStarted) / 1000, 1);
    const loaded = await snapshot(app, engine);
    console.log(
      `${SESSIONS} sessions inserted in ${insertSeconds} s: app ${loaded.appRssMiB} MiB, engine ${loaded.engineRssMiB} MiB`,
    );

    const useStarted = Date.now();
    await pool(SAMPLE, 16, async (i) => {
      const refreshed = await expectStatus(200, 'POST', `${app!.baseUrl}/auth/refresh`, {
        body: { refreshToken: refreshTokens[i] },
      });
      await expectStatus(200, 'GET', `${app!.baseUrl}/sessions/current`, {
        token: refreshed.body.accessToken,
      });
    });
    const useSeconds = round((Date.now() - useStarted) / 1000, 1);
    const usedRssMiB = mib(app.rss());
    const used = await snapshot(app, engine);
    console.log(
      `${SAMPLE} sessions used in ${useSeconds} s: app ${usedRssMiB} MiB, heap ${used.appHeapUsedMiB} MiB`,
    );
    // Past the cache lifetime, with a little traffic (one request): is what the cache took for
    // sessions no longer in use given back?
    await sleep(CACHE_TTL_MS + 1000);
    await expectStatus(200, 'GET', `${app.baseUrl}/sessions/current`, { token: accessToken });
    const later = await snapshot(app, engine);
    const perSessionKiB = round(((used.appHeapUsedMiB - loaded.appHeapUsedMiB) * 1024) / SAMPLE, 2);
    const givenBackKiB = round(((used.appHeapUsedMiB - later.appHeapUsedMiB) * 1024) / SAMPLE, 2);
    const n = (x: number) => x.toLocaleString('en-US');

    report({
      name: 'memory',
      title: `Memory with ${n(SESSIONS)} live sessions`,
      method:
        `${n(SESSIONS)} active sessions of ${USERS} users inserted in bulk (built with the app's schemas), then ` +
        `${n(SAMPLE)} of them used through the API (refresh, then GET /sessions/current), SESSION_CACHE_TTL_MS=${CACHE_TTL_MS}. ` +
        'The app is the production build with an IPC probe preloaded that reports process.memoryUsage() after a full GC; ' +
        'RSS of the app and of the engine (its own process) read from /proc.',
      figures: [
        {
          name: 'app RSS, idle',
          value: idle.appRssMiB,
          unit: 'MiB',
          note: `live heap ${idle.appHeapUsedMiB} MiB`,
        },
        {
          name: `app RSS, ${n(SESSIONS)} sessions in the database`,
          value: loaded.appRssMiB,
          unit: 'MiB',
          note: `live heap ${loaded.appHeapUsedMiB} MiB`,
        },
        {
          name: `app RSS, right after using ${n(SAMPLE)} of them`,
          value: usedRssMiB,
          unit: 'MiB',
          note: `live heap ${used.appHeapUsedMiB} MiB after GC`,
        },
        {
          name: `app RSS, ${(CACHE_TTL_MS + 2000) / 1000} s later (past the cache lifetime), after one request`,
          value: later.appRssMiB,
          unit: 'MiB',
          note: `live heap ${later.appHeapUsedMiB} MiB after GC`,
        },
        {
          name: 'app live heap growth per used session',
          value: perSessionKiB,
          unit: 'KiB',
          note: `of which ${givenBackKiB} KiB given back once the cache lifetime has passed (the cache entry)`,
        },
        { name: 'engine RSS, empty', value: idle.engineRssMiB, unit: 'MiB' },
        {
          name: `engine RSS, ${n(SESSIONS)} sessions`,
          value: loaded.engineRssMiB,
          unit: 'MiB',
          note: `${round(((loaded.engineRssMiB - idle.engineRssMiB) * 1024) / SESSIONS, 2)} KiB per session incl. indexes`,
        },
        { name: 'bulk insert time', value: insertSeconds, unit: 's' },
      ],
      goals: [],
      details: {
        sessions: SESSIONS,
        users: USERS,
        sample: SAMPLE,
        cacheTtlMs: CACHE_TTL_MS,
        idle,
        loaded,
        usedRssMiB,
        used,
        later,
        useSeconds,
      },
    });
  } finally {
    await stopAll(app, engine);
  }
}

runBench(main);
