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
});
