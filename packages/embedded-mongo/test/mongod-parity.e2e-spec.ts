import { calculateObjectSize } from 'bson';
import type { Collection } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/**
 * Through the official driver: answers the engine gave differently from mongod, found by
 * Mongoose's own test suite (issue 16). Each expectation is mongod's documented behaviour.
 */
describe('mongod parity through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection;

  beforeEach(() => {
    items = driver.db.collection(`parity_${Math.random().toString(36).slice(2)}`);
  });

  describe('positional updates', () => {
    it('applies two positional paths into the same matched element', async () => {
      await items.insertOne({ _id: 1 as never, kids: [{ n: 'a' }, { n: 'b' }] });
      await items.updateOne(
        { _id: 1 as never, 'kids.n': 'b' },
        { $set: { 'kids.$.n': 'B', 'kids.$.at': 5 }, $inc: { 'kids.$.v': 1 } },
      );
      expect((await items.findOne({ _id: 1 as never }))?.kids).toEqual([
        { n: 'a' },
        { n: 'B', at: 5, v: 1 },
      ]);
    });

    it('still refuses two writes to the very same positional path', async () => {
      await items.insertOne({ _id: 1 as never, kids: [{ n: 'a' }] });
      await expect(
        items.updateOne(
          { 'kids.n': 'a' },
          { $set: { 'kids.$.n': 'x' }, $unset: { 'kids.$.n': '' } },
        ),
      ).rejects.toMatchObject({ code: 40 });
    });

    it('answers error 2 when the filter does not name the array', async () => {
      await items.insertOne({ _id: 1 as never, kids: [{ n: 'a' }] });
      await expect(
        items.updateOne({ _id: 1 as never }, { $set: { 'kids.$.n': 'x' } }),
      ).rejects.toMatchObject({
        code: 2,
        message: 'The positional operator did not find the match needed from the query.',
      });
    });
  });

  describe('serverStatus and explain', () => {
    it('counts operations by mongod’s opcounter rules', async () => {
      const admin = driver.db.admin();
      const before = (await admin.serverStatus()).opcounters;
      await items.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
      await items.find({}).toArray();
      await items.updateMany({}, { $set: { b: 1 } });
      await items.deleteOne({ a: 1 });
      const after = (await admin.serverStatus()).opcounters;
      expect(after.insert - before.insert).toBe(3);
      expect(after.query - before.query).toBe(1);
      expect(after.update - before.update).toBe(1);
      expect(after.delete - before.delete).toBe(1);
    });

    it('explains the _id fast path, and leaves documents alone when explaining a write', async () => {
      await items.insertOne({ _id: 7 as never, a: 1 });
      const byId = await items.find({ _id: 7 as never }).explain('executionStats');
      expect(byId.queryPlanner.winningPlan).toEqual({ stage: 'IDHACK' });
      expect(byId.executionStats).toMatchObject({ nReturned: 1, totalDocsExamined: 1 });
      const sorted = await items
        .find({ a: { $gt: 0 } })
        .sort({ a: -1 })
        .explain('queryPlanner');
      expect(sorted.queryPlanner.winningPlan).toMatchObject({
        stage: 'SORT',
        sortPattern: { a: -1 },
        inputStage: { stage: 'COLLSCAN', filter: { a: { $gt: 0 } } },
      });
      expect(sorted.executionStats).toBeUndefined();
      const write = await driver.db.command({
        explain: {
          update: items.collectionName,
          updates: [{ q: { a: 1 }, u: { $set: { a: 2 } } }],
        },
        verbosity: 'executionStats',
      });
      expect(write.queryPlanner.winningPlan.stage).toBe('UPDATE');
      expect(await items.findOne({ _id: 7 as never })).toEqual({ _id: 7, a: 1 });
    });

    it('refuses to explain a command it does not know, and a bad verbosity', async () => {
      await expect(
        driver.db.command({ explain: { insert: items.collectionName, documents: [{}] } }),
      ).rejects.toMatchObject({ code: 59 });
      await expect(
        driver.db.command({ explain: { find: items.collectionName }, verbosity: 'loud' }),
      ).rejects.toMatchObject({ code: 9 });
    });
  });

  describe('writes mongod refuses', () => {
    it('refuses a capped collection without a size (InvalidOptions)', async () => {
      await expect(
        driver.db.createCollection(`capped_${Date.now()}`, { capped: true }),
      ).rejects.toMatchObject({ code: 72 });
    });

    it('keeps a capped collection within its max count, dropping the oldest', async () => {
      const capped = await driver.db.createCollection(`capped_${Date.now()}`, {
        capped: true,
        size: 4096,
        max: 2,
      });
      await capped.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect((await capped.find().toArray()).map((doc) => doc.n)).toEqual([2, 3]);
      expect(await capped.isCapped()).toBe(true);
    });

    it('refuses $set of a field inside an array of documents (PathNotViable)', async () => {
      await items.insertOne({ _id: 1 as never, arr: [{ x: 1 }, { x: 2 }], s: 'str' });
      await expect(
        items.updateOne({ _id: 1 as never }, { $set: { 'arr.x': 3 } }),
      ).rejects.toMatchObject({ code: 28 });
      await expect(
        items.updateOne({ _id: 1 as never }, { $inc: { 's.n': 1 } }),
      ).rejects.toMatchObject({ code: 28 });
      await items.updateOne({ _id: 1 as never }, { $set: { 'arr.1.x': 3 } });
      expect((await items.findOne({ _id: 1 as never }))?.arr).toEqual([{ x: 1 }, { x: 3 }]);
    });

    it('refuses documents over 16 MB with BSONObjectTooLarge, on insert and on update', async () => {
      const overhead = calculateObjectSize({ _id: 1, big: '' });
      const big = 'x'.repeat(16 * 1024 * 1024 - overhead + 1);
      const insert = await driver.db.command({
        insert: items.collectionName,
        documents: [{ _id: 1, big }],
      });
      expect(insert.writeErrors?.[0]).toMatchObject({ code: 10334 });
      await items.insertOne({ _id: 2 as never });
      const update = await driver.db.command({
        update: items.collectionName,
        updates: [{ q: { _id: 2 }, u: { $set: { big } } }],
      });
      expect(update.writeErrors?.[0]).toMatchObject({ code: 10334 });
      expect(await items.findOne({ _id: 2 as never })).toEqual({ _id: 2 });
      expect(await items.countDocuments()).toBe(1);
    });
  });

  describe('validators', () => {
    const schema = {
      $jsonSchema: {
        bsonType: 'object',
        required: ['name'],
        properties: {
          name: { bsonType: 'string', minLength: 2 },
          age: { bsonType: 'int', minimum: 0 },
          owner: { bsonType: 'objectId' },
        },
      },
    };

    it('enforces a $jsonSchema validator on insert and update with DocumentValidationFailure', async () => {
      const name = `validated_${Date.now()}`;
      const people = await driver.db.createCollection(name, { validator: schema });
      await people.insertOne({ name: 'Ann', age: 30 });
      await expect(people.insertOne({ age: 3 })).rejects.toMatchObject({
        code: 121,
        errInfo: { failingDocumentId: expect.anything() },
      });
      await expect(people.insertOne({ name: 'Bo', owner: 'not an id' })).rejects.toMatchObject({
        code: 121,
      });
      await expect(people.updateOne({ name: 'Ann' }, { $set: { age: -1 } })).rejects.toMatchObject({
        code: 121,
      });
      await expect(
        people.updateOne({ name: 'Ann' }, { $unset: { name: '' } }),
      ).rejects.toMatchObject({ code: 121 });
      expect(await people.find({}, { projection: { _id: 0 } }).toArray()).toEqual([
        { name: 'Ann', age: 30 },
      ]);
      await people.insertOne({ nameless: true }, { bypassDocumentValidation: true });
      expect(await people.countDocuments()).toBe(2);
      const [info] = await driver.db.listCollections({ name }, { nameOnly: false }).toArray();
      expect(info.options).toMatchObject({ validator: schema });
    });

    it('applies query-operator validators, validationLevel moderate, action warn, and collMod', async () => {
      const name = `levels_${Date.now()}`;
      const coll = driver.db.collection(name);
      await coll.insertOne({ _id: 1 as never, qty: -5 });
      await driver.db.command({ collMod: name, validator: { qty: { $gte: 0 } } }).catch(() => {});
      await driver.db.createCollection(`${name}_m`, {
        validator: { qty: { $gte: 0 } },
        validationLevel: 'moderate',
      });
      const moderate = driver.db.collection(`${name}_m`);
      await moderate.insertOne({ _id: 1 as never, qty: 1 });
      await driver.db.command({ collMod: `${name}_m`, validationLevel: 'off' });
      await moderate.insertOne({ _id: 2 as never, qty: -1 });
      await driver.db.command({ collMod: `${name}_m`, validationLevel: 'moderate' });
      // Already invalid: moderate lets its updates through; a valid one must stay valid.
      await moderate.updateOne({ _id: 2 as never }, { $set: { qty: -2 } });
      await expect(
        moderate.updateOne({ _id: 1 as never }, { $set: { qty: -1 } }),
      ).rejects.toMatchObject({ code: 121 });
      await driver.db.command({ collMod: `${name}_m`, validationAction: 'warn' });
      await moderate.updateOne({ _id: 1 as never }, { $set: { qty: -1 } });
      expect((await moderate.findOne({ _id: 1 as never }))?.qty).toBe(-1);
      await expect(
        driver.db.command({ collMod: `${name}_m`, validationLevel: 'sometimes' }),
      ).rejects.toMatchObject({ code: 2 });
      await expect(
        driver.db.command({ collMod: `${name}_m`, colour: 'blue' }),
      ).rejects.toMatchObject({ code: 40415 });
      await expect(
        driver.db.command({ collMod: 'no_such_collection', validationLevel: 'off' }),
      ).rejects.toMatchObject({ code: 26 });
    });

    it('refuses $jsonSchema keywords mongod does not support', async () => {
      await expect(
        driver.db.createCollection(`bad_${Date.now()}`, {
          validator: { $jsonSchema: { properties: { a: { format: 'email' } } } },
        }),
      ).rejects.toMatchObject({ code: 9 });
    });
  });

  describe('queries, projections and updates', () => {
    it('matches $all against a field holding a single value, and arrays as before', async () => {
      await items.insertMany([
        { _id: 1, tag: 'a' },
        { _id: 2, tag: ['a', 'b'] },
        { _id: 3, tag: ['b'] },
      ] as never[]);
      const ids = async (filter: object) =>
        (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
      expect(await ids({ tag: { $all: ['a'] } })).toEqual([1, 2]);
      expect(await ids({ tag: { $all: ['a', 'b'] } })).toEqual([2]);
      expect(await ids({ tag: { $all: [] } })).toEqual([]);
      expect(await ids({ $or: [{ tag: { $all: ['b'], $size: 1 } }] })).toEqual([3]);
    });

    it('projects $elemMatch with an operator-only condition, as the same filter matches', async () => {
      await items.insertOne({ _id: 1 as never, tags: ['a', 'b', 'c'], other: 1 });
      expect(
        await items.findOne(
          { _id: 1 as never },
          { projection: { tags: { $elemMatch: { $in: ['b', 'c'] } } } },
        ),
      ).toEqual({ _id: 1, tags: ['b'] });
      expect(
        await items.findOne(
          { _id: 1 as never },
          { projection: { other: 0, tags: { $elemMatch: { $gt: 'z' } } } },
        ),
      ).toEqual({ _id: 1 });
    });

    it('$pull with a document condition removes only matching documents, never scalars', async () => {
      await items.insertOne({ _id: 1 as never, a: [1, { b: 1 }, { b: 1, c: 2 }, { b: 2 }, 'b'] });
      await items.updateOne({ _id: 1 as never }, { $pull: { a: { b: 1 } } as never });
      expect((await items.findOne({ _id: 1 as never }))?.a).toEqual([1, { b: 2 }, 'b']);
      await expect(
        items.updateOne({ _id: 1 as never }, { $set: { s: 1 }, $pull: { s: { b: 1 } } as never }),
      ).rejects.toMatchObject({ code: 40 });
    });

    it('refuses $where with mongod’s error and an unknown stage with mongod’s wording', async () => {
      await items.insertOne({ a: 1 });
      await expect(items.find({ $where: 'this.a === 1' }).toArray()).rejects.toMatchObject({
        code: 2,
        message: 'no globalScriptEngine in $where parsing',
      });
      await expect(items.aggregate([{ $foo: {} }]).toArray()).rejects.toMatchObject({
        code: 40324,
        message: "Unrecognized pipeline stage name: '$foo'",
      });
    });
  });

  describe('text, geo, hashed and wildcard indexes (not built by the engine)', () => {
    it('refuses them at index creation with CannotCreateIndex, and unknown types as mongod does', async () => {
      for (const key of [{ body: 'text' }, { loc: '2dsphere' }, { h: 'hashed' }, { '$**': 1 }]) {
        await expect(items.createIndex(key as never)).rejects.toMatchObject({ code: 67 });
      }
      await expect(items.createIndex({ a: 'sideways' } as never)).rejects.toMatchObject({
        code: 67,
        message: "Unknown index plugin 'sideways'",
      });
    });

    it('answers $text and $near as mongod does on a collection without those indexes', async () => {
      await items.insertOne({ body: 'hello', loc: { type: 'Point', coordinates: [0, 0] } });
      await expect(items.find({ $text: { $search: 'hello' } }).toArray()).rejects.toMatchObject({
        code: 27,
      });
      await expect(
        items
          .find({ loc: { $near: { $geometry: { type: 'Point', coordinates: [0, 0] } } } })
          .toArray(),
      ).rejects.toMatchObject({ code: 291 });
    });

    it('explains an aggregation sent in the legacy form (explain: true)', async () => {
      await items.insertOne({ a: 1 });
      const reply = await driver.db.command({
        aggregate: items.collectionName,
        pipeline: [{ $match: { a: 1 } }],
        explain: true,
      });
      expect(reply.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
    });
  });

  describe('__proto__ as an ordinary field name', () => {
    const doc = (json: string) => JSON.parse(json) as never;

    it('stores, finds and updates a __proto__ field as mongod does', async () => {
      await items.insertOne(doc('{"_id":1,"__proto__":{"x":1}}'));
      await items.insertOne(doc('{"_id":2,"a":1}'));
      const ids = async (filter: string) =>
        (await items.find(doc(filter)).toArray()).map((found) => found._id);
      expect(await ids('{"__proto__.x":1}')).toEqual([1]);
      expect(await ids('{"__proto__":{"$exists":true}}')).toEqual([1]);
      expect(await ids('{"__proto__":5}')).toEqual([]);
      await items.updateOne(doc('{"_id":1}'), doc('{"$set":{"__proto__.y":2}}'));
      const stored = await items.findOne({ _id: 1 as never });
      expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual({ x: 1, y: 2 });
    });

    it('never pollutes the engine process’s Object.prototype (upsert seeded from a __proto__ path)', async () => {
      await items.updateOne(
        doc('{"__proto__.polluted":"yes"}'),
        { $set: { a: 1 } },
        { upsert: true },
      );
      await items.updateOne({ a: 1 }, doc('{"$set":{"__proto__.polluted2":"yes"}}'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
      const stored = await items.findOne({ a: 1 });
      expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual({
        polluted: 'yes',
        polluted2: 'yes',
      });
    });
  });
});
