import { CommandError } from '../command-error';
import { Collection, equalityValues } from './collection';

function seeded(size: number): Collection {
  const collection = new Collection('db', 'users');
  collection.createIndex({ key: { email: 1 }, name: 'email_1', unique: true });
  collection.createIndex({ key: { tenant: 1, handle: 1 }, name: 'tenant_1_handle_1' });
  for (let i = 0; i < size; i++) {
    collection.insert({ _id: i, email: `u${i}@x.io`, tenant: `t${i % 10}`, handle: `h${i}`, n: i });
  }
  return collection;
}

describe('Collection.candidates', () => {
  const collection = seeded(1000);
  const found = (filter: Record<string, unknown>) => [...collection.candidates(filter).documents];
  const exact = (filter: Record<string, unknown>) => collection.candidates(filter).exact;

  it('answers _id equality and $in from the _id index', () => {
    expect(found({ _id: 5 })).toHaveLength(1);
    expect(found({ _id: { $in: [1, 2, 9999] } })).toHaveLength(2);
  });

  it('answers equality on an indexed field without scanning', () => {
    expect(found({ email: 'u7@x.io', n: { $gt: 0 } })).toEqual([
      expect.objectContaining({ _id: 7 }),
    ]);
    expect(found({ $and: [{ email: { $eq: 'u8@x.io' } }] })).toHaveLength(1);
  });

  it('uses a compound index by all its fields or its leading field', () => {
    expect(found({ tenant: 't3', handle: 'h3' })).toHaveLength(1);
    expect(found({ tenant: 't3' })).toHaveLength(100);
  });

  it('lets the index decide scalar equalities on exactly the fields it looked up', () => {
    expect(exact({ _id: 5 })).toBe(true);
    expect(exact({ email: { $in: ['a', 'b'] } })).toBe(true);
    expect(exact({ tenant: 't3', handle: { $eq: 'h3' } })).toBe(true);
  });

  it('leaves the rest of the filter, and values index keys cannot decide, to mingo', () => {
    expect(exact({ email: 'u7@x.io', n: { $gt: 0 } })).toBe(false);
    expect(exact({ email: null })).toBe(false);
    expect(exact({ email: { a: 1 } })).toBe(false);
    expect(exact({ email: { $eq: 'x', $ne: 'y' } })).toBe(false);
    expect(exact({ $and: [{ email: 'u8@x.io' }] })).toBe(false);
    expect(exact({ n: 5 })).toBe(false);
  });

  it('scans when no index covers the filter', () => {
    expect(found({ n: 5 })).toHaveLength(1000);
    expect(found({ handle: 'h1' })).toHaveLength(1000);
  });
});

describe('Collection writes', () => {
  it('stores _id first and rejects a duplicate _id', () => {
    const collection = new Collection('db', 'c');
    const stored = collection.insert({ a: 1, _id: 'x' });
    expect(Object.keys(stored)).toEqual(['_id', 'a']);
    expect(() => collection.insert({ _id: 'x' })).toThrow(CommandError);
  });

  it('leaves no trace of a replacement that breaks a unique index', () => {
    const collection = seeded(3);
    const doc = collection.getById('n1')!;
    expect(() => collection.replace(doc, { ...doc, email: 'u0@x.io' })).toThrow(/E11000/);
    expect(collection.getById('n1')).toBe(doc);
    expect([...collection.candidates({ email: 'u1@x.io' }).documents]).toEqual([doc]);
  });

  it('fails to build a unique index over duplicates and keeps none of it', () => {
    const collection = new Collection('db', 'c');
    collection.insert({ _id: 1, a: 1 });
    collection.insert({ _id: 2, a: 1 });
    expect(() => collection.createIndex({ key: { a: 1 }, name: 'a_1', unique: true })).toThrow(
      /E11000.*index: a_1 dup key: \{ a: 1 \}/,
    );
    expect(collection.indexSpecs().map((spec) => spec.name)).toEqual(['_id_']);
  });
});

describe('Collection.createIndex', () => {
  it.each(['text', '2dsphere', 'hashed'])('refuses %s indexes with CannotCreateIndex', (type) => {
    const collection = new Collection('db', 'c');
    expect(() => collection.createIndex({ key: { a: type }, name: `a_${type}` })).toThrow(
      expect.objectContaining({ code: 67 }),
    );
  });
});

describe('equalityValues', () => {
  it('reads plain equality, $eq and $in', () => {
    expect(equalityValues({ a: 1 }, 'a')).toEqual([1]);
    expect(equalityValues({ a: { $eq: 2 } }, 'a')).toEqual([2]);
    expect(equalityValues({ a: { $in: [1, 2] } }, 'a')).toEqual([1, 2]);
  });

  it('declines conditions an index key cannot answer alone', () => {
    expect(equalityValues({ a: { $gt: 1 } }, 'a')).toBeUndefined();
    expect(equalityValues({ a: [1, 2] }, 'a')).toBeUndefined();
    expect(equalityValues({ a: /x/ }, 'a')).toBeUndefined();
    expect(equalityValues({ a: { $in: [/x/] } }, 'a')).toBeUndefined();
    expect(equalityValues({ b: 1 }, 'a')).toBeUndefined();
  });
});
