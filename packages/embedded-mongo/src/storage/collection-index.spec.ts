import { CollectionIndex } from './collection-index';

describe('CollectionIndex.keysOf', () => {
  it('indexes a missing field as null', () => {
    const index = new CollectionIndex({ key: { email: 1 }, name: 'email_1' });
    expect(index.keysOf({ _id: 1 }).map((k) => k.values)).toEqual([[null]]);
  });

  it('gives one key per array element (multikey)', () => {
    const index = new CollectionIndex({ key: { tags: 1 }, name: 'tags_1' });
    expect(index.keysOf({ tags: ['a', 'b', 'a'] }).map((k) => k.values)).toEqual([['a'], ['b']]);
  });

  it('reaches through arrays of embedded documents on dotted paths', () => {
    const index = new CollectionIndex({ key: { 'items.sku': 1 }, name: 'items.sku_1' });
    const keys = index.keysOf({ items: [{ sku: 'x' }, { sku: 'y' }] });
    expect(keys.map((k) => k.values)).toEqual([['x'], ['y']]);
  });

  it('combines the fields of a compound index', () => {
    const index = new CollectionIndex({ key: { a: 1, b: -1 }, name: 'a_1_b_-1' });
    expect(index.keysOf({ a: 1, b: [2, 3] }).map((k) => k.values)).toEqual([
      [1, 2],
      [1, 3],
    ]);
  });

  it('leaves out documents a sparse index does not cover', () => {
    const index = new CollectionIndex({ key: { a: 1 }, name: 'a_1', sparse: true });
    expect(index.keysOf({ b: 1 })).toEqual([]);
    expect(index.keysOf({ a: null })).toHaveLength(1);
  });

  it('leaves out documents outside the partial filter', () => {
    const index = new CollectionIndex({
      key: { email: 1 },
      name: 'email_1',
      unique: true,
      partialFilterExpression: { deleted: false },
    });
    expect(index.keysOf({ email: 'a', deleted: true })).toEqual([]);
    expect(index.keysOf({ email: 'a', deleted: false })).toHaveLength(1);
  });
});

describe('CollectionIndex unique checks and lookups', () => {
  const index = new CollectionIndex({ key: { a: 1, b: 1 }, name: 'a_1_b_1', unique: true });
  index.add({ _id: 1, a: 1, b: 1 }, 'id1');
  index.add({ _id: 2, a: 1, b: 2 }, 'id2');

  it('finds a conflict only with another document', () => {
    expect(index.findConflict({ a: 1, b: 1 }, 'id3')?.values).toEqual([1, 1]);
    expect(index.findConflict({ a: 1, b: 1 }, 'id1')).toBeUndefined();
    expect(index.findConflict({ a: 2, b: 1 }, 'id3')).toBeUndefined();
  });

  it('looks up by every field or by the leading field alone', () => {
    expect([...(index.lookup([[1], [2]]) ?? [])]).toEqual(['id2']);
    expect([...(index.lookup([[1]]) ?? [])].sort()).toEqual(['id1', 'id2']);
  });

  it('forgets removed documents', () => {
    index.remove({ _id: 2, a: 1, b: 2 }, 'id2');
    expect([...(index.lookup([[1]]) ?? [])]).toEqual(['id1']);
  });
});

describe('CollectionIndex on a non-unique field', () => {
  it('keeps every holder of a shared key through adds and removes', () => {
    const index = new CollectionIndex({ key: { userId: 1 }, name: 'userId_1' });
    index.add({ userId: 'u' }, 'id1');
    index.add({ userId: 'u' }, 'id2');
    index.add({ userId: 'u' }, 'id3');
    index.remove({ userId: 'u' }, 'id2');
    expect([...(index.lookup([['u']]) ?? [])].sort()).toEqual(['id1', 'id3']);
    index.remove({ userId: 'u' }, 'id1');
    expect([...(index.lookup([['u']]) ?? [])]).toEqual(['id3']);
    index.remove({ userId: 'u' }, 'id3');
    expect(index.lookup([['u']])?.size).toBe(0);
  });
});
