import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { nodeArgsFor } from './support/app-process';
import { startTestDatabase, TestDatabase } from './support/database';
import { storedSession } from './support/session-docs';

const run = promisify(execFile);
const DAY = 86_400_000;

describe('npm run sweep (e2e)', () => {
  let db: TestDatabase;
  let client: MongoClient;

  beforeEach(async () => {
    db = await startTestDatabase();
    client = await MongoClient.connect(db.uri);
  });
  afterEach(async () => {
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

    const { stdout } = await run(process.execPath, nodeArgsFor('sweep/cli'), {
      cwd: join(__dirname, '..'),
      env: { ...process.env, MONGODB_URI: db.uri, LOG_LEVEL: 'info' },
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
});
