import { MongoClient, type Db } from 'mongodb';
import { startTestDatabase, type TestDatabase } from '../support/database';

/** The aggregation stages the service uses, run through the aggregate command. */
describe('aggregation', () => {
  let database: TestDatabase;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    database = await startTestDatabase();
    client = await MongoClient.connect(database.uri);
    db = client.db();
    await db.collection('users').insertMany([
      { _id: 'u1' as never, name: 'Ann' },
      { _id: 'u2' as never, name: 'Bob' },
    ]);
    await db.collection('sessions').insertMany([
      { userId: 'u1', device: 'phone', tags: ['a', 'b'], active: true },
      { userId: 'u1', device: 'laptop', tags: ['b'], active: false },
      { userId: 'u2', device: 'phone', tags: [], active: true },
    ]);
  });

  afterAll(async () => {
    await client.close();
    await database.stop();
  });

  it('groups and counts', async () => {
    const result = await db
      .collection('sessions')
      .aggregate([{ $group: { _id: '$userId', sessions: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(result).toEqual([
      { _id: 'u1', sessions: 2 },
      { _id: 'u2', sessions: 1 },
    ]);
  });

  it('joins another collection with $lookup', async () => {
    const result = await db
      .collection('sessions')
      .aggregate([
        { $match: { device: 'phone' } },
        { $lookup: { from: 'users', localField: 'userId', foreignField: '_id', as: 'user' } },
        { $project: { _id: 0, device: 1, name: { $first: '$user.name' } } },
        { $sort: { name: 1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { device: 'phone', name: 'Ann' },
      { device: 'phone', name: 'Bob' },
    ]);
  });

  it('unwinds arrays and counts with $count', async () => {
    const [result] = await db
      .collection('sessions')
      .aggregate([{ $unwind: '$tags' }, { $count: 'tags' }])
      .toArray();
    expect(result).toEqual({ tags: 3 });
  });

  it('computes several facets at once', async () => {
    const [result] = await db
      .collection('sessions')
      .aggregate([
        {
          $facet: {
            total: [{ $count: 'n' }],
            active: [{ $match: { active: true } }, { $count: 'n' }],
          },
        },
      ])
      .toArray();
    expect(result).toEqual({ total: [{ n: 3 }], active: [{ n: 2 }] });
  });

  it('does not change stored documents when a stage rewrites them', async () => {
    await db
      .collection('sessions')
      .aggregate([{ $set: { device: 'changed', 'nested.x': 1 } }, { $unset: 'userId' }])
      .toArray();
    const devices = await db.collection('sessions').distinct('device');
    expect(devices.sort()).toEqual(['laptop', 'phone']);
    expect(await db.collection('sessions').countDocuments({ userId: { $exists: true } })).toBe(3);
  });

  it('answers an empty result for a missing collection', async () => {
    expect(
      await db
        .collection('nothing')
        .aggregate([{ $match: {} }])
        .toArray(),
    ).toEqual([]);
  });
});
