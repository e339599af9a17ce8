import { Long } from 'bson';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { startTestDatabase, type TestDatabase } from './support/database';

/** Results handed over in batches: find/aggregate first batches, getMore and killCursors. */
describe('cursors', () => {
  let database: TestDatabase;
  let client: MongoClient;
  let db: Db;
  const started: CommandStartedEvent[] = [];
  const name = 'numbers';

  beforeAll(async () => {
    database = await startTestDatabase();
    client = await MongoClient.connect(database.uri, { monitorCommands: true });
    client.on('commandStarted', (event) => started.push(event));
    db = client.db();
    await db.collection(name).insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
  });

  afterAll(async () => {
    await client.close();
    await database.stop();
  });

  beforeEach(() => {
    started.length = 0;
  });

  const commandsNamed = (command: string) => started.filter((e) => e.commandName === command);

  it('returns 101 documents in the first batch by default', async () => {
    const reply = await db.command({ find: name, filter: {} });
    expect(reply.cursor.firstBatch).toHaveLength(101);
    expect(reply.cursor.ns).toBe(`${database.dbName}.${name}`);
    expect(Long.fromValue(reply.cursor.id).isZero()).toBe(false);
  });

  it('delivers every document through getMore in batches of batchSize', async () => {
    const docs = await db.collection(name).find({}).batchSize(40).toArray();
    expect(docs.map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    // 40 in the first batch, then 210 more in batches of 40.
    expect(commandsNamed('getMore')).toHaveLength(6);
  });

  it('closes the cursor (id 0) with the batch that exhausts it', async () => {
    const first = await db.command({ find: name, filter: { i: { $lt: 5 } }, batchSize: 3 });
    expect(first.cursor.firstBatch).toHaveLength(3);
    const more = await db.command({
      getMore: first.cursor.id,
      collection: name,
      batchSize: 10,
    });
    expect(more.cursor.nextBatch.map((d: { i: number }) => d.i)).toEqual([3, 4]);
    expect(Long.fromValue(more.cursor.id).isZero()).toBe(true);
  });

  it('still caps the first batch at 101 when the limit is larger', async () => {
    const first = await db.command({ find: name, filter: {}, limit: 150 });
    expect(first.cursor.firstBatch).toHaveLength(101);
    const rest = await db.command({ getMore: first.cursor.id, collection: name });
    expect(rest.cursor.nextBatch).toHaveLength(49);
    expect(Long.fromValue(rest.cursor.id).isZero()).toBe(true);
  });

  it('returns at most limit documents across batches', async () => {
    const docs = await db.collection(name).find({}).limit(7).batchSize(3).toArray();
    expect(docs).toHaveLength(7);
  });

  it('returns one batch and no cursor with singleBatch', async () => {
    const reply = await db.command({ find: name, filter: {}, batchSize: 5, singleBatch: true });
    expect(reply.cursor.firstBatch).toHaveLength(5);
    expect(Long.fromValue(reply.cursor.id).isZero()).toBe(true);
  });

  it('kills a cursor, after which getMore reports CursorNotFound', async () => {
    const first = await db.command({ find: name, filter: {}, batchSize: 2 });
    const id = first.cursor.id;
    const killed = await db.command({ killCursors: name, cursors: [id] });
    expect(killed.cursorsKilled.map((c: unknown) => Long.fromValue(c as Long).toString())).toEqual([
      Long.fromValue(id).toString(),
    ]);
    expect(killed.cursorsNotFound).toEqual([]);
    await expect(db.command({ getMore: id, collection: name })).rejects.toMatchObject({
      code: 43,
      codeName: 'CursorNotFound',
    });
  });

  it('closes the server cursor when the driver cursor is closed early', async () => {
    const cursor = db.collection(name).find({}).batchSize(10);
    await cursor.next();
    await cursor.close();
    expect(commandsNamed('killCursors')).toHaveLength(1);
  });

  it('batches aggregate results the same way', async () => {
    const docs = await db
      .collection(name)
      .aggregate([{ $match: { i: { $gte: 100 } } }, { $sort: { i: -1 } }], { batchSize: 25 })
      .toArray();
    expect(docs).toHaveLength(150);
    expect(docs[0].i).toBe(249);
    expect(commandsNamed('getMore').length).toBeGreaterThanOrEqual(5);
  });

  it('answers find on a missing collection with an empty, closed cursor', async () => {
    const reply = await db.command({ find: 'does_not_exist', filter: {} });
    expect(reply.cursor.firstBatch).toEqual([]);
    expect(Long.fromValue(reply.cursor.id).isZero()).toBe(true);
  });
});
