import { Double, Long, ObjectId } from 'bson';
import { compileFilter, validateFilter } from './query-filter';

describe('query filters', () => {
  it('refuses unknown operators when parsed, with code 2', () => {
    expect(() => validateFilter({ a: { $foo: 1 } })).toThrow(expect.objectContaining({ code: 2 }));
    expect(() => validateFilter({ $foo: 1 })).toThrow(/unknown top level operator: \$foo/);
    expect(() => validateFilter({ $or: [{ a: { $bar: 1 } }] })).toThrow(/unknown operator: \$bar/);
    expect(() => validateFilter({ a: { b: { $foo: 1 } } })).not.toThrow();
  });

  it('matches numbers by value whatever their stored type', () => {
    const filter = compileFilter({ n: 1 });
    expect(filter.test({ n: new Double(1) })).toBe(true);
    expect(filter.test({ n: Long.fromNumber(1) })).toBe(true);
    expect(compileFilter({ n: Long.fromNumber(1) }).test({ n: 1 })).toBe(true);
  });

  it('answers $type from the stored types, inside arrays too', () => {
    expect(compileFilter({ n: { $type: 'double' } }).test({ n: new Double(1) })).toBe(true);
    expect(compileFilter({ n: { $type: 'int' } }).test({ n: new Double(1) })).toBe(false);
    expect(compileFilter({ n: { $type: 'long' } }).test({ n: [1, Long.fromNumber(2)] })).toBe(true);
    expect(compileFilter({ o: { $type: 'objectId' } }).test({ o: new ObjectId() })).toBe(true);
    expect(
      compileFilter({ $or: [{ n: { $type: 'string' } }, { n: { $type: 'double' } }] }).test({
        n: 0.5,
      }),
    ).toBe(true);
  });

  it('folds case under a strength-2 collation and reads let variables', () => {
    const folded = compileFilter({ s: 'PING' }, { collation: { locale: 'en', strength: 2 } });
    expect(folded.test({ s: 'ping' })).toBe(true);
    expect(compileFilter({ s: 'PING' }).test({ s: 'ping' })).toBe(false);
    const byLet = compileFilter({ $expr: { $eq: ['$s', '$$x'] } }, { variables: { x: 'a' } });
    expect(byLet.test({ s: 'a' })).toBe(true);
  });
});
