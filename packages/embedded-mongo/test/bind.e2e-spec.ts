import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { checkBindAddress, isLoopbackHost, startEmbeddedMongo } from '../src';

describe('listen address', () => {
  it('tells loopback addresses from others', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.1',
      'example.com',
      '127.0.0.1.nip.io',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
  });

  it.each(['0.0.0.0', '::'])(
    'refuses to listen on %s without the auth option',
    async (host) => {
      await expect(startEmbeddedMongo({ host, logger: { warn: () => undefined } })).rejects.toThrow(
        /refusing to listen on .* without authentication.*loopback/,
      );
    },
  );

  it('listens on 127.0.0.1 by default', async () => {
    const engine = await startEmbeddedMongo({ logger: { warn: () => undefined } });
    try {
      expect(engine.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await engine.stop();
    }
  });
});

describe('SCRAM-SHA-256 authentication (auth option)', () => {
  const auth = { username: 'app', password: 'correct horse battery staple' };
  let engine: Awaited<ReturnType<typeof startEmbeddedMongo>>;
  beforeAll(async () => {
    engine = await startEmbeddedMongo({ auth, logger: { warn: () => undefined } });
  });
  afterAll(() => engine.stop());

  const withUser = (username: string, password: string, db = 'app') =>
    engine.uri.replace(
      'mongodb://',
      `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@`,
    ) + `/${db}`;

  it('allows a non-loopback address only with credentials', () => {
    expect(() => checkBindAddress('0.0.0.0', true)).not.toThrow();
    expect(() => checkBindAddress('0.0.0.0', false)).toThrow(/without authentication/);
  });

  it('refuses every command but the handshake and ping before authentication', async () => {
    const client = await MongoClient.connect(engine.uri);
    try {
      expect(await client.db('app').command({ ping: 1 })).toMatchObject({ ok: 1 });
      await expect(client.db('app').collection('c').findOne()).rejects.toMatchObject({
        code: 13,
        codeName: 'Unauthorized',
      });
      await expect(client.db('app').collection('c').insertOne({ a: 1 })).rejects.toMatchObject({
        code: 13,
      });
    } finally {
      await client.close();
    }
  });

  it('authenticates the driver with the right password, any authSource', async () => {
    for (const db of ['app', 'admin']) {
      const client = await MongoClient.connect(withUser(auth.username, auth.password, db));
      try {
        await client.db('app').collection('c').insertOne({ db });
        expect(await client.db('app').collection('c').countDocuments({ db })).toBe(1);
      } finally {
        await client.close();
      }
    }
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const [user, password] of [
      [auth.username, 'wrong password'],
      ['someone', auth.password],
    ]) {
      await expect(
        MongoClient.connect(withUser(user, password), { serverSelectionTimeoutMS: 2000 }),
      ).rejects.toMatchObject({ code: 18 });
    }
  });

  it('authenticates Mongoose too', async () => {
    const connection = await mongoose
      .createConnection(withUser(auth.username, auth.password))
      .asPromise();
    try {
      const Model = connection.model('Thing', new mongoose.Schema({ name: String }));
      await Model.create({ name: 'x' });
      expect(await Model.countDocuments()).toBe(1);
    } finally {
      await connection.close();
    }
  });
});
