import { MongoClient, type Db } from 'mongodb';
import { startTestDatabase, type TestDatabase } from './support/database';

/** Creating, listing and dropping collections and databases. */
describe('collections and databases', () => {
  let database: TestDatabase;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    database = await startTestDatabase();
    client = await MongoClient.connect(database.uri);
    db = client.db();
  });

  afterAll(async () => {
    await client.close();
    await database.stop();
  });

  it('creates a collection explicitly and refuses to create it twice', async () => {
    await db.createCollection('explicit');
    await expect(db.command({ create: 'explicit' })).rejects.toMatchObject({
      code: 48,
      codeName: 'NamespaceExists',
    });
  });

  it('creates a collection implicitly on first insert', async () => {
    await db.collection('implicit').insertOne({ a: 1 });
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['explicit', 'implicit']));
  });

  it('lists collections with a filter and full information', async () => {
    const [info] = await db.listCollections({ name: 'implicit' }, { nameOnly: false }).toArray();
    expect(info).toMatchObject({ name: 'implicit', type: 'collection', options: {} });
    expect(info.info?.readOnly).toBe(false);
    expect(info.idIndex).toMatchObject({ key: { _id: 1 }, name: '_id_' });
  });

  it('drops a collection and its documents', async () => {
    await db.collection('doomed').insertOne({ a: 1 });
    expect(await db.collection('doomed').drop()).toBe(true);
    expect(await db.listCollections({ name: 'doomed' }).toArray()).toEqual([]);
    expect(await db.collection('doomed').countDocuments()).toBe(0);
  });

  it('lists the database once it holds data, and drops it', async () => {
    const other = client.db(`${database.dbName}_other`);
    await other.collection('x').insertOne({ a: 1 });
    const listed = await client.db('admin').admin().listDatabases();
    expect(listed.databases.map((d) => d.name)).toContain(other.databaseName);
    expect(await other.dropDatabase()).toBe(true);
    const after = await client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(after.databases.map((d) => d.name)).not.toContain(other.databaseName);
  });

  it('estimates and counts documents', async () => {
    const c = db.collection('counted');
    await c.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(await c.estimatedDocumentCount()).toBe(3);
    expect(await c.countDocuments({ a: { $gt: 1 } })).toBe(2);
  });

  it('answers ping and buildInfo', async () => {
    expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(typeof info.version).toBe('string');
    expect(Array.isArray(info.versionArray)).toBe(true);
  });
});
