import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { compareBson, valueKey } from './bson-value';

describe('compareBson', () => {
  it('orders values of different types in BSON comparison order', () => {
    const ascending = [
      new MinKey(),
      null,
      1,
      'a',
      { a: 1 },
      [1],
      new Binary(Buffer.from([1])),
      new ObjectId('000000000000000000000000'),
      false,
      new Date(0),
      new Timestamp({ t: 1, i: 0 }),
      /a/,
      new MaxKey(),
    ];
    const shuffled = [...ascending].reverse();
    expect(shuffled.sort(compareBson)).toEqual(ascending);
  });

  it('compares numbers across numeric types by value', () => {
    expect(compareBson(1, Long.fromNumber(1))).toBe(0);
    expect(compareBson(Decimal128.fromString('2.5'), 2)).toBe(1);
    expect(compareBson(NaN, -Infinity)).toBe(-1);
  });

  it('treats null and missing as equal', () => {
    expect(compareBson(null, undefined)).toBe(0);
  });

  it('orders ObjectIds by their bytes, hence by creation time', () => {
    const earlier = ObjectId.createFromTime(1000);
    const later = ObjectId.createFromTime(2000);
    expect(compareBson(earlier, later)).toBe(-1);
  });

  it('compares embedded documents field by field, then by length', () => {
    expect(compareBson({ a: 1 }, { a: 2 })).toBe(-1);
    expect(compareBson({ a: 1 }, { b: 1 })).toBe(-1);
    expect(compareBson({ a: 1 }, { a: 1, b: 1 })).toBe(-1);
  });

  it('orders binary data by length before content', () => {
    expect(compareBson(new Binary(Buffer.from([9])), new Binary(Buffer.from([1, 1])))).toBe(-1);
  });
});

describe('valueKey', () => {
  it('gives numerically equal numbers one key', () => {
    expect(valueKey(1)).toBe(valueKey(Long.fromNumber(1)));
    expect(valueKey(0)).toBe(valueKey(-0));
  });

  it('keeps strings, numbers and booleans apart', () => {
    const keys = ['1', 1, true, null, new Date(1)].map(valueKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keys ObjectIds by their value, not their identity', () => {
    const id = new ObjectId();
    expect(valueKey(new ObjectId(id.toHexString()))).toBe(valueKey(id));
  });

  it('respects field order in embedded documents, as mongod equality does', () => {
    expect(valueKey({ a: 1, b: 2 })).not.toBe(valueKey({ b: 2, a: 1 }));
  });

  it('cannot be confused by separators inside strings', () => {
    expect(valueKey(['a,"b'])).not.toBe(valueKey(['a', 'b']));
  });
});
