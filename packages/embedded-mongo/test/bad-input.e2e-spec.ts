import { serialize } from 'bson';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../src';
import { frame, opMsg, RawClient } from './support/raw-wire';

/** Bad bytes close only the connection that sent them; a real mongod is not ours to poke at. */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

engineOnly('bad input', () => {
  let engine: EmbeddedMongo;
  let client: MongoClient;
  const logged: string[] = [];

  beforeAll(async () => {
    engine = await startEmbeddedMongo({ logger: { warn: (message) => logged.push(message) } });
    client = await MongoClient.connect(`${engine.uri}/bad_input`);
    await client.db().collection('survivors').insertOne({ still: 'here' });
  });

  afterAll(async () => {
    await client.close();
    await engine.stop();
  });

  beforeEach(() => {
    logged.length = 0;
  });

  /** Sends the bytes, expects the connection closed with `reason` logged, and others served. */
  async function expectRejected(bytes: Buffer, reason: RegExp): Promise<void> {
    const offender = await RawClient.connect(engine.uri);
    const bystander = await RawClient.connect(engine.uri);
    offender.write(bytes);
    await offender.waitForClose();
    expect(offender.replies).toHaveLength(0);
    expect(logged.join('\n')).toMatch(reason);

    bystander.write(opMsg({ ping: 1, $db: 'admin' }));
    const [reply] = await bystander.waitForReplies(1);
    expect(reply.document.ok).toBe(1);
    bystander.destroy();
    expect(
      await client
        .db()
        .collection('survivors')
        .findOne({}, { projection: { _id: 0 } }),
    ).toEqual({
      still: 'here',
    });
  }

  it('logs that data lives in memory only, once, at start', async () => {
    const messages: string[] = [];
    const other = await startEmbeddedMongo({
      logger: { warn: (message) => messages.push(message) },
    });
    await other.stop();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/in memory only.*not a production database/);
  });

  it('closes a connection announcing a message larger than maxMessageSizeBytes', async () => {
    const header = Buffer.alloc(16);
    header.writeInt32LE(48_000_001, 0);
    header.writeInt32LE(2013, 12);
    await expectRejected(header, /exceeds maxMessageSizeBytes/);
  });

  it('closes a connection whose length prefix is smaller than a header', async () => {
    const header = Buffer.alloc(16);
    header.writeInt32LE(3, 0);
    await expectRejected(header, /smaller than a message header/);
  });

  it('closes a connection sending invalid BSON', async () => {
    const body = Buffer.from(serialize({ ping: 1, $db: 'admin' }));
    body[4] = 0x7e; // not a BSON element type
    const flags = Buffer.alloc(4);
    await expectRejected(
      frame(2013, Buffer.concat([flags, Buffer.from([0]), body])),
      /invalid BSON/,
    );
  });

  it('closes a connection whose BSON length runs past the message', async () => {
    const body = Buffer.from(serialize({ ping: 1, $db: 'admin' }));
    body.writeInt32LE(body.length + 100, 0);
    const flags = Buffer.alloc(4);
    await expectRejected(
      frame(2013, Buffer.concat([flags, Buffer.from([0]), body])),
      /does not fit/,
    );
  });

  it('closes a connection using an opCode it does not support', async () => {
    await expectRejected(frame(2012, Buffer.from(serialize({}))), /unsupported opCode 2012/);
  });

  it('closes a connection that speaks another protocol', async () => {
    await expectRejected(
      Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      /exceeds maxMessageSizeBytes|smaller than a message header/,
    );
  });

  it('keeps serving after a client disconnects in the middle of a message', async () => {
    const quitter = await RawClient.connect(engine.uri);
    quitter.write(opMsg({ ping: 1, $db: 'admin' }).subarray(0, 10));
    quitter.destroy();
    await quitter.waitForClose();
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('answers an OP_MSG without $db with an error rather than closing', async () => {
    const connection = await RawClient.connect(engine.uri);
    connection.write(opMsg({ ping: 1 }));
    const [reply] = await connection.waitForReplies(1);
    expect(reply.document).toMatchObject({ ok: 0, code: 40571 });
    connection.destroy();
  });
});
