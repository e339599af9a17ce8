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
import * as argon2 from 'argon2';
import { Mongoose, Types } from 'mongoose';
import { SessionSchema } from '../src/sessions/schemas/session.schema';
import { UserSchema } from '../src/users/schemas/user.schema';
import { withDb } from './lib/db';
import { expectStatus, pool } from './lib/http';
import { intEnv, round } from './lib/load';
import {
  appEnv,
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
const SAMPLE = intEnv('BENCH_MEMORY_SAMPLE', 5_000);
const BATCH = 5_000;

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
    const plain = doc.toObject({ depopulate: true, versionKey: false }) as Record<string, unknown>;
    templates.set(kind, plain);
    return plain;
  };
}

interface Snapshot {
  appRssMiB: number;
  engineRssMiB: number;
}

async function settle(app: App, engine: Engine): Promise<Snapshot> {
  // Give both processes a moment to finish in-flight work and collect garbage on their own.
  await sleep(1500);
  return { appRssMiB: mib(app.rss()), engineRssMiB: mib(engine.rss()) };
}

async function main(): Promise<void> {
  let engine: Engine | undefined;
  let app: App | undefined;
  try {
    engine = await startEngine();
    const uri = engine.uriFor(DB);
    app = await startApp('nest-sessions', 'dist/src/main.js', { env: appEnv(uri) });
    // One request first, so that the baseline includes the code paths a request warms up.
    await expectStatus(200, 'GET', `${app.baseUrl}/health`);
    const idle = await settle(app, engine);
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
      const live = await db.collection('sessions').countDocuments({ state: 'active' });
      if (live !== SESSIONS) throw new Error(`expected ${SESSIONS} active sessions, found ${live}`);
    });
    const insertSeconds = round((Date.now() - insertStarted) / 1000, 1);
    const loaded = await settle(app, engine);
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
    const used = { appRssMiB: mib(app.rss()), engineRssMiB: mib(engine.rss()) };
    const usedSettled = await settle(app, engine);
    console.log(`${SAMPLE} sessions used in ${useSeconds} s: app ${used.appRssMiB} MiB`);

    report({
      name: 'memory',
      title: `Memory with ${SESSIONS.toLocaleString('en-US')} live sessions`,
      method:
        `${SESSIONS.toLocaleString('en-US')} active sessions of ${USERS} users inserted in bulk (built with the app's ` +
        `schemas), then ${SAMPLE.toLocaleString('en-US')} of them used through the API (refresh + GET /sessions/current). ` +
        'RSS read from /proc for the app and the engine, each its own process.',
      figures: [
        { name: 'app RSS, idle', value: idle.appRssMiB, unit: 'MiB' },
        {
          name: `app RSS, ${SESSIONS.toLocaleString('en-US')} sessions in the database`,
          value: loaded.appRssMiB,
          unit: 'MiB',
        },
        {
          name: `app RSS, right after using ${SAMPLE.toLocaleString('en-US')} of them`,
          value: used.appRssMiB,
          unit: 'MiB',
          note: `${usedSettled.appRssMiB} MiB 1.5 s later`,
        },
        { name: 'engine RSS, empty', value: idle.engineRssMiB, unit: 'MiB' },
        {
          name: `engine RSS, ${SESSIONS.toLocaleString('en-US')} sessions`,
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
        idle,
        loaded,
        used,
        usedSettled,
        useSeconds,
      },
    });
  } finally {
    await stopAll(app, engine);
  }
}

runBench(main);
