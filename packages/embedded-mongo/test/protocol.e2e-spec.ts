import { Long } from 'bson';
import { MongoClient } from 'mongodb';
import { startTestDatabase, type TestDatabase } from './support/database';
import { opMsg, opQuery, RawClient, requestIdOf } from './support/raw-wire';

const MORE_TO_COME = 1 << 1;
/** A real server may be a replica set, where transactions work. */
const engineOnly = process.env.MONGODB_URI ? it.skip : it;

/** The handshake, message framing and reply shapes, through the driver and raw sockets. */
describe('wire protocol', () => {
  let database: TestDatabase;
  let client: MongoClient;
  const raw: RawClient[] = [];

  const rawClient = async () => {
    const connection = await RawClient.connect(database.uri);
    raw.push(connection);
    return connection;
  };

  beforeAll(async () => {
    database = await startTestDatabase();
    client = await MongoClient.connect(database.uri);
  });

  afterEach(() => {
    for (const connection of raw.splice(0)) connection.destroy();
  });

  afterAll(async () => {
    await client.close();
    await database.stop();
  });

  it('answers hello as a writable primary with the limits the driver relies on', async () => {
    const reply = await client.db('admin').command({ hello: 1 });
    expect(reply).toMatchObject({
      ok: 1,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      minWireVersion: 0,
    });
    expect(reply.maxWireVersion).toBeGreaterThanOrEqual(17);
    expect(reply.localTime).toBeInstanceOf(Date);
    expect(typeof reply.logicalSessionTimeoutMinutes).toBe('number');
    expect(typeof reply.connectionId).toBe('number');
  });

  it('answers the legacy isMaster spelling with ismaster', async () => {
    const reply = await client.db('admin').command({ isMaster: 1 });
    expect(reply).toMatchObject({ ok: 1, ismaster: true });
  });

  it('answers a legacy OP_QUERY handshake with an OP_REPLY', async () => {
    const connection = await rawClient();
    const request = opQuery('admin.$cmd', { isMaster: 1, helloOk: true });
    connection.write(request);
    const [reply] = await connection.waitForReplies(1);
    expect(reply.opCode).toBe(1);
    expect(reply.responseTo).toBe(requestIdOf(request));
    expect(reply.document).toMatchObject({ ok: 1, ismaster: true, helloOk: true });
  });

  it('answers OP_MSG with OP_MSG, matching responseTo to the request id', async () => {
    const connection = await rawClient();
    const request = opMsg({ ping: 1, $db: 'admin' });
    connection.write(request);
    const [reply] = await connection.waitForReplies(1);
    expect(reply.opCode).toBe(2013);
    expect(reply.responseTo).toBe(requestIdOf(request));
    expect(reply.document).toEqual({ ok: 1 });
  });

  it('reassembles a message that arrives one byte at a time', async () => {
    const connection = await rawClient();
    const request = opMsg({ ping: 1, $db: 'admin' });
    for (let i = 0; i < request.length; i++) {
      connection.write(request.subarray(i, i + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [reply] = await connection.waitForReplies(1);
    expect(reply.document.ok).toBe(1);
  });

  it('answers several messages sent in one write, in order', async () => {
    const connection = await rawClient();
    const requests = [1, 2, 3].map(() => opMsg({ ping: 1, $db: 'admin' }));
    connection.write(Buffer.concat(requests));
    const replies = await connection.waitForReplies(3);
    expect(replies.map((reply) => reply.responseTo)).toEqual(requests.map(requestIdOf));
  });

  it('does not answer a moreToCome write but applies it', async () => {
    const connection = await rawClient();
    const collection = `fire_and_forget_${Date.now()}`;
    connection.write(
      opMsg(
        { insert: collection, documents: [{ _id: 1, a: 1 }], $db: database.dbName },
        MORE_TO_COME,
      ),
    );
    const find = opMsg({ find: collection, filter: {}, $db: database.dbName });
    connection.write(find);
    const [reply] = await connection.waitForReplies(1);
    expect(reply.responseTo).toBe(requestIdOf(find));
    expect(reply.document.cursor.firstBatch).toEqual([{ _id: 1, a: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connection.replies).toHaveLength(1);
  });

  it('applies unacknowledged (w: 0) writes sent by the driver', async () => {
    const single = await MongoClient.connect(database.uri, { maxPoolSize: 1 });
    try {
      const collection = single.db().collection(`w0_${Date.now()}`);
      await collection.insertOne({ a: 1 }, { writeConcern: { w: 0 } });
      expect(await collection.countDocuments({ a: 1 })).toBe(1);
    } finally {
      await single.close();
    }
  });

  it('answers an unknown command with ok: 0, code 59 CommandNotFound', async () => {
    const connection = await rawClient();
    connection.write(opMsg({ frobnicate: 1, $db: 'admin' }));
    const [reply] = await connection.waitForReplies(1);
    expect(reply.document).toMatchObject({ ok: 0, code: 59, codeName: 'CommandNotFound' });
    expect(typeof reply.document.errmsg).toBe('string');
  });

  it('puts cursor ids on the wire as 64-bit integers', async () => {
    const connection = await rawClient();
    const collection = `cursor_ids_${Date.now()}`;
    await client
      .db()
      .collection(collection)
      .insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    connection.write(opMsg({ find: collection, batchSize: 1, $db: database.dbName }));
    const [reply] = await connection.waitForReplies(1);
    expect(reply.document.cursor.id).toBeInstanceOf(Long);
    expect((reply.document.cursor.id as Long).isZero()).toBe(false);
  });

  it('serves many connections at once', async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => rawClient()));
    for (const connection of connections) {
      connection.write(Buffer.concat([1, 2, 3, 4, 5].map(() => opMsg({ ping: 1, $db: 'admin' }))));
    }
    const replies = await Promise.all(connections.map((c) => c.waitForReplies(5)));
    expect(replies.flat().every((reply) => reply.document.ok === 1)).toBe(true);

    const pooled = await MongoClient.connect(database.uri, { maxPoolSize: 20 });
    try {
      const collection = pooled.db().collection(`parallel_${Date.now()}`);
      await Promise.all(Array.from({ length: 200 }, (_, i) => collection.insertOne({ i })));
      expect(await collection.countDocuments()).toBe(200);
    } finally {
      await pooled.close();
    }
  });

  engineOnly('refuses transactions as a standalone mongod does (code 20)', async () => {
    const session = client.startSession();
    try {
      session.startTransaction();
      // Driver 7 rewraps a write's code 20 (IllegalOperation) as its "does not support retryable
      // writes" error and keeps the server's reply as `originalError`.
      await expect(
        client.db().collection('txn').insertOne({ a: 1 }, { session }),
      ).rejects.toMatchObject({ errorResponse: { originalError: { code: 20 } } });
    } finally {
      await session.endSession();
    }
  });

  it('applies concurrent single-document updates atomically', async () => {
    const pooled = await MongoClient.connect(database.uri, { maxPoolSize: 10 });
    try {
      const collection = pooled.db().collection(`atomic_${Date.now()}`);
      const { insertedId } = await collection.insertOne({ n: 0 });
      await Promise.all(
        Array.from({ length: 100 }, () =>
          collection.updateOne({ _id: insertedId }, { $inc: { n: 1 } }),
        ),
      );
      expect((await collection.findOne({ _id: insertedId }))?.n).toBe(100);
    } finally {
      await pooled.close();
    }
  });
});
