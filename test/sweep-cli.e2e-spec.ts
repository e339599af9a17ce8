import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { SessionSweepService, SWEEP_LEASE } from '../src/sweep/session-sweep.service';
import { createTestApp, TEST_ENV } from './support/app';
import { nodeArgsFor } from './support/app-process';
import { startTestDatabase, TestDatabase } from './support/database';
import { storedSession } from './support/session-docs';

const run = promisify(execFile);
const DAY = 86_400_000;

describe('npm run sweep (e2e)', () => {
  let db: TestDatabase;
  let client: MongoClient;
  let cli: ChildProcess | undefined;

  beforeEach(async () => {
    db = await startTestDatabase();
    client = await MongoClient.connect(db.uri);
  });
  afterEach(async () => {
    if (cli && cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
    await client.close();
    await db.stop();
  });

  it('sweeps the configured database once, prints the result and logs it, and exits 0', async () => {
    const now = Date.now();
    const sessions = client.db(db.dbName).collection('sessions');
    await sessions.insertMany([
      storedSession({ lastSeenAt: new Date(now - 2 * 3600_000), expiresAt: new Date(now + DAY) }),
      storedSession({ lastSeenAt: new Date(now - 60_000), expiresAt: new Date(now - 1000) }),
      storedSession({ lastSeenAt: new Date(now - 60_000), expiresAt: new Date(now + DAY) }),
      storedSession({
        state: 'ended',
        endReason: 'logout',
        lastSeenAt: new Date(now - 40 * DAY),
        expiresAt: new Date(now - 39 * DAY),
        expiredAt: new Date(now - 31 * DAY),
      }),
    ]);

    const { stdout } = await run(process.execPath, nodeArgsFor('src/sweep/cli'), {
      cwd: join(__dirname, '..'),
      env: {
        ...process.env,
        JWT_SECRET: TEST_ENV.JWT_SECRET,
        MONGODB_URI: db.uri,
        LOG_LEVEL: 'info',
      },
    });

    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1])).toMatchObject({
      expiredIdle: 1,
      expiredAbsolute: 1,
      deleted: 1,
      durationMs: expect.any(Number),
    });
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'session sweep finished');
    expect(logged).toMatchObject({
      level: 30,
      context: 'SessionSweepService',
      expiredIdle: 1,
      expiredAbsolute: 1,
      deleted: 1,
      batches: expect.any(Number),
    });
    expect(await sessions.countDocuments({ state: 'active' })).toBe(1);
    expect(await sessions.countDocuments()).toBe(3);
  });

  it('leaves its lease behind when killed mid-sweep, and an instance takes it over once it lapses', async () => {
    const now = Date.now();
    const sessions = client.db(db.dbName).collection('sessions');
    const total = 3000;
    await sessions.insertMany(
      Array.from({ length: total }, () =>
        storedSession({
          lastSeenAt: new Date(now - 2 * 3600_000),
          expiresAt: new Date(now + DAY),
        }),
      ),
    );
    const child = spawn(process.execPath, nodeArgsFor('src/sweep/cli'), {
      cwd: join(__dirname, '..'),
      env: {
        ...process.env,
        JWT_SECRET: TEST_ENV.JWT_SECRET,
        MONGODB_URI: db.uri,
        LOG_LEVEL: 'warn',
        SWEEP_BATCH_SIZE: '10',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    cli = child;
    let exitCode: number | null | undefined;
    const exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        exitCode = code;
        resolve(code);
      }),
    );
    // Kill it once it has done part of the work: the first batches are written down.
    while ((await sessions.countDocuments({ state: 'active' })) === total) {
      if (exitCode !== undefined) throw new Error(`the sweep exited early (${exitCode})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await exited;

    const leases = client.db(db.dbName).collection<{ _id: string; holder: string }>('leases');
    const left = await leases.findOne({ _id: SWEEP_LEASE });
    expect(left?.holder).toMatch(new RegExp(`:${child.pid}:`));
    const remaining = await sessions.countDocuments({ state: 'active' });
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(total);

    const t = await createTestApp({}, { db });
    try {
      t.clock.set(Date.now());
      const sweep = t.app.get(SessionSweepService);
      expect(await sweep.sweepOnce()).toMatchObject({ skipped: 'lease-held' });
      t.clock.advance(300_000);
      const result = await sweep.sweepOnce();
      expect(result.skipped).toBeUndefined();
      expect(result.expiredIdle).toBe(remaining);
      expect(await sessions.countDocuments({ state: 'active' })).toBe(0);
      expect(await leases.findOne({ _id: SWEEP_LEASE })).toBeNull();
    } finally {
      await t.close();
    }
  }, 120_000);
});
