import mongoose, { Schema } from 'mongoose';
import { MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from './support/database';

/** TTL indexes need a short monitor interval, which only the engine offers (mongod: 60 s). */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

engineOnly('TTL indexes', () => {
  let database: TestDatabase;
  let client: MongoClient;

  beforeAll(async () => {
    database = await startTestDatabase({ ttlMonitorIntervalMs: 100 });
    client = await MongoClient.connect(database.uri);
  });

  afterAll(async () => {
    await client.close();
    await database.stop();
  });

  it('removes documents whose date is older than expireAfterSeconds, and only those', async () => {
    const sessions = client.db().collection('ttl_sessions');
    await sessions.createIndex({ lastSeenAt: 1 }, { expireAfterSeconds: 60 });
    const now = Date.now();
    await sessions.insertMany([
      { name: 'stale', lastSeenAt: new Date(now - 61_000) },
      { name: 'fresh', lastSeenAt: new Date(now) },
      { name: 'array-with-stale-date', lastSeenAt: [new Date(now), new Date(now - 120_000)] },
      { name: 'not-a-date', lastSeenAt: 'yesterday' },
      { name: 'missing' },
    ]);
    await eventually(async () => (await sessions.countDocuments()) === 3);
    const names = (await sessions.find().toArray()).map((d) => d.name).sort();
    expect(names).toEqual(['fresh', 'missing', 'not-a-date']);
  });

  it('removes expired documents from the other indexes too', async () => {
    const tokens = client.db().collection('ttl_tokens');
    await tokens.createIndex({ token: 1 }, { unique: true });
    await tokens.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await tokens.insertOne({ token: 'reused', expiresAt: new Date(Date.now() - 1000) });
    await eventually(async () => (await tokens.countDocuments()) === 0);
    // The unique key is free again once the expired document is gone.
    await tokens.insertOne({ token: 'reused', expiresAt: new Date(Date.now() + 60_000) });
    expect(await tokens.countDocuments({ token: 'reused' })).toBe(1);
  });

  it('expires documents of a Mongoose model declared with `expires`', async () => {
    const connection = await mongoose.createConnection(database.uri).asPromise();
    try {
      const Session = connection.model(
        'TtlSession',
        new Schema({ name: String, expiresAt: { type: Date, expires: 0 } }),
      );
      await Session.init();
      await Session.create([
        { name: 'gone', expiresAt: new Date(Date.now() - 1000) },
        { name: 'kept', expiresAt: new Date(Date.now() + 60_000) },
      ]);
      await eventually(async () => (await Session.countDocuments()) === 1);
      expect((await Session.findOne().lean())?.name).toBe('kept');
    } finally {
      await connection.close();
    }
  });
});
