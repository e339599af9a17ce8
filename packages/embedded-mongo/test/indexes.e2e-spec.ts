import { MongoBulkWriteError, type Collection } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/** Index management and unique constraints, with mongod's errors. */
describe('indexes', () => {
  const driver = useDriverDatabase();
  let coll: Collection;

  beforeEach(async () => {
    coll = driver.db.collection(`c_${Math.random().toString(36).slice(2)}`);
  });

  it('creates an index, names it after its key and lists it after _id_', async () => {
    expect(await coll.createIndex({ email: 1, createdAt: -1 }, { unique: true })).toBe(
      'email_1_createdAt_-1',
    );
    const indexes = await coll.listIndexes().toArray();
    expect(indexes).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { email: 1, createdAt: -1 }, name: 'email_1_createdAt_-1', unique: true },
    ]);
  });

  it('treats creating an identical index again as a no-op', async () => {
    await coll.createIndex({ a: 1 });
    await coll.createIndex({ a: 1 });
    expect(await coll.listIndexes().toArray()).toHaveLength(2);
  });

  it('refuses to change the options of an index by creating it again (IndexOptionsConflict)', async () => {
    await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 10 });
    await expect(
      coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 20 }),
    ).rejects.toMatchObject({ code: 85 });
  });

  it('refuses a second name for an index that already exists (IndexOptionsConflict)', async () => {
    await coll.createIndex({ a: 1 });
    await expect(coll.createIndex({ a: 1 }, { name: 'other' })).rejects.toMatchObject({ code: 85 });
  });

  it('allows indexes on one key that differ by partial filter', async () => {
    await coll.createIndex({ a: 1 }, { name: 'a_active', partialFilterExpression: { on: true } });
    await coll.createIndex(
      { a: 1 },
      { name: 'a_inactive', partialFilterExpression: { on: false } },
    );
    expect(await coll.listIndexes().toArray()).toHaveLength(3);
  });

  it('refuses an index whose name is taken by another key (IndexKeySpecsConflict)', async () => {
    await coll.createIndex({ a: 1 }, { name: 'mine' });
    await expect(coll.createIndex({ b: 1 }, { name: 'mine' })).rejects.toMatchObject({ code: 86 });
  });

  it('refuses a partial filter mongod does not support', async () => {
    await expect(
      coll.createIndex({ a: 1 }, { partialFilterExpression: { a: { $exists: false } } }),
    ).rejects.toMatchObject({ code: 67 });
  });

  it('fails to build a unique index over existing duplicates', async () => {
    await coll.insertMany([{ a: 1 }, { a: 1 }]);
    await expect(coll.createIndex({ a: 1 }, { unique: true })).rejects.toMatchObject({
      code: 11000,
    });
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('drops indexes by name, by key and all at once', async () => {
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: 1 } }]);
    await coll.dropIndex('a_1');
    await coll.dropIndex({ b: 1 } as never);
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'c_1']);
    await coll.dropIndexes();
    expect((await coll.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('reports IndexNotFound for a missing index and refuses to drop _id_', async () => {
    await coll.insertOne({});
    await expect(coll.dropIndex('nope_1')).rejects.toMatchObject({ code: 27 });
    await expect(coll.dropIndex('_id_')).rejects.toMatchObject({ code: 72 });
  });

  it('reports NamespaceNotFound when listing the indexes of a missing collection', async () => {
    await expect(coll.listIndexes().toArray()).rejects.toMatchObject({ code: 26 });
  });

  it('stops an ordered insertMany at the first duplicate', async () => {
    await coll.createIndex({ email: 1 }, { unique: true });
    const error = await coll
      .insertMany([{ email: 'a' }, { email: 'a' }, { email: 'b' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoBulkWriteError);
    const bulk = error as MongoBulkWriteError;
    expect(bulk.insertedCount).toBe(1);
    expect(bulk.writeErrors).toMatchObject([{ index: 1, code: 11000 }]);
    expect(await coll.countDocuments()).toBe(1);
  });

  it('continues an unordered insertMany past duplicates, reporting each', async () => {
    await coll.createIndex({ email: 1 }, { unique: true });
    const error = (await coll
      .insertMany([{ email: 'a' }, { email: 'a' }, { email: 'b' }, { email: 'b' }], {
        ordered: false,
      })
      .catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(error.insertedCount).toBe(2);
    expect((error.writeErrors as unknown[]).length).toBe(2);
    expect(error.writeErrors).toMatchObject([
      { index: 1, code: 11000 },
      { index: 3, code: 11000 },
    ]);
  });

  it('reports keyPattern and keyValue on a duplicate', async () => {
    await coll.createIndex({ tenant: 1, email: 1 }, { unique: true });
    await coll.insertOne({ tenant: 't', email: 'e' });
    await expect(coll.insertOne({ tenant: 't', email: 'e' })).rejects.toMatchObject({
      code: 11000,
      keyPattern: { tenant: 1, email: 1 },
      keyValue: { tenant: 't', email: 'e' },
      message: expect.stringContaining('E11000 duplicate key error'),
    });
  });

  it('treats a missing field as null in a unique index, unless the index is sparse', async () => {
    await coll.createIndex({ a: 1 }, { unique: true });
    await coll.insertOne({ b: 1 });
    await expect(coll.insertOne({ b: 2 })).rejects.toMatchObject({ code: 11000 });
    const sparse = driver.db.collection(`${coll.collectionName}_sparse`);
    await sparse.createIndex({ a: 1 }, { unique: true, sparse: true });
    await sparse.insertMany([{ b: 1 }, { b: 2 }]);
    expect(await sparse.countDocuments()).toBe(2);
  });

  it('enforces uniqueness across the elements of an array', async () => {
    await coll.createIndex({ tags: 1 }, { unique: true });
    await coll.insertOne({ tags: ['x', 'y'] });
    await expect(coll.insertOne({ tags: ['z', 'x'] })).rejects.toMatchObject({ code: 11000 });
    await coll.insertOne({ tags: ['z', 'z'] });
  });

  it('enforces unique indexes on update, upsert and findOneAndUpdate', async () => {
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertMany([{ email: 'a' }, { email: 'b' }]);
    await expect(coll.updateOne({ email: 'b' }, { $set: { email: 'a' } })).rejects.toMatchObject({
      code: 11000,
    });
    await expect(
      coll.updateOne({ email: 'c', x: 1 }, { $set: { email: 'a' } }, { upsert: true }),
    ).rejects.toMatchObject({ code: 11000 });
    await expect(
      coll.findOneAndUpdate({ email: 'b' }, { $set: { email: 'a' } }),
    ).rejects.toMatchObject({ code: 11000, keyValue: { email: 'a' } });
    expect(
      await coll
        .find({}, { projection: { _id: 0 } })
        .sort({ email: 1 })
        .toArray(),
    ).toEqual([{ email: 'a' }, { email: 'b' }]);
  });

  it('stops a multi-document update at the first duplicate, keeping earlier changes', async () => {
    await coll.createIndex({ slot: 1 }, { unique: true });
    await coll.insertMany([
      { _id: 1 as never, slot: 1, g: 1 },
      { _id: 2 as never, slot: 2, g: 1 },
    ]);
    await expect(coll.updateMany({ g: 1 }, { $set: { slot: 9 } })).rejects.toMatchObject({
      code: 11000,
    });
    const slots = (await coll.find({}).sort({ _id: 1 }).toArray()).map((d) => d.slot);
    expect(slots).toEqual([9, 2]);
  });

  it('finds documents through an index with equality and $in', async () => {
    await coll.createIndex({ userId: 1 });
    await coll.insertMany(Array.from({ length: 50 }, (_, i) => ({ userId: i % 5, i })));
    expect(await coll.countDocuments({ userId: 3 })).toBe(10);
    expect(await coll.countDocuments({ userId: { $in: [1, 2] }, i: { $lt: 20 } })).toBe(8);
  });
});
