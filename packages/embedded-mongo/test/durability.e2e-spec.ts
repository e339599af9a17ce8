import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Decimal128,
  Double,
  Int32,
  Long,
  MongoClient,
  type CollectionInfo,
  type Db,
} from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../src';

/** These tests restart the engine on a directory, so they need the engine itself. */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

const quiet = { warn: () => undefined };

/** Documents with numeric `_id`s, which the driver's default schema types as ObjectId. */
type NumberedDoc = { _id: number } & Record<string, unknown>;
const numbered = (db: Db, name: string) => db.collection<NumberedDoc>(name);

engineOnly('durable data directory (dataDir)', () => {
  let dir: string;
  const running: EmbeddedMongo[] = [];
  const clients: MongoClient[] = [];

  async function start(options: { journalCompactBytes?: number } = {}) {
    const engine = await startEmbeddedMongo({ dataDir: dir, logger: quiet, ...options });
    running.push(engine);
    const client = await MongoClient.connect(engine.uri);
    clients.push(client);
    return { engine, client, db: client.db('durable') };
  }

  async function stopAll() {
    for (const client of clients.splice(0)) await client.close();
    for (const engine of running.splice(0)) await engine.stop();
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-mongo-durable-'));
  });
  afterEach(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps int32, int64, double and Decimal128 apart across a restart', async () => {
    const first = await start();
    await numbered(first.db, 'numbers').insertOne({
      _id: 1,
      i: new Int32(1),
      l: Long.fromNumber(1),
      d: new Double(1),
      m: Decimal128.fromString('1.10'),
    });
    await stopAll();
    const second = await start();
    const doc = await numbered(second.db, 'numbers').findOne(
      { _id: 1 },
      { promoteValues: false, promoteLongs: false },
    );
    expect(doc?.i).toBeInstanceOf(Int32);
    expect(doc?.l).toBeInstanceOf(Long);
    expect(doc?.d).toBeInstanceOf(Double);
    expect(String(doc?.m)).toBe('1.10');
    expect(await numbered(second.db, 'numbers').countDocuments({ i: { $type: 'int' } })).toBe(1);
  });

  it('keeps documents, BSON types, indexes and collection options across a restart', async () => {
    const first = await start();
    await first.db.createCollection('capped', { capped: true, size: 4096 });
    const users = numbered(first.db, 'users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 3600, name: 'ttl' });
    await users.insertMany([
      { _id: 1, email: 'a@x', big: Long.fromString('9007199254740993'), at: new Date(5) },
      { _id: 2, email: 'b@x', nested: { list: [1, 'two', null] } },
      { _id: 3, email: 'c@x' },
    ]);
    await users.updateOne({ _id: 2 }, { $set: { 'nested.flag': true } });
    await users.deleteOne({ _id: 3 });
    await first.db.collection('gone').insertOne({ x: 1 });
    await first.db.collection('gone').drop();
    await stopAll();

    const second = await start();
    const again = numbered(second.db, 'users');
    expect(await again.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 'a@x', big: Long.fromString('9007199254740993'), at: new Date(5) },
      { _id: 2, email: 'b@x', nested: { list: [1, 'two', null], flag: true } },
    ]);
    const indexes = await again.listIndexes().toArray();
    expect(indexes.map((index) => index.name)).toEqual(['_id_', 'email_1', 'ttl']);
    expect(indexes[2]).toMatchObject({ expireAfterSeconds: 3600 });
    // The unique index is enforced again, not only listed.
    await expect(again.insertOne({ _id: 99, email: 'a@x' })).rejects.toMatchObject({ code: 11000 });
    const collections = (await second.db.listCollections().toArray()) as CollectionInfo[];
    expect(collections.map((c) => c.name).sort()).toEqual(['capped', 'users']);
    expect(collections.find((c) => c.name === 'capped')?.options).toMatchObject({
      capped: true,
      size: 4096,
    });
  });

  it('refuses a second engine on the same directory while the first runs', async () => {
    await start();
    await expect(startEmbeddedMongo({ dataDir: dir, logger: quiet })).rejects.toThrow(
      /in use by another engine \(pid \d+/,
    );
  });

  it('takes over a stale lock left by a process that died', async () => {
    // The pid of a process that has exited: a crashed engine's lock looks like this.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(join(dir, 'mongod.lock'), `${dead.stdout.toString()}\n`);
    const { db } = await start();
    await db.collection('c').insertOne({ ok: true });
    expect(await db.collection('c').countDocuments()).toBe(1);
  });

  it('drops a torn journal tail (a write cut short by a crash) and keeps everything before it', async () => {
    const first = await start();
    await numbered(first.db, 'c').insertMany([{ _id: 1 }, { _id: 2 }]);
    await stopAll();
    // A crash mid-append: a length header promising more bytes than follow.
    const journal = readdirSync(dir).find((name) => name.startsWith('journal.'))!;
    appendFileSync(join(dir, journal), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5]));
    const second = await start();
    expect(await numbered(second.db, 'c').find().toArray()).toEqual([{ _id: 1 }, { _id: 2 }]);
    await numbered(second.db, 'c').insertOne({ _id: 3 });
    await stopAll();
    const third = await start();
    expect(await numbered(third.db, 'c').countDocuments()).toBe(3);
  });

  it('compacts the journal into a snapshot past its size threshold without losing writes', async () => {
    const first = await start({ journalCompactBytes: 4096 });
    const c = numbered(first.db, 'c');
    await c.createIndex({ n: 1 }, { unique: true });
    for (let i = 0; i < 200; i++) {
      await c.insertOne({ _id: i, n: i, pad: 'x'.repeat(100) });
      if (i % 3 === 0) await c.updateOne({ _id: i }, { $set: { seen: true } });
    }
    await c.deleteMany({ n: { $lt: 10 } });
    await stopAll();
    // Compacted while running: the first snapshot and journal (generation 1) are gone.
    const files = readdirSync(dir);
    const snapshots = files.filter((name) => name.startsWith('snapshot.'));
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).not.toBe('snapshot.0000000001');
    expect(files).not.toContain('journal.0000000001');

    const second = await start();
    const again = numbered(second.db, 'c');
    expect(await again.countDocuments()).toBe(190);
    expect(await again.countDocuments({ seen: true })).toBe(63);
    await expect(again.insertOne({ _id: 999, n: 50 })).rejects.toMatchObject({ code: 11000 });
  });

  it('acknowledges j:true and w:majority writes after the journal is synced', async () => {
    const { db } = await start();
    await numbered(db, 'c').insertOne({ _id: 1 }, { writeConcern: { j: true } });
    await numbered(db, 'c').insertOne({ _id: 2 }, { writeConcern: { w: 'majority' } });
    await stopAll();
    const { db: again } = await start();
    expect(await again.collection('c').countDocuments()).toBe(2);
  });
});
