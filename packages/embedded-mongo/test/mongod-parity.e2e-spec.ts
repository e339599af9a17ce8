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
});
