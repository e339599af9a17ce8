import { ObjectId, type Collection } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/** Basic reads and writes, each case written from MongoDB's documented behaviour. */
describe('CRUD through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection;

  beforeEach(async () => {
    items = driver.db.collection(`items_${Math.random().toString(36).slice(2)}`);
  });

  it('generates an _id when the document has none and returns _id first', async () => {
    const result = await driver.db
      .collection('raw')
      .insertOne({ a: 1 }, { forceServerObjectId: true });
    expect(result.acknowledged).toBe(true);
    const stored = await driver.db.collection('raw').findOne({ a: 1 });
    expect(stored?._id).toBeInstanceOf(ObjectId);
    expect(Object.keys(stored ?? {})[0]).toBe('_id');
  });

  it('finds by ObjectId, by date range and by nested equality', async () => {
    const userId = new ObjectId();
    const now = Date.now();
    await items.insertMany([
      { userId, createdAt: new Date(now - 60_000), meta: { ip: '1.1.1.1' } },
      { userId: new ObjectId(), createdAt: new Date(now), meta: { ip: '2.2.2.2' } },
    ]);
    expect(await items.countDocuments({ userId })).toBe(1);
    expect(await items.countDocuments({ createdAt: { $lt: new Date(now - 1000) } })).toBe(1);
    expect(await items.countDocuments({ 'meta.ip': '2.2.2.2' })).toBe(1);
    const byId = await items.findOne({ userId });
    expect(await items.findOne({ _id: byId?._id })).toEqual(byId);
  });

  it('matches null against both null and missing fields', async () => {
    await items.insertMany([{ a: null }, { b: 1 }, { a: 1 }]);
    expect(await items.countDocuments({ a: null })).toBe(2);
  });

  it('sorts, skips, limits and projects', async () => {
    await items.insertMany([1, 5, 3, 4, 2].map((n) => ({ n, hidden: true })));
    const docs = await items
      .find({}, { projection: { _id: 0, n: 1 } })
      .sort({ n: -1 })
      .skip(1)
      .limit(3)
      .toArray();
    expect(docs).toEqual([{ n: 4 }, { n: 3 }, { n: 2 }]);
  });

  it('sorts by $natural order, forwards and backwards', async () => {
    await items.insertMany([{ n: 2 }, { n: 3 }, { n: 1 }]);
    const backwards = await items.find({}, { sort: { $natural: -1 } }).toArray();
    expect(backwards.map((d) => d.n)).toEqual([1, 3, 2]);
    const forwards = await items.find({}, { sort: { $natural: 1 } }).toArray();
    expect(forwards.map((d) => d.n)).toEqual([2, 3, 1]);
  });

  it('sorts mixed types in BSON comparison order', async () => {
    await items.insertMany([
      { v: true },
      { v: 'b' },
      { v: 10 },
      { v: new Date(0) },
      { v: null },
      { v: { x: 1 } },
      { other: 1 },
      { v: 2 },
      { v: 'a' },
    ]);
    const values = (
      await items
        .find({}, { projection: { _id: 0 } })
        .sort({ v: 1 })
        .toArray()
    ).map((d) => d.v);
    expect(values.slice(2)).toEqual([2, 10, 'a', 'b', { x: 1 }, true, new Date(0)]);
    expect(values.slice(0, 2)).toEqual(expect.arrayContaining([null, undefined]));
  });

  it('updates with operators, counting matched and modified separately', async () => {
    await items.insertMany([
      { k: 1, n: 1 },
      { k: 1, n: 2 },
      { k: 2, n: 3 },
    ]);
    const many = await items.updateMany({ k: 1 }, { $inc: { n: 10 } });
    expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const noop = await items.updateOne({ k: 2 }, { $set: { n: 3 } });
    expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    expect((await items.find({ k: 1 }).sort({ n: 1 }).toArray()).map((d) => d.n)).toEqual([11, 12]);
  });

  it('upserts from the filter equalities and applies $setOnInsert only on insert', async () => {
    const first = await items.updateOne(
      { email: 'a@x.io' },
      { $set: { seen: 1 }, $setOnInsert: { createdAt: 'first' } },
      { upsert: true },
    );
    expect(first.upsertedCount).toBe(1);
    await items.updateOne(
      { email: 'a@x.io' },
      { $set: { seen: 2 }, $setOnInsert: { createdAt: 'second' } },
      { upsert: true },
    );
    const doc = await items.findOne({ email: 'a@x.io' }, { projection: { _id: 0 } });
    expect(doc).toEqual({ email: 'a@x.io', seen: 2, createdAt: 'first' });
  });

  it('replaces a document, keeping its _id', async () => {
    const { insertedId } = await items.insertOne({ a: 1, b: 2 });
    await items.replaceOne({ _id: insertedId }, { c: 3 });
    expect(await items.findOne({ _id: insertedId })).toEqual({ _id: insertedId, c: 3 });
  });

  it('refuses to change _id', async () => {
    const { insertedId } = await items.insertOne({ a: 1 });
    await expect(
      items.updateOne({ _id: insertedId }, { $set: { _id: new ObjectId() } }),
    ).rejects.toMatchObject({
      code: 66,
    });
  });

  it('accepts $set of the own _id of a document, on update and on upsert', async () => {
    await items.updateOne(
      { _id: 'sid' as never },
      { $set: { _id: 'sid', v: 1 } },
      { upsert: true },
    );
    await items.updateOne(
      { _id: 'sid' as never },
      { $set: { _id: 'sid', v: 2 } },
      { upsert: true },
    );
    expect(await items.find().toArray()).toEqual([{ _id: 'sid', v: 2 }]);
  });

  it('applies the common update operators', async () => {
    const { insertedId } = await items.insertOne({
      a: 1,
      b: 'x',
      list: [1, 2, 3],
      set: ['a'],
      low: 5,
      high: 5,
      gone: true,
      nested: { n: 2 },
    });
    await items.updateOne(
      { _id: insertedId },
      {
        $inc: { a: 2 },
        $rename: { b: 'renamed' },
        $push: { list: { $each: [4, 5] } as never },
        $addToSet: { set: 'a' },
        $min: { low: 1 },
        $max: { high: 9 },
        $unset: { gone: '' },
        $mul: { 'nested.n': 3 },
        $currentDate: { touchedAt: true },
      },
    );
    await items.updateOne(
      { _id: insertedId },
      { $pull: { list: { $gte: 4 } as never }, $pop: { set: 1 } },
    );
    const doc = await items.findOne({ _id: insertedId });
    expect(doc).toMatchObject({
      a: 3,
      renamed: 'x',
      list: [1, 2, 3],
      set: [],
      low: 1,
      high: 9,
      nested: { n: 6 },
    });
    expect(doc?.gone).toBeUndefined();
    expect(doc?.b).toBeUndefined();
    expect(doc?.touchedAt).toBeInstanceOf(Date);
  });

  it('refuses two operators on one path with ConflictingUpdateOperators', async () => {
    const { insertedId } = await items.insertOne({ a: 1 });
    await expect(
      items.updateOne({ _id: insertedId }, { $set: { a: 5 }, $inc: { a: 1 } }),
    ).rejects.toMatchObject({ code: 40 });
    await expect(
      items.updateOne({ _id: insertedId }, { $set: { 'n.x': 5 }, $unset: { n: '' } }),
    ).rejects.toMatchObject({ code: 40 });
  });

  it('rejects an unknown update operator with FailedToParse', async () => {
    await items.insertOne({ a: 1 });
    await expect(
      items.updateOne({ a: 1 }, { $frobnicate: { a: 2 } } as never),
    ).rejects.toMatchObject({
      code: 9,
    });
  });

  it('updates array elements selected by arrayFilters', async () => {
    const { insertedId } = await items.insertOne({ grades: [80, 95, 100] });
    await items.updateOne(
      { _id: insertedId },
      { $set: { 'grades.$[high]': 90 } },
      { arrayFilters: [{ high: { $gte: 95 } }] },
    );
    expect((await items.findOne({ _id: insertedId }))?.grades).toEqual([80, 90, 90]);
  });

  it('updates the element matched by the positional $ operator', async () => {
    const { insertedId } = await items.insertOne({
      devices: [
        { id: 'a', on: false },
        { id: 'b', on: false },
      ],
    });
    await items.updateOne(
      { _id: insertedId, 'devices.id': 'b' },
      { $set: { 'devices.$.on': true } },
    );
    expect((await items.findOne({ _id: insertedId }))?.devices).toEqual([
      { id: 'a', on: false },
      { id: 'b', on: true },
    ]);
  });

  it('deletes one or many', async () => {
    await items.insertMany([{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }]);
    expect((await items.deleteOne({ k: 1 })).deletedCount).toBe(1);
    expect((await items.deleteMany({ k: 1 })).deletedCount).toBe(2);
    expect(await items.countDocuments()).toBe(1);
  });

  it('findOneAndUpdate returns the document before or after the update', async () => {
    await items.insertOne({ k: 1, n: 1 });
    const before = await items.findOneAndUpdate({ k: 1 }, { $inc: { n: 1 } });
    expect(before?.n).toBe(1);
    const after = await items.findOneAndUpdate(
      { k: 1 },
      { $inc: { n: 1 } },
      { returnDocument: 'after', projection: { _id: 0 } },
    );
    expect(after).toEqual({ k: 1, n: 3 });
  });

  it('findOneAndUpdate picks the first document in sort order', async () => {
    await items.insertMany([{ n: 2 }, { n: 1 }, { n: 3 }]);
    const updated = await items.findOneAndUpdate(
      {},
      { $set: { picked: true } },
      { sort: { n: -1 }, returnDocument: 'after' },
    );
    expect(updated?.n).toBe(3);
  });

  it('findOneAndUpdate with upsert inserts and reports the new document', async () => {
    const result = await items.findOneAndUpdate(
      { key: 'x' },
      { $set: { v: 1 } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true },
    );
    expect(result.value).toMatchObject({ key: 'x', v: 1 });
    expect(result.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(result.lastErrorObject?.upserted).toEqual(result.value?._id);
  });

  it('findOneAndDelete removes and returns the document', async () => {
    await items.insertMany([{ n: 1 }, { n: 2 }]);
    const removed = await items.findOneAndDelete({}, { sort: { n: -1 } });
    expect(removed?.n).toBe(2);
    expect(await items.countDocuments()).toBe(1);
  });

  it('findOneAndUpdate finds nothing and returns null without upsert', async () => {
    expect(await items.findOneAndUpdate({ k: 'none' }, { $set: { a: 1 } })).toBeNull();
  });

  it('counts with skip and limit and lists distinct values flattening arrays', async () => {
    await items.insertMany([{ t: ['a', 'b'] }, { t: 'a' }, { t: 'c' }, { u: 1 }]);
    expect(await items.countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
    expect((await items.distinct('t')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('aggregates with $match, $group and $sort', async () => {
    await items.insertMany([
      { user: 'a', n: 1 },
      { user: 'b', n: 2 },
      { user: 'a', n: 3 },
    ]);
    const result = await items
      .aggregate([
        { $match: { n: { $gte: 1 } } },
        { $group: { _id: '$user', total: { $sum: '$n' } } },
        { $sort: { total: -1 } },
      ])
      .toArray();
    expect(result).toEqual([
      { _id: 'a', total: 4 },
      { _id: 'b', total: 2 },
    ]);
  });

  it('supports pipeline-style updates', async () => {
    const { insertedId } = await items.insertOne({ a: 2, b: 3 });
    await items.updateOne({ _id: insertedId }, [{ $set: { sum: { $add: ['$a', '$b'] } } }]);
    expect((await items.findOne({ _id: insertedId }))?.sum).toBe(5);
  });

  it('answers an unknown command with CommandNotFound', async () => {
    await expect(driver.db.command({ noSuchCommand: 1 })).rejects.toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
    });
  });
});
