import type { Collection, Document } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/**
 * Through the official driver: the arguments of `$skip`, `$limit` and `$sample` as mongod
 * parses them (document_source_skip.cpp, document_source_limit.cpp, document_source_sample.cpp
 * and the stages' manual pages). mingo used whatever number it got: `$skip: -1` returned the
 * last document, `$limit: -1` all but one, `$sample` drew documents with replacement and a
 * negative or fractional size never ended (the engine's process died out of memory).
 */
describe('$skip, $limit and $sample arguments through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection<Document>;

  beforeEach(async () => {
    items = driver.db.collection(`stages_${Math.random().toString(36).slice(2)}`);
    await items.insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  const run = (pipeline: Document[]) => items.aggregate(pipeline).toArray();

  it('refuses a negative or fractional $skip (15956)', async () => {
    await expect(run([{ $skip: -1 }])).rejects.toMatchObject({
      code: 15956,
      message: 'invalid argument to $skip stage: Expected a non-negative number in: $skip: -1',
    });
    await expect(run([{ $skip: 1.5 }])).rejects.toMatchObject({ code: 15956 });
    await expect(run([{ $skip: 0 }])).resolves.toHaveLength(3);
  });

  it('refuses a $limit that is not a positive integer (15958)', async () => {
    await expect(run([{ $limit: 0 }])).rejects.toMatchObject({
      code: 15958,
      message: 'the limit must be positive',
    });
    await expect(run([{ $limit: -1 }])).rejects.toMatchObject({ code: 15958 });
    await expect(run([{ $limit: 1.5 }])).rejects.toMatchObject({ code: 15958 });
    await expect(run([{ $limit: 2.0 }])).resolves.toHaveLength(2);
  });

  it('applies the same rules inside $facet', async () => {
    await expect(run([{ $facet: { x: [{ $skip: -1 }] } }])).rejects.toMatchObject({
      code: 15956,
    });
  });

  it('$sample returns distinct documents, all of them when size exceeds the count', async () => {
    // "If N is greater than or equal to the number of documents in the collection, $sample
    // ... returns all documents in random order" (each once).
    const sampled = await run([{ $sample: { size: 10 } }]);
    expect(sampled).toHaveLength(3);
    expect(new Set(sampled.map((doc) => String(doc._id))).size).toBe(3);
    await expect(run([{ $sample: { size: 2 } }])).resolves.toHaveLength(2);
  });

  it('$sample refuses a negative size (28747) and a missing one (28749)', async () => {
    await expect(run([{ $sample: { size: -1 } }])).rejects.toMatchObject({
      code: 28747,
      message: 'size argument to $sample must not be negative',
    });
    await expect(run([{ $sample: {} }])).rejects.toMatchObject({ code: 28749 });
    // The engine still answers afterwards.
    await expect(items.countDocuments()).resolves.toBe(3);
  });

  it('$unwind refuses a path without $ (28818) instead of unwinding nothing', async () => {
    await expect(run([{ $unwind: 'a' }])).rejects.toMatchObject({
      code: 28818,
      message: "path option to $unwind stage should be prefixed with a '$': a",
    });
    await expect(run([{ $unwind: { path: 'a' } }])).rejects.toMatchObject({ code: 28818 });
  });
});
