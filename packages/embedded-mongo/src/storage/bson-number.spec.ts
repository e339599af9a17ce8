import { Decimal128, Double, Int32, Long } from 'bson';
import {
  arithmetic,
  evaluationView,
  normalizeInPlace,
  numericKind,
  parseTypeArgument,
  hasType,
  storedObject,
} from './bson-number';

describe('engine number representation', () => {
  it('turns decoded wrappers into plain numbers except where the type would be lost', () => {
    const doc: Record<string, unknown> = {
      i: new Int32(5),
      d: new Double(1.5),
      whole: new Double(2),
      negativeZero: new Double(-0),
      big: new Double(2 ** 40),
      l: Long.fromNumber(3),
      nested: [{ x: new Int32(1) }],
    };
    normalizeInPlace(doc);
    expect(doc.i).toBe(5);
    expect(doc.d).toBe(1.5);
    expect(doc.whole).toBeInstanceOf(Double);
    expect(doc.negativeZero).toBeInstanceOf(Double);
    // A JS number outside int32 range is written back as a double anyway.
    expect(doc.big).toBe(2 ** 40);
    expect(doc.l).toBeInstanceOf(Long);
    expect(doc.nested).toEqual([{ x: 1 }]);
  });

  it('names the numeric kind of every representation', () => {
    expect(numericKind(1)).toBe('int');
    expect(numericKind(1.5)).toBe('double');
    expect(numericKind(new Double(1))).toBe('double');
    expect(numericKind(Long.fromNumber(1))).toBe('long');
    expect(numericKind(Decimal128.fromString('1'))).toBe('decimal');
    expect(numericKind('1')).toBeUndefined();
  });

  it('adds with mongod type promotion', () => {
    expect(arithmetic('add', 1, 2)).toBe(3);
    expect(String(arithmetic('add', 2147483647, 1))).toBe('2147483648');
    expect(arithmetic('add', 2147483647, 1)).toBeInstanceOf(Long);
    expect(String(arithmetic('add', Long.fromString('9007199254740993'), 1))).toBe(
      '9007199254740994',
    );
    expect(arithmetic('add', 1, new Double(1))).toBeInstanceOf(Double);
    expect(arithmetic('multiply', 1.5, 2)).toBeInstanceOf(Double);
    expect(() => arithmetic('add', Long.MAX_VALUE, 1)).toThrow(/overflows/);
  });

  it('gives mingo a view with plain numbers that leads back to the stored document', () => {
    const stored = { a: new Double(1), b: { c: Long.fromNumber(2) } };
    const view = evaluationView(stored);
    expect(view).toEqual({ a: 1, b: { c: 2 } });
    expect(storedObject(view)).toBe(stored);
    expect(evaluationView(view)).toBe(view);
    const plain = { a: 1 };
    expect(evaluationView(plain)).toBe(plain);
  });

  it('parses $type arguments and refuses unknown aliases', () => {
    expect(hasType(new Double(1), parseTypeArgument('double'))).toBe(true);
    expect(hasType(1, parseTypeArgument(['long', 'int']))).toBe(true);
    expect(hasType(1.5, parseTypeArgument('int'))).toBe(false);
    expect(hasType(Long.fromNumber(1), parseTypeArgument('number'))).toBe(true);
    expect(() => parseTypeArgument('nope')).toThrow(/Unknown type name alias/);
  });
});
