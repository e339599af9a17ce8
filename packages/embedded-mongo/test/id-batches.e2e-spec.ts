import { ObjectId } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/** Batch writes by `_id: { $in: ids }` (the sweep's pattern) still apply every other condition. */
describe('embedded engine: writes and reads by a list of ids', () => {
  const driver = useDriverDatabase();

  it('deletes and updates exactly the listed documents that also match the rest of the filter', async () => {
    const items = driver.db.collection('items');
    const docs = Array.from({ length: 3000 }, (_, i) => ({
      _id: new ObjectId(),
      n: i,
      kind: i % 3 === 0 ? 'old' : 'new',
    }));
    await items.insertMany(docs);
    const listed = docs.slice(0, 2000).map((d) => d._id);

    const updated = await items.updateMany({ _id: { $in: listed }, kind: 'new' }, [
      { $set: { touched: { $add: ['$n', 1] } } },
    ]);
    expect(updated.modifiedCount).toBe(docs.slice(0, 2000).filter((d) => d.kind === 'new').length);
    expect(await items.findOne({ n: 1 })).toMatchObject({ touched: 2 });
    expect(await items.findOne({ n: 0 })).not.toHaveProperty('touched');
    expect(await items.findOne({ n: 2001 })).not.toHaveProperty('touched');

    const found = await items.find({ _id: { $in: listed }, n: { $gte: 1990 } }).toArray();
    expect(found.map((d) => d.n)).toEqual(Array.from({ length: 10 }, (_, i) => 1990 + i));

    const deleted = await items.deleteMany({ _id: { $in: listed }, kind: 'old' });
    expect(deleted.deletedCount).toBe(docs.slice(0, 2000).filter((d) => d.kind === 'old').length);
    expect(await items.countDocuments()).toBe(3000 - deleted.deletedCount);
    expect(await items.countDocuments({ kind: 'old', n: { $lt: 2000 } })).toBe(0);
    expect(await items.countDocuments({ kind: 'old', n: { $gte: 2000 } })).toBe(333);
  });

  it('keeps an _id condition that is not an equality', async () => {
    const items = driver.db.collection('ranges');
    const ids = [new ObjectId(), new ObjectId(), new ObjectId()].sort((a, b) =>
      a.toHexString().localeCompare(b.toHexString()),
    );
    await items.insertMany(ids.map((_id) => ({ _id })));
    expect(await items.countDocuments({ _id: { $gt: ids[0] } })).toBe(2);
    expect(await items.countDocuments({ _id: ids[1] })).toBe(1);
    expect(await items.countDocuments({ _id: { $in: [ids[2], new ObjectId()] } })).toBe(1);
  });
});
