import { useDriverDatabase } from './support/driver';

/** The aggregation stages the service uses, run through the aggregate command. */
describe('aggregation', () => {
  const driver = useDriverDatabase();

  beforeAll(async () => {
    await driver.db.collection('users').insertMany([
      { _id: 'u1' as never, name: 'Ann' },
      { _id: 'u2' as never, name: 'Bob' },
    ]);
    await driver.db.collection('sessions').insertMany([
      { userId: 'u1', device: 'phone', tags: ['a', 'b'], active: true },
      { userId: 'u1', device: 'laptop', tags: ['b'], active: false },
      { userId: 'u2', device: 'phone', tags: [], active: true },
    ]);
  });

  it('groups and counts', async () => {
    const result = await driver.db
      .collection('sessions')
      .aggregate([{ $group: { _id: '$userId', sessions: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(result).toEqual([
      { _id: 'u1', sessions: 2 },
      { _id: 'u2', sessions: 1 },
    ]);
  });

  it('joins another collection with $lookup', async () => {
    const result = await driver.db
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
    const [result] = await driver.db
      .collection('sessions')
      .aggregate([{ $unwind: '$tags' }, { $count: 'tags' }])
      .toArray();
    expect(result).toEqual({ tags: 3 });
  });

  it('computes several facets at once', async () => {
    const [result] = await driver.db
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
    await driver.db
      .collection('sessions')
      .aggregate([{ $set: { device: 'changed', 'nested.x': 1 } }, { $unset: 'userId' }])
      .toArray();
    const devices = await driver.db.collection('sessions').distinct('device');
    expect(devices.sort()).toEqual(['laptop', 'phone']);
    expect(
      await driver.db.collection('sessions').countDocuments({ userId: { $exists: true } }),
    ).toBe(3);
  });

  it('answers an empty result for a missing collection', async () => {
    expect(
      await driver.db
        .collection('nothing')
        .aggregate([{ $match: {} }])
        .toArray(),
    ).toEqual([]);
  });
});
