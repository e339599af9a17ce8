import { Double, Int32, Long, ObjectId } from 'bson';
import { assertMatches, assertSameDocuments, MatchFailure } from './unified-matcher';

const matches = (expected: unknown, actual: unknown, isRoot = true) => {
  try {
    assertMatches(expected, actual, isRoot);
    return true;
  } catch (error) {
    if (error instanceof MatchFailure) return false;
    throw error;
  }
};

describe('unified test format matching', () => {
  it('lets root documents carry extra fields but not nested ones', () => {
    expect(matches({ x: 1 }, { x: 1, y: 2 })).toBe(true);
    expect(matches({ a: { x: 1 } }, { a: { x: 1, y: 2 } })).toBe(false);
    expect(matches({ x: 1, y: 1 }, { x: 1 })).toBe(false);
  });

  it('compares int32, int64 and double by value, Decimal128 apart', () => {
    expect(matches(new Int32(1), new Double(1))).toBe(true);
    expect(matches(new Long(5), 5)).toBe(true);
    expect(matches(new Int32(1), 1.5)).toBe(false);
    expect(matches(1, '1')).toBe(false);
  });

  it('requires arrays of the same length', () => {
    expect(matches([1, 2], [1, 2, 3])).toBe(false);
    expect(matches([{ a: 1 }], [{ a: 1 }])).toBe(true);
  });

  it('understands $$exists, $$unsetOrMatches and $$type', () => {
    expect(matches({ a: { $$exists: false } }, { b: 1 })).toBe(true);
    expect(matches({ a: { $$exists: true } }, { b: 1 })).toBe(false);
    expect(matches({ a: { $$unsetOrMatches: 2 } }, {})).toBe(true);
    expect(matches({ a: { $$unsetOrMatches: 2 } }, { a: 3 })).toBe(false);
    expect(matches({ $$type: 'objectId' }, new ObjectId())).toBe(true);
    expect(matches({ $$type: ['int', 'long'] }, new Long(1))).toBe(true);
    expect(matches({ $$type: 'string' }, 1)).toBe(false);
  });

  it('compares outcomes exactly, key order aside', () => {
    expect(() => assertSameDocuments([{ _id: 1, a: 1 }], [{ a: 1, _id: 1 }])).not.toThrow();
    expect(() => assertSameDocuments([{ _id: 1 }], [{ _id: 1, a: 1 }])).toThrow(MatchFailure);
  });
});
