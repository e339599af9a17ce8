import { ObjectId } from 'bson';
import {
  cloneDocument,
  hasPath,
  parseSortSpec,
  pathValues,
  setPath,
  sortDocuments,
} from './document-path';

describe('pathValues', () => {
  it('reads top-level and nested fields', () => {
    expect(pathValues({ a: { b: 2 } }, 'a.b')).toEqual([2]);
    expect(pathValues({ a: 1 }, 'b')).toEqual([]);
  });

  it('spreads a terminal array and descends through arrays of documents', () => {
    expect(pathValues({ a: [1, 2] }, 'a')).toEqual([1, 2]);
    expect(pathValues({ a: [{ b: 1 }, { b: [2, 3] }, 4] }, 'a.b')).toEqual([1, 2, 3]);
  });

  it('reads an array position given as a path segment', () => {
    expect(pathValues({ a: [{ b: 1 }, { b: 2 }] }, 'a.1.b')).toEqual([2]);
  });

  it('does not descend into dates or BSON values', () => {
    expect(pathValues({ d: new Date(0) }, 'd.getTime')).toEqual([]);
  });
});

describe('hasPath', () => {
  it('tells a null field from a missing one', () => {
    expect(hasPath({ a: null }, 'a')).toBe(true);
    expect(hasPath({ b: 1 }, 'a')).toBe(false);
    expect(hasPath({ a: [{ b: 1 }] }, 'a.b')).toBe(true);
    expect(hasPath({ a: [{ c: 1 }] }, 'a.b')).toBe(false);
  });
});

describe('sortDocuments', () => {
  const docs = [{ _id: 1, v: [5, 1] }, { _id: 2, v: 3 }, { _id: 3, v: [2, 9] }, { _id: 4 }];
  const ids = (sorted: Record<string, unknown>[]) => sorted.map((doc) => doc._id);

  it('sorts an array field by its smallest element ascending, missing first', () => {
    expect(ids(sortDocuments(docs, parseSortSpec({ v: 1 })))).toEqual([4, 1, 3, 2]);
  });

  it('sorts an array field by its largest element descending, missing last', () => {
    expect(ids(sortDocuments(docs, parseSortSpec({ v: -1 })))).toEqual([3, 1, 2, 4]);
  });

  it('breaks ties with the next key, then keeps the original order', () => {
    const rows = [
      { _id: 1, a: 1, b: 2 },
      { _id: 2, a: 1, b: 1 },
      { _id: 3, a: 0, b: 9 },
      { _id: 4, a: 1, b: 1 },
    ];
    expect(ids(sortDocuments(rows, parseSortSpec({ a: -1, b: 1 })))).toEqual([2, 4, 1, 3]);
  });
});

describe('cloneDocument and setPath', () => {
  it('copies containers but shares immutable BSON values', () => {
    const id = new ObjectId();
    const original = { _id: id, nested: { list: [1, { x: 2 }] }, at: new Date(5) };
    const copy = cloneDocument(original);
    expect(copy).toEqual(original);
    expect(copy.nested).not.toBe(original.nested);
    expect(copy.nested.list[1]).not.toBe(original.nested.list[1]);
    expect(copy.at).not.toBe(original.at);
    expect(copy._id).toBe(id);
  });

  it('creates the embedded documents on the way to a dotted path', () => {
    const doc: Record<string, unknown> = { a: 1 };
    setPath(doc, 'b.c.d', 4);
    expect(doc).toEqual({ a: 1, b: { c: { d: 4 } } });
  });
});
