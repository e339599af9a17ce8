import { Decimal128, Double, EJSON, Long } from 'bson';
import type { Collection, Document } from 'mongodb';
import { useDriverDatabase } from './support/driver';

/**
 * Through the official driver: equality as mongod defines it. mongod compares embedded
 * documents as BSON, field by field in order, so `{x: 1, y: 1}` and `{y: 1, x: 1}` are
 * different values ("Query on Embedded/Nested Documents": "Equality matches on the whole
 * embedded document require an exact match of the specified document, including the field
 * order"), while numbers of different types with the same value are equal ("Comparison/Sort
 * Order": "MongoDB treats some types as equivalent for comparison purposes ... numeric
 * types undergo conversion before comparison"). The engine used mingo's deep equality, which
 * ignores field order, in every case below; each test failed before the fix.
 */
/** Jest's `toEqual` ignores the order of object keys, which BSON equality does not. */
function inOrder(value: unknown): string {
  return EJSON.stringify(value as never, { relaxed: false });
}

describe('BSON equality through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection<Document>;

  beforeEach(async () => {
    items = driver.db.collection(`equality_${Math.random().toString(36).slice(2)}`);
    await items.insertMany([
      { _id: 1 as never, a: { x: 1, y: 1 } },
      { _id: 2 as never, a: { y: 1, x: 1 } },
      { _id: 3 as never, a: [{ y: 1, x: 1 }] },
      { _id: 4 as never, a: { x: Long.fromNumber(1), y: new Double(1) } },
    ]);
  });

  const ids = async (filter: Document) =>
    (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown);

  describe('query operators compare embedded documents with their field order', () => {
    it('implicit equality and $eq', async () => {
      expect(await ids({ a: { x: 1, y: 1 } })).toEqual([1, 4]);
      expect(await ids({ a: { $eq: { y: 1, x: 1 } } })).toEqual([2, 3]);
    });

    it('$in and $nin', async () => {
      expect(await ids({ a: { $in: [{ x: 1, y: 1 }] } })).toEqual([1, 4]);
      expect(await ids({ a: { $nin: [{ y: 1, x: 1 }] } })).toEqual([1, 4]);
    });

    it('$ne', async () => {
      expect(await ids({ a: { $ne: { x: 1, y: 1 } } })).toEqual([2, 3]);
    });

    it('$elemMatch with $eq and $all', async () => {
      expect(await ids({ a: { $elemMatch: { $eq: { x: 1, y: 1 } } } })).toEqual([]);
      expect(await ids({ a: { $all: [{ y: 1, x: 1 }] } })).toEqual([2, 3]);
    });

    it('keeps numeric equality across int32, int64, double and decimal', async () => {
      expect(await ids({ a: { x: new Decimal128('1'), y: Long.fromNumber(1) } })).toEqual([1, 4]);
    });

    it('$in with an array value matches the whole array as well as its elements', async () => {
      // "If the field holds an array, then the $in operator selects the documents whose field
      // holds an array that contains at least one element that matches a value" and an array
      // value in $in is an equality on the whole array, as in {a: [1, 2]}.
      await items.insertOne({ _id: 5 as never, a: [1, 2] });
      expect(await ids({ a: { $in: [[1, 2]] } })).toEqual([5]);
      expect(await ids({ a: { $in: [[2, 1]] } })).toEqual([]);
    });
  });

  describe('aggregation', () => {
    it('$group keeps documents with different field order in different groups', async () => {
      const groups = await items
        .aggregate([{ $match: { _id: { $lte: 2 } } }, { $group: { _id: '$a', n: { $sum: 1 } } }])
        .toArray();
      expect(groups).toHaveLength(2);
      expect(groups.map((group) => group.n as number)).toEqual([1, 1]);
    });

    it('$group merges numerically equal keys of different types', async () => {
      const groups = await items
        .aggregate([
          { $match: { _id: { $in: [1, 4] } } },
          { $group: { _id: '$a', n: { $sum: 1 } } },
        ])
        .toArray();
      expect(inOrder(groups)).toBe(inOrder([{ _id: { x: 1, y: 1 }, n: 2 }]));
    });

    it('the $addToSet accumulator keeps both field orders', async () => {
      const [result] = await items
        .aggregate([
          { $match: { _id: { $lte: 2 } } },
          { $group: { _id: null, set: { $addToSet: '$a' } } },
        ])
        .toArray();
      expect(result.set).toHaveLength(2);
    });

    it('set, $in, $indexOfArray and comparison expressions use BSON equality', async () => {
      const [result] = await items
        .aggregate([
          { $match: { _id: 1 } },
          {
            $project: {
              _id: 0,
              eq: { $eq: ['$a', { y: 1, x: 1 }] },
              cmp: {
                $cmp: [
                  { x: 1, y: 1 },
                  { y: 1, x: 1 },
                ],
              },
              arrayEqualsElement: { $eq: [[1, 2], 1] },
              inArray: { $in: [{ y: 1, x: 1 }, ['$a']] },
              index: { $indexOfArray: [['$a', { y: 1, x: 1 }], { y: 1, x: 1 }] },
              union: { $setUnion: [['$a'], [{ y: 1, x: 1 }]] },
              intersection: { $setIntersection: [['$a'], [{ y: 1, x: 1 }]] },
              difference: { $setDifference: [['$a'], [{ y: 1, x: 1 }]] },
              equals: { $setEquals: [['$a'], [{ y: 1, x: 1 }]] },
              subset: { $setIsSubset: [['$a'], [{ y: 1, x: 1 }]] },
              numbersEqual: { $eq: [1, { $toLong: 1 }] },
            },
          },
        ])
        .toArray();
      expect(inOrder(result)).toBe(
        inOrder({
          eq: false,
          cmp: -1,
          arrayEqualsElement: false,
          inArray: false,
          index: 1,
          union: [
            { x: 1, y: 1 },
            { y: 1, x: 1 },
          ],
          intersection: [],
          difference: [{ x: 1, y: 1 }],
          equals: false,
          subset: false,
          numbersEqual: true,
        }),
      );
    });
  });

  describe('paths through arrays, null and ranges', () => {
    let docs: Collection<Document>;
    const found = async (filter: Document) =>
      (await docs.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown);

    beforeEach(async () => {
      docs = driver.db.collection(`paths_${Math.random().toString(36).slice(2)}`);
      await docs.insertMany([
        { _id: 0 as never, a: null },
        { _id: 1 as never },
        { _id: 2 as never, a: [null] },
        { _id: 3 as never, a: [{ b: 1 }, { c: 1 }] },
        { _id: 4 as never, a: [{ b: 1 }] },
        { _id: 5 as never, a: 1 },
        { _id: 6 as never, a: [[1, 2]] },
        { _id: 7 as never, a: [{ b: [1, 2] }] },
      ]);
    });

    it('null matches a field missing from an embedded document of an array', async () => {
      // "Query for Null or Missing Fields": {f: null} matches documents that do not contain f;
      // 'a.b' is missing from the element {c: 1}.
      expect(await found({ 'a.b': null })).toEqual([0, 1, 3, 5]);
      expect(await found({ 'a.b': { $in: [null] } })).toEqual([0, 1, 3, 5]);
      expect(await found({ 'a.b': { $ne: null } })).toEqual([2, 4, 6, 7]);
    });

    it('an index on the path finds the same documents for null as a scan', async () => {
      // mongod indexes an array element without the field as null (multikey index keys), so
      // the indexed answer equals the collection scan's.
      await docs.createIndex({ 'a.b': 1 });
      expect(await found({ 'a.b': null })).toEqual([0, 1, 3, 5]);
      expect(await found({ 'a.b': { $in: [null, 2] } })).toEqual([0, 1, 3, 5, 7]);
    });

    it('sorts an array whose element lacks the field by null', async () => {
      // "Comparison/Sort Order": an array field sorts by its smallest element ascending; the
      // element without b contributes null, which sorts before numbers.
      const sorted = await docs
        .find({ _id: { $in: [3, 4] as never[] } })
        .sort({ 'a.b': 1 })
        .toArray();
      expect(sorted.map((doc) => doc._id as unknown)).toEqual([3, 4]);
      await docs.updateOne({ _id: 4 as never }, { $set: { a: [{ b: 0 }] } });
      const again = await docs
        .find({ _id: { $in: [3, 4] as never[] } })
        .sort({ 'a.b': 1 })
        .toArray();
      expect(again.map((doc) => doc._id as unknown)).toEqual([3, 4]);
    });

    it('$gte and $lte null match what null matches; $gt and $lt null match nothing', async () => {
      expect(await found({ a: { $gte: null } })).toEqual([0, 1, 2]);
      expect(await found({ a: { $lte: null } })).toEqual([0, 1, 2]);
      expect(await found({ a: { $gt: null } })).toEqual([]);
    });

    it('$size applies to the array at the path, not to arrays nested in it', async () => {
      expect(await found({ 'a.b': { $size: 2 } })).toEqual([7]);
      expect(await found({ a: { $size: 2 } })).toEqual([3]);
    });

    it('compares strings by UTF-8 bytes in $gt and $lt', async () => {
      // mongod compares strings by their UTF-8 bytes (code point order): U+1F600 sorts after
      // U+FFFD, though its UTF-16 surrogate (0xD83D) is smaller.
      await docs.insertMany([
        { _id: 10 as never, s: '\u{1F600}' },
        { _id: 11 as never, s: '\uFFFD' },
      ]);
      expect(await found({ s: { $gt: '\uFFFD' } })).toEqual([10]);
      expect(await found({ s: { $lt: '\u{1F600}' } })).toEqual([11]);
    });
  });

  describe('aggregation stages that compare or order', () => {
    let docs: Collection<Document>;
    let other: Collection<Document>;

    beforeEach(async () => {
      const suffix = Math.random().toString(36).slice(2);
      docs = driver.db.collection(`stages_${suffix}`);
      other = driver.db.collection(`foreign_${suffix}`);
      await docs.insertMany([
        { _id: 1 as never, c: 3, a: 1, b: { y: 1, x: 1 } },
        { _id: 2 as never, c: 1, a: 2, b: { x: 1, y: 1 } },
      ]);
      await other.insertMany([
        { _id: 10 as never, k: { x: 1, y: 1 } },
        { _id: 11 as never, k: { y: 1, x: 1 } },
        { _id: 12 as never, k: [{ x: 1, y: 1 }] },
      ]);
    });

    it('$lookup matches localField to foreignField by BSON equality', async () => {
      // "$lookup ... performs an equality match on the foreignField to the localField"; an
      // array foreignField matches by its elements.
      const joined = await docs
        .aggregate([
          { $lookup: { from: other.collectionName, localField: 'b', foreignField: 'k', as: 'm' } },
          { $project: { m: '$m._id' } },
        ])
        .toArray();
      expect(joined).toEqual([
        { _id: 1, m: [11] },
        { _id: 2, m: [10, 12] },
      ]);
    });

    it('$max and $min accumulators order embedded documents in BSON order', async () => {
      // BSON compares embedded documents field by field in order: {x: 1, y: 1} < {y: 1, x: 1}.
      const [result] = await docs
        .aggregate([{ $group: { _id: null, max: { $max: '$b' }, min: { $min: '$b' } } }])
        .toArray();
      expect(inOrder(result)).toBe(
        inOrder({ _id: null, max: { y: 1, x: 1 }, min: { x: 1, y: 1 } }),
      );
    });

    it('$project outputs _id first, included fields in document order, then computed ones', async () => {
      const projected = await docs
        .aggregate([{ $match: { _id: 1 } }, { $project: { z: '$a', b: 1, a: 1 } }])
        .toArray();
      expect(Object.keys(projected[0])).toEqual(['_id', 'a', 'b', 'z']);
      const withoutId = await docs
        .aggregate([{ $match: { _id: 1 } }, { $project: { _id: 0, a: 1, c: 1 } }])
        .toArray();
      expect(Object.keys(withoutId[0])).toEqual(['c', 'a']);
    });

    it('$bucket outputs only buckets holding documents, each counted once', async () => {
      // "$bucket only produces output documents for buckets that contain at least one input
      // document."
      const buckets = await docs
        .aggregate([
          { $bucket: { groupBy: '$c', boundaries: [0, 2, 5, 9], output: { n: { $sum: 1 } } } },
        ])
        .toArray();
      expect(buckets).toEqual([
        { _id: 0, n: 1 },
        { _id: 2, n: 1 },
      ]);
    });

    it('$sortByCount groups by BSON equality', async () => {
      const counted = await docs.aggregate([{ $sortByCount: '$b' }]).toArray();
      expect(counted).toHaveLength(2);
    });

    it('$sort inside $facet orders mixed types in BSON order', async () => {
      await docs.insertOne({ _id: 3 as never, c: 'text' });
      await docs.insertOne({ _id: 4 as never, c: [0] });
      const [facets] = await docs
        .aggregate([{ $facet: { byC: [{ $sort: { c: 1 } }, { $project: { _id: 1 } }] } }])
        .toArray();
      // An array sorts by its smallest element, so [0] comes first, then 1, 3, 'text'.
      expect(facets.byC).toEqual([{ _id: 4 }, { _id: 2 }, { _id: 1 }, { _id: 3 }]);
    });
  });

  it('a unique index on an embedded document tells field orders apart', async () => {
    const unique = driver.db.collection(`unique_${Math.random().toString(36).slice(2)}`);
    await unique.createIndex({ a: 1 }, { unique: true });
    await unique.insertOne({ a: { x: 1, y: 1 } });
    await expect(unique.insertOne({ a: { y: 1, x: 1 } })).resolves.toBeDefined();
    await expect(unique.insertOne({ a: { x: 1, y: 1.0 } })).rejects.toMatchObject({
      code: 11000,
    });
  });
});

/**
 * `$pull` and `$pullAll` as mongod applies them (src/mongo/db/update/pull_node.cpp and the
 * `$pull` manual page): a condition that is a document whose first field is not a query
 * operator is a query on each element as a document; an operator condition (or a regex) is
 * applied to the element itself; any other value must equal the element exactly.
 */
describe('$pull and $pullAll through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection<Document>;

  beforeEach(() => {
    items = driver.db.collection(`pull_${Math.random().toString(36).slice(2)}`);
  });

  async function pulled(doc: Document, update: Document, arrayFilters?: Document[]) {
    const { insertedId } = await items.insertOne({ ...doc });
    await items.updateOne({ _id: insertedId }, update, { arrayFilters });
    const { _id: _ignored, ...rest } = (await items.findOne({ _id: insertedId })) ?? {};
    return rest;
  }

  it('$or, $and and $nor are queries on each embedded document', async () => {
    const list = [{ x: 1 }, { x: 2 }, { x: 3 }, 7];
    expect(await pulled({ a: list }, { $pull: { a: { $or: [{ x: 1 }, { x: 3 }] } } })).toEqual({
      a: [{ x: 2 }, 7],
    });
    expect(
      await pulled({ a: list }, { $pull: { a: { $and: [{ x: { $gt: 1 } }, { x: { $lt: 3 } }] } } }),
    ).toEqual({ a: [{ x: 1 }, { x: 3 }, 7] });
    expect(await pulled({ a: list }, { $pull: { a: { $nor: [{ x: 1 }] } } })).toEqual({
      a: [{ x: 1 }, 7],
    });
  });

  it('a field condition next to $or is one query on the element', async () => {
    expect(
      await pulled(
        { a: [{ x: 1 }, { x: 2 }, { y: 2 }] },
        { $pull: { a: { x: { $exists: true }, $or: [{ x: 2 }, { y: 2 }] } } },
      ),
    ).toEqual({ a: [{ x: 1 }, { y: 2 }] });
  });

  it('refuses $expr and $where in the condition as mongod’s parser does (224)', async () => {
    await items.insertOne({ _id: 1 as never, a: [{ x: 1 }] });
    await expect(
      items.updateOne(
        { _id: 1 as never },
        { $pull: { a: { $expr: { $eq: ['$x', 1] } } } as never },
      ),
    ).rejects.toMatchObject({ code: 224, message: '$expr is not allowed in this context' });
  });

  it('an operator condition applies to the element itself, arrays included', async () => {
    expect(
      await pulled({ a: [[1, 2], [3]] }, { $pull: { a: { $elemMatch: { $eq: 3 } } } }),
    ).toEqual({ a: [[1, 2]] });
    expect(await pulled({ a: [{ x: 1 }, 5, 9] }, { $pull: { a: { $gt: 6 } } })).toEqual({
      a: [{ x: 1 }, 5],
    });
  });

  it('a document value is an exact match with field order; numbers match across types', async () => {
    expect(
      inOrder(
        await pulled(
          {
            a: [
              { x: 1, y: 1 },
              { y: 1, x: 1 },
              { x: 1, y: 1, z: 1 },
            ],
          },
          { $pull: { a: { $in: [{ x: 1, y: 1 }] } } },
        ),
      ),
    ).toBe(
      inOrder({
        a: [
          { y: 1, x: 1 },
          { x: 1, y: 1, z: 1 },
        ],
      }),
    );
    expect(
      await pulled({ a: [Long.fromNumber(1), new Double(1), 2] }, { $pull: { a: 1 } }),
    ).toEqual({ a: [2] });
    expect(
      await pulled(
        {
          a: [
            [1, 2],
            [2, 1],
          ],
        },
        { $pull: { a: [1, 2] } },
      ),
    ).toEqual({
      a: [[2, 1]],
    });
  });

  it('$pullAll removes only exact matches', async () => {
    expect(
      inOrder(
        await pulled(
          { a: [{ x: 1, y: 2 }, { y: 2, x: 1 }, { x: 1 }] },
          { $pullAll: { a: [{ x: 1, y: 2 }] } },
        ),
      ),
    ).toBe(inOrder({ a: [{ y: 2, x: 1 }, { x: 1 }] }));
    expect(
      await pulled(
        { a: [[1, 2], [2, 1], 1, Long.fromNumber(1)] },
        { $pullAll: { a: [[1, 2], 1] } },
      ),
    ).toEqual({ a: [[2, 1]] });
  });

  it('pulls through $[] and $[identifier] with their array filters', async () => {
    const doc = {
      a: [
        { k: 1, b: [{ c: 1 }, { c: 2 }] },
        { k: 2, b: [{ c: 1 }, { c: 3 }] },
      ],
    };
    expect(await pulled(doc, { $pull: { 'a.$[].b': { c: 1 } } })).toEqual({
      a: [
        { k: 1, b: [{ c: 2 }] },
        { k: 2, b: [{ c: 3 }] },
      ],
    });
    expect(await pulled(doc, { $pull: { 'a.$[e].b': { c: 1 } } }, [{ 'e.k': 2 }])).toEqual({
      a: [
        { k: 1, b: [{ c: 1 }, { c: 2 }] },
        { k: 2, b: [{ c: 3 }] },
      ],
    });
  });

  it('does nothing on a missing field, and refuses a non-array (2)', async () => {
    expect(await pulled({ b: 1 }, { $pull: { a: 1, 'c.d': 1 } })).toEqual({ b: 1 });
    await items.insertOne({ _id: 9 as never, a: 5 });
    await expect(
      items.updateOne({ _id: 9 as never }, { $pullAll: { a: [5] } as never }),
    ).rejects.toMatchObject({ code: 2, message: 'Cannot apply $pull to a non-array value' });
  });
});

/**
 * Update operators whose answer depends on BSON order or types, as mongod's update nodes
 * (src/mongo/db/update/push_node.cpp, pattern_cmp.cpp, bit_node.cpp, rename_node.cpp) and the
 * manual pages of `$push`, `$bit` and `$rename` define them.
 */
describe('$push $sort, $bit and $rename through the official driver', () => {
  const driver = useDriverDatabase();
  let items: Collection<Document>;

  beforeEach(() => {
    items = driver.db.collection(`modifiers_${Math.random().toString(36).slice(2)}`);
  });

  async function updated(doc: Document, update: Document) {
    await items.insertOne({ _id: 1 as never, ...doc });
    await items.updateOne({ _id: 1 as never }, update);
    const { _id: _ignored, ...rest } =
      (await items.findOne({ _id: 1 as never }, { promoteLongs: false })) ?? {};
    return rest;
  }

  it('$push $sort: 1 orders whole values by BSON type order', async () => {
    // "Comparison/Sort Order": null < numbers < strings < objects < arrays < booleans; an
    // array is compared as a whole here, not by its smallest element as in a find sort.
    expect(
      await updated(
        { a: [] },
        { $push: { a: { $each: [true, [1], { a: 1 }, 'x', 3, null], $sort: 1 } } },
      ),
    ).toEqual({ a: [null, 3, 'x', { a: 1 }, [1], true] });
  });

  it('$push $sort by a dotted field of embedded documents', async () => {
    expect(
      await updated(
        {
          a: [
            { n: 1, m: { k: 2 } },
            { n: 2, m: { k: 9 } },
            { n: 1, m: { k: 1 } },
          ],
        },
        { $push: { a: { $each: [], $sort: { n: 1, 'm.k': 1 } } } },
      ),
    ).toEqual({
      a: [
        { n: 1, m: { k: 1 } },
        { n: 1, m: { k: 2 } },
        { n: 2, m: { k: 9 } },
      ],
    });
  });

  it('$push refuses an $each that is not an array (2)', async () => {
    await items.insertOne({ _id: 1 as never, a: [] });
    await expect(
      items.updateOne({ _id: 1 as never }, { $push: { a: { $each: 5 } } as never }),
    ).rejects.toMatchObject({
      code: 2,
      message: 'The argument to $each in $push must be an array but it was of type: int',
    });
  });

  it('$bit keeps 64-bit integers 64-bit and widens int32 with an int64 operand', async () => {
    expect(await updated({ a: Long.fromNumber(13) }, { $bit: { a: { or: 2 } } })).toEqual({
      a: Long.fromNumber(15),
    });
    await items.deleteMany({});
    expect(await updated({ a: 13 }, { $bit: { a: { xor: Long.fromNumber(1) } } })).toEqual({
      a: Long.fromNumber(12),
    });
  });

  it('$bit refuses a double field (2) rather than leaving it unchanged', async () => {
    await items.insertOne({ _id: 1 as never, a: 1.5 });
    await expect(
      items.updateOne({ _id: 1 as never }, { $bit: { a: { and: 1 } } }),
    ).rejects.toMatchObject({
      code: 2,
      message:
        'Cannot apply $bit to a value of non-integral type._id: 1 has the field a of non-integer type double',
    });
  });

  it('$rename refuses array elements as source or destination (2) and paths through arrays (28)', async () => {
    await items.insertMany([
      { _id: 1 as never, a: [1, 2] },
      { _id: 2 as never, a: 1, b: [] },
      { _id: 3 as never, a: [{ b: 1 }] },
    ]);
    await expect(
      items.updateOne({ _id: 1 as never }, { $rename: { 'a.0': 'c' } }),
    ).rejects.toMatchObject({
      code: 2,
      message:
        "The source field cannot be an array element, 'a.0' in doc with _id: 1 has an array field called 'a'",
    });
    await expect(
      items.updateOne({ _id: 2 as never }, { $rename: { a: 'b.c' } }),
    ).rejects.toMatchObject({
      code: 2,
      message:
        "The destination field cannot be an array element, 'b.c' in doc with _id: 2 has an array field called 'b'",
    });
    await expect(
      items.updateOne({ _id: 3 as never }, { $rename: { 'a.b': 'c' } }),
    ).rejects.toMatchObject({ code: 28 });
    expect(await items.find({}, { projection: { _id: 1, a: 1 } }).toArray()).toEqual([
      { _id: 1, a: [1, 2] },
      { _id: 2, a: 1 },
      { _id: 3, a: [{ b: 1 }] },
    ]);
  });
});
