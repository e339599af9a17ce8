import {
  Decimal128,
  Double,
  Int32,
  Long,
  MongoServerError,
  ObjectId,
  Timestamp,
  type Collection,
} from 'mongodb';
import { useDriverDatabase } from './support/driver';

/**
 * The silent wrong answers of issue 13, each reproduced through the official driver and
 * checked against what mongod 7.0 answers.
 */
describe('engine correctness through the driver', () => {
  const driver = useDriverDatabase();
  let items: Collection;

  beforeEach(() => {
    items = driver.db.collection(`c_${Math.random().toString(36).slice(2)}`);
  });

  const serverError = async (work: Promise<unknown>): Promise<MongoServerError> => {
    try {
      await work;
    } catch (error) {
      if (error instanceof MongoServerError) return error;
      throw error;
    }
    throw new Error('expected a server error');
  };

  describe('$in with repeated values', () => {
    it('returns, updates and deletes a document once', async () => {
      await items.insertMany([{ _id: 1 }, { _id: 2 }] as never);
      expect(await items.find({ _id: { $in: [1, 1] } } as never).toArray()).toEqual([{ _id: 1 }]);
      const updated = await items.updateMany({ _id: { $in: [1, 1, 2] } } as never, {
        $set: { a: 1 },
      });
      expect(updated.matchedCount).toBe(2);
      expect(updated.modifiedCount).toBe(2);
      const deleted = await items.deleteMany({ _id: { $in: [2, 2] } } as never);
      expect(deleted.deletedCount).toBe(1);
    });
  });

  describe('update operators and BSON types', () => {
    it('$inc on an int64 above 2^53 stays exact', async () => {
      await items.insertOne({ _id: 1, n: Long.fromString('9007199254740993') } as never);
      await items.updateOne({ _id: 1 } as never, { $inc: { n: 1 } });
      const doc = await items.findOne({ _id: 1 } as never, { promoteLongs: false });
      expect(doc?.n).toBeInstanceOf(Long);
      expect((doc?.n as Long).toString()).toBe('9007199254740994');
    });

    it('$inc past the int32 maximum becomes an int64, as on mongod', async () => {
      await items.insertOne({ _id: 1, n: 2147483647 } as never);
      await items.updateOne({ _id: 1 } as never, { $inc: { n: 1 } });
      const doc = await items.findOne({ _id: 1 } as never, { promoteLongs: false });
      expect(doc?.n).toBeInstanceOf(Long);
      expect((doc?.n as Long).toString()).toBe('2147483648');
    });

    it('$inc on a string is refused with code 14 and changes nothing', async () => {
      await items.insertOne({ _id: 1, s: 'x' } as never);
      const error = await serverError(items.updateOne({ _id: 1 } as never, { $inc: { s: 1 } }));
      expect(error.code).toBe(14);
      expect(await items.findOne({ _id: 1 } as never)).toEqual({ _id: 1, s: 'x' });
    });

    it('$push onto a non-array is refused with code 2 and changes nothing', async () => {
      await items.insertOne({ _id: 1, a: 5 } as never);
      const error = await serverError(
        items.updateOne({ _id: 1 } as never, { $push: { a: 1 } } as never),
      );
      expect(error.code).toBe(2);
      expect(await items.findOne({ _id: 1 } as never)).toEqual({ _id: 1, a: 5 });
    });

    it('$addToSet compares embedded documents with their field order', async () => {
      await items.insertOne({ _id: 1, a: [{ x: 1, y: 2 }] } as never);
      await items.updateOne({ _id: 1 } as never, { $addToSet: { a: { x: 1, y: 2 } } } as never);
      expect((await items.findOne({ _id: 1 } as never))?.a).toHaveLength(1);
      await items.updateOne({ _id: 1 } as never, { $addToSet: { a: { y: 2, x: 1 } } } as never);
      expect((await items.findOne({ _id: 1 } as never))?.a).toEqual([
        { x: 1, y: 2 },
        { y: 2, x: 1 },
      ]);
    });

    it('refuses $set and $setOnInsert of one path with code 40', async () => {
      const error = await serverError(
        items.updateOne(
          { _id: 1 } as never,
          { $set: { a: 1 }, $setOnInsert: { a: 2 } },
          { upsert: true },
        ),
      );
      expect(error.code).toBe(40);
      expect(await items.countDocuments()).toBe(0);
    });

    it('refuses a missing arrayFilters identifier (2) and an unused one (9)', async () => {
      await items.insertOne({ _id: 1, a: [1, 2] } as never);
      const missing = await serverError(
        items.updateOne({ _id: 1 } as never, { $set: { 'a.$[x]': 0 } }),
      );
      expect(missing.code).toBe(2);
      expect(missing.message).toContain("No array filter found for identifier 'x'");
      const unused = await serverError(
        items.updateOne({ _id: 1 } as never, { $set: { a: [] } }, { arrayFilters: [{ y: 1 }] }),
      );
      expect(unused.code).toBe(9);
      expect(unused.message).toContain("identifier 'y' was not used");
    });

    it('$currentDate reads the clock on every update', async () => {
      await items.insertMany([{ _id: 1 }, { _id: 2 }] as never);
      const before = Date.now();
      await items.updateOne({ _id: 1 } as never, { $currentDate: { at: true } });
      await new Promise((resolve) => setTimeout(resolve, 30));
      await items.updateOne(
        { _id: 2 } as never,
        {
          $currentDate: { at: true, ts: { $type: 'timestamp' } },
        } as never,
      );
      const [first, second] = await items.find().sort({ _id: 1 }).toArray();
      expect((first.at as Date).getTime()).toBeGreaterThanOrEqual(before - 5);
      expect((second.at as Date).getTime()).toBeGreaterThan((first.at as Date).getTime());
      expect(second.ts).toBeInstanceOf(Timestamp);
    });
  });

  describe('filters', () => {
    it('refuses unknown operators with code 2, even on an empty collection', async () => {
      expect((await serverError(items.find({ a: { $foo: 1 } } as never).toArray())).code).toBe(2);
      expect((await serverError(items.find({ $foo: 1 } as never).toArray())).code).toBe(2);
      expect((await serverError(items.deleteMany({ a: { $foo: 1 } } as never))).code).toBe(2);
    });

    it('$type tells int, long, double, decimal and objectId apart', async () => {
      await items.insertMany([
        { _id: 1, v: new Int32(1) },
        { _id: 2, v: Long.fromNumber(1) },
        { _id: 3, v: new Double(1) },
        { _id: 4, v: Decimal128.fromString('1') },
        { _id: 5, v: new ObjectId() },
      ] as never);
      const ids = async (type: string) =>
        (await items.find({ v: { $type: type } } as never).toArray()).map((doc) => doc._id);
      expect(await ids('int')).toEqual([1]);
      expect(await ids('long')).toEqual([2]);
      expect(await ids('double')).toEqual([3]);
      expect(await ids('decimal')).toEqual([4]);
      expect(await ids('objectId')).toEqual([5]);
      expect(await ids('number')).toEqual([1, 2, 3, 4]);
      // Numbers of every type are equal by value.
      expect(await items.countDocuments({ v: 1 } as never)).toBe(4);
    });

    it('matches case-insensitively under a collation, and uses let variables', async () => {
      await items.insertMany([
        { _id: 1, s: 'ping' },
        { _id: 2, s: 'pong' },
      ] as never);
      const found = await items
        .find({ s: 'PING' } as never, { collation: { locale: 'en_US', strength: 2 } })
        .toArray();
      expect(found.map((doc) => doc._id)).toEqual([1]);
      const byLet = await items
        .find({ $expr: { $eq: ['$s', '$$wanted'] } } as never, { let: { wanted: 'pong' } })
        .toArray();
      expect(byLet.map((doc) => doc._id)).toEqual([2]);
    });
  });

  describe('numbers keep their BSON type from insert to read', () => {
    it('int32, int64, double and Decimal128', async () => {
      await items.insertOne({
        _id: 1,
        i: new Int32(1),
        l: Long.fromNumber(1),
        d: new Double(1),
        z: new Double(-0),
        f: 1.5,
        m: Decimal128.fromString('1.10'),
      } as never);
      const doc = await items.findOne({ _id: 1 } as never, {
        promoteValues: false,
        promoteLongs: false,
      });
      expect(doc?.i).toBeInstanceOf(Int32);
      expect(doc?.l).toBeInstanceOf(Long);
      expect(doc?.d).toBeInstanceOf(Double);
      expect(Object.is((doc?.z as Double).value, -0)).toBe(true);
      expect(doc?.f).toBeInstanceOf(Double);
      expect((doc?.m as Decimal128).toString()).toBe('1.10');
    });

    it('compares Decimal128 with other numbers by value', async () => {
      await items.insertMany([
        { _id: 1, v: Decimal128.fromString('1.5') },
        { _id: 2, v: 2 },
        { _id: 3, v: Decimal128.fromString('0.5') },
      ] as never);
      expect(
        (await items.find({ v: { $gt: 1 } } as never).toArray()).map((doc) => doc._id),
      ).toEqual([1, 2]);
      expect((await items.find().sort({ v: 1 }).toArray()).map((doc) => doc._id)).toEqual([
        3, 1, 2,
      ]);
    });
  });

  describe('sort order', () => {
    const mixed = [
      { _id: 1, v: 'b' },
      { _id: 2, v: 5 },
      { _id: 3, v: null },
      { _id: 4, v: [] },
      { _id: 5, v: { a: 1 } },
      { _id: 6, v: new ObjectId('000000000000000000000000') },
      { _id: 7, v: true },
      { _id: 8, v: new Date(0) },
      { _id: 9 },
    ];

    it('sorts an empty array before null and types in BSON order, in find and aggregate alike', async () => {
      await items.insertMany(mixed as never);
      const viaFind = (await items.find().sort({ v: 1, _id: 1 }).toArray()).map((doc) => doc._id);
      expect(viaFind).toEqual([4, 3, 9, 2, 1, 5, 6, 7, 8]);
      const viaAggregate = (await items.aggregate([{ $sort: { v: 1, _id: 1 } }]).toArray()).map(
        (doc) => doc._id,
      );
      expect(viaAggregate).toEqual(viaFind);
    });

    it('orders strings by UTF-8 bytes', async () => {
      await items.insertMany([
        { _id: 1, s: '\u{1F600}' },
        { _id: 2, s: '\uFFFD' },
      ] as never);
      expect((await items.find().sort({ s: 1 }).toArray()).map((doc) => doc._id)).toEqual([2, 1]);
    });
  });

  describe('projections', () => {
    it('projects the array element the filter matched with a.$', async () => {
      await items.insertOne({ _id: 1, a: [1, 2, 3], b: 1 } as never);
      expect(await items.findOne({ a: 2 } as never, { projection: { 'a.$': 1 } })).toEqual({
        _id: 1,
        a: [2],
      });
    });

    it('keeps the other fields with $slice alone and beside exclusions', async () => {
      await items.insertOne({ _id: 1, a: [1, 2, 3], b: 1, c: 2 } as never);
      expect(
        await items.findOne({ _id: 1 } as never, { projection: { a: { $slice: -1 } } }),
      ).toEqual({
        _id: 1,
        a: [3],
        b: 1,
        c: 2,
      });
      expect(
        await items.findOne({ _id: 1 } as never, { projection: { a: { $slice: [1, 1] }, b: 0 } }),
      ).toEqual({ _id: 1, a: [2], c: 2 });
    });
  });

  describe('documents and writes mongod refuses or accepts', () => {
    it('stores _id: null as a value and refuses $-prefixed fields in _id (52)', async () => {
      // The driver replaces a null _id itself, so the insert command is sent as it is.
      await driver.db.command({ insert: items.collectionName, documents: [{ _id: null, a: 1 }] });
      expect(await items.countDocuments({ _id: { $type: 'null' } } as never)).toBe(1);
      const error = await serverError(items.insertOne({ _id: { $a: 1 } } as never));
      expect(error.code).toBe(52);
    });

    it('refuses the 8.0-only sort of an update statement, as the 7.0 it reports', async () => {
      await items.insertOne({ _id: 1 } as never);
      const error = await serverError(
        driver.db.command({
          update: items.collectionName,
          updates: [{ q: {}, u: { $set: { a: 1 } }, sort: { _id: 1 } }],
        }),
      );
      expect(error.code).toBe(40415);
    });

    it('runs pipeline updates keeping _id, including $replaceWith', async () => {
      await items.insertOne({ _id: 1, a: 1 } as never);
      await items.updateOne({ _id: 1 } as never, [{ $replaceWith: { b: { $add: ['$a', 1] } } }]);
      expect(await items.findOne({ _id: 1 } as never)).toEqual({ _id: 1, b: 2 });
    });

    it('writes aggregation results with $out and $merge', async () => {
      await items.insertMany([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ] as never);
      const out = driver.db.collection(`${items.collectionName}_out`);
      await items
        .aggregate([{ $match: { a: { $gt: 1 } } }, { $out: out.collectionName }])
        .toArray();
      expect(await out.find().toArray()).toEqual([{ _id: 2, a: 2 }]);
      await items
        .aggregate([{ $set: { b: 1 } }, { $merge: { into: out.collectionName } }])
        .toArray();
      expect(await out.find().sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, a: 1, b: 1 },
        { _id: 2, a: 2, b: 1 },
      ]);
      const clash = await serverError(
        items.aggregate([{ $merge: { into: out.collectionName, whenMatched: 'fail' } }]).toArray(),
      );
      expect(clash.code).toBe(11000);
    });

    it('reads a view through its pipeline and refuses writes to it (166)', async () => {
      await items.insertMany([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
        { _id: 3, a: 3 },
      ] as never);
      const name = `${items.collectionName}_view`;
      await driver.db.createCollection(name, {
        viewOn: items.collectionName,
        pipeline: [{ $match: { a: { $gt: 1 } } }],
      });
      const view = driver.db.collection(name);
      expect(await view.estimatedDocumentCount()).toBe(2);
      expect((await view.find({ a: 3 }).toArray()).map((doc) => doc._id)).toEqual([3]);
      expect((await serverError(view.insertOne({ a: 4 }))).code).toBe(166);
    });
  });
});
