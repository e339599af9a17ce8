import {
  MongoClient,
  type ChangeStreamDocument,
  type Db,
  type ResumeToken,
  type Timestamp,
} from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../src';

/** Change streams need the engine started as a replica set; a real server is not assumed to be one. */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

const quiet = { warn: () => undefined };

type Item = { _id: number; a?: number; n?: number; list?: number[] } & Record<string, unknown>;

engineOnly('change streams (engine started with replicaSet)', () => {
  let engine: EmbeddedMongo;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    engine = await startEmbeddedMongo({ replicaSet: 'rs0', logger: quiet });
    client = await MongoClient.connect(engine.uri);
    db = client.db('streams');
  });
  afterAll(async () => {
    await client.close();
    await engine.stop();
  });

  /**
   * The cluster time now (a member's hello carries it): a stream opened with it as
   * startAtOperationTime sees every later write, however late its aggregate reaches the engine.
   */
  async function now(): Promise<Timestamp> {
    const hello = await db.admin().command({ hello: 1 });
    return hello.lastWrite.opTime.ts as Timestamp;
  }

  it('answers hello as the primary of a one-member replica set, and the driver sees one', async () => {
    const hello = await db.admin().command({ hello: 1 });
    const me = engine.uri.replace('mongodb://', '');
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      setName: 'rs0',
      hosts: [me],
      primary: me,
      me,
      secondary: false,
    });
    // The driver discovered a replica set (transactions need one) rather than a standalone.
    const { topology } = client as unknown as { topology: { description: { type: string } } };
    expect(topology.description.type).toBe('ReplicaSetWithPrimary');
    const withSetName = await MongoClient.connect(`${engine.uri}/?replicaSet=rs0`);
    await withSetName.db('streams').collection('ping').insertOne({});
    await withSetName.close();
  });

  it('delivers insert, update, replace and delete events with their real shapes', async () => {
    const items = db.collection<Item>('items');
    const stream = items.watch([], {
      fullDocument: 'updateLookup',
      startAtOperationTime: await now(),
    });
    const events: ChangeStreamDocument<Item>[] = [];
    const collected = (async () => {
      for await (const event of stream) {
        events.push(event);
        if (events.length === 4) break;
      }
    })();
    await items.insertOne({ _id: 1, a: 1, drop: true, list: [1] });
    await items.updateOne({ _id: 1 }, {
      $set: { a: 2, 'sub.x': 1 },
      $unset: { drop: '' },
      $push: { list: 2 },
    } as never);
    await items.replaceOne({ _id: 1 }, { b: 1 });
    await items.deleteOne({ _id: 1 });
    await collected;
    await stream.close();

    expect(events.map((event) => event.operationType)).toEqual([
      'insert',
      'update',
      'replace',
      'delete',
    ]);
    const ns = { db: 'streams', coll: 'items' };
    expect(events[0]).toMatchObject({
      ns,
      documentKey: { _id: 1 },
      fullDocument: { _id: 1, a: 1, drop: true, list: [1] },
    });
    expect(events[1]).toMatchObject({
      ns,
      documentKey: { _id: 1 },
      updateDescription: {
        updatedFields: { a: 2, sub: { x: 1 }, 'list.1': 2 },
        removedFields: ['drop'],
        truncatedArrays: [],
      },
    });
    // updateLookup: the document as it is when the event is read (already replaced, then deleted).
    expect(events[1]).toHaveProperty('fullDocument');
    expect(events[2]).toMatchObject({
      ns,
      documentKey: { _id: 1 },
      fullDocument: { _id: 1, b: 1 },
    });
    expect(events[3]).toMatchObject({ ns, documentKey: { _id: 1 } });
    for (const event of events) {
      expect(event._id).toEqual({ _data: expect.stringMatching(/^[0-9a-f]+$/) });
      expect(event).toHaveProperty('clusterTime');
      expect(event).toHaveProperty('wallTime');
    }
  });

  it('returns the looked-up document for updates read while it still exists', async () => {
    const items = db.collection<Item>('lookup');
    await items.insertOne({ _id: 1, n: 1 });
    const getMores: unknown[] = [];
    const watcher = await MongoClient.connect(engine.uri, { monitorCommands: true });
    watcher.on('commandStarted', (event) => {
      if (event.commandName === 'getMore') getMores.push(event.command.maxTimeMS);
    });
    const stream = watcher
      .db('streams')
      .collection<Item>('lookup')
      .watch([], { fullDocument: 'updateLookup', maxAwaitTimeMS: 60_000 });
    const next = stream.next();
    // The aggregate answered with an empty batch; the getMore now waits up to 60 s.
    while (getMores.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await items.updateOne({ _id: 1 }, { $inc: { n: 1 } } as never);
    // The waiting getMore answers as soon as the write lands (the test would time out otherwise).
    expect(await next).toMatchObject({
      operationType: 'update',
      updateDescription: { updatedFields: { n: 2 } },
      fullDocument: { _id: 1, n: 2 },
    });
    expect(getMores).toEqual([60_000]);
    await stream.close();
    await watcher.close();
  });

  it('resumes after a token and filters with a pipeline', async () => {
    const items = db.collection<Item>('resume');
    const stream = items.watch([], { startAtOperationTime: await now() });
    const first = stream.next();
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const token = (await first)._id as ResumeToken;
    await stream.close();

    const resumed = items.watch([], { resumeAfter: token });
    expect(await resumed.next()).toMatchObject({ documentKey: { _id: 2 } });
    expect(await resumed.next()).toMatchObject({ documentKey: { _id: 3 } });
    await resumed.close();

    const filtered = items.watch([{ $match: { operationType: 'delete' } }], { startAfter: token });
    await items.deleteOne({ _id: 2 });
    expect(await filtered.next()).toMatchObject({
      operationType: 'delete',
      documentKey: { _id: 2 },
    });
    await filtered.close();
  });

  it('ends a collection stream with drop and invalidate, and startAfter the invalidate goes on', async () => {
    const items = db.collection<Item>('dropped');
    await items.insertOne({ _id: 0 });
    const stream = items.watch([], { startAtOperationTime: await now() });
    const drop = stream.next();
    await items.drop();
    expect(await drop).toMatchObject({
      operationType: 'drop',
      ns: { db: 'streams', coll: 'dropped' },
    });
    const invalidate = await stream.next();
    expect(invalidate.operationType).toBe('invalidate');
    expect(stream.closed).toBe(true);

    const after = items.watch([], { startAfter: invalidate._id });
    await items.insertOne({ _id: 9 });
    expect(await after.next()).toMatchObject({ operationType: 'insert', documentKey: { _id: 9 } });
    await after.close();
    await expect(items.watch([], { resumeAfter: invalidate._id }).next()).rejects.toMatchObject({
      code: 260,
    });
  });

  it('refuses a resume token from another run of the engine as history lost', async () => {
    const stale = { _data: `${'0'.repeat(16)}${'0'.repeat(16)}01` };
    await expect(
      db.collection('items').watch([], { resumeAfter: stale }).next(),
    ).rejects.toMatchObject({ code: 286 });
  });

  it('works through Mongoose Model.watch()', async () => {
    const connection = await mongoose
      .createConnection(`${engine.uri}/streams_mongoose`)
      .asPromise();
    try {
      const Token = connection.model('Token', new Schema({ user: String, revoked: Boolean }));
      await Token.init();
      const stream = Token.watch([{ $match: { operationType: { $in: ['insert', 'update'] } } }], {
        fullDocument: 'updateLookup',
        startAtOperationTime: await now(),
      });
      const events: Record<string, unknown>[] = [];
      const done = new Promise<void>((resolve) =>
        stream.on('change', (event: Record<string, unknown>) => {
          events.push(event);
          if (events.length === 2) resolve();
        }),
      );
      const token = await Token.create({ user: 'u1', revoked: false });
      await Token.updateOne({ _id: token._id }, { revoked: true });
      await done;
      await stream.close();
      expect(events[0]).toMatchObject({ operationType: 'insert', fullDocument: { user: 'u1' } });
      expect(events[1]).toMatchObject({
        operationType: 'update',
        updateDescription: { updatedFields: { revoked: true } },
        fullDocument: { user: 'u1', revoked: true },
      });
    } finally {
      await connection.close();
    }
  });
});

engineOnly('change streams on a standalone engine', () => {
  it('are refused with mongod’s error, naming the flag that enables them', async () => {
    const engine = await startEmbeddedMongo({ logger: quiet });
    const client = await MongoClient.connect(engine.uri);
    try {
      await expect(client.db('s').collection('c').watch().next()).rejects.toMatchObject({
        code: 40573,
        message: expect.stringMatching(/replica sets.*replSet/),
      });
    } finally {
      await client.close();
      await engine.stop();
    }
  });
});
