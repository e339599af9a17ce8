import { ApiException } from '../common/api.exception';
import { assertSessionData, mergeSessionData, MAX_SESSION_DATA_BYTES } from './session-data';

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

function rejects(value: unknown, message: RegExp) {
  try {
    assertSessionData(value);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiException);
    expect((e as ApiException).getStatus()).toBe(400);
    expect((e as ApiException).message).toMatch(message);
    return;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('assertSessionData', () => {
  it('accepts ordinary objects', () => {
    expect(() => assertSessionData({})).not.toThrow();
    expect(() => assertSessionData({ cart: [{ sku: 'a', n: 2 }], theme: 'dark' })).not.toThrow();
  });

  it('refuses anything but an object', () => {
    for (const v of [null, [], 'x', 3, true]) rejects(v, /JSON object/);
  });

  it('allows 8 levels and refuses 9', () => {
    expect(() => assertSessionData(nest(7))).not.toThrow(); // 7 objects deep + the leaf
    expect(() => assertSessionData(nest(8))).not.toThrow();
    rejects(nest(9), /deeper than 8/);
    rejects({ a: [[[[[[[[1]]]]]]]] }, /deeper than 8/);
  });

  it('refuses numbers JSON cannot carry (1e999 parses as Infinity)', () => {
    rejects(JSON.parse('{"a":1e999}'), /"a" is not a finite number/);
    rejects({ a: { b: [1, -Infinity] } }, /"a\.b\.1" is not a finite number/);
  });

  it('refuses lone surrogates, which UTF-8 storage would silently replace', () => {
    rejects(JSON.parse('{"a":"\\ud800"}'), /"a" is not valid Unicode/);
    rejects(JSON.parse('{"x":{"\\udc00":1}}'), /not valid Unicode/);
    expect(() => assertSessionData({ emoji: '😀', text: 'é' })).not.toThrow();
  });

  it('refuses operator, dotted and prototype keys at any depth', () => {
    rejects({ $where: 1 }, /\$where/);
    rejects({ a: { 'b.c': 1 } }, /a\.b\.c/);
    rejects(JSON.parse('{"__proto__": {"admin": true}}'), /__proto__/);
    rejects({ x: [{ constructor: 1 }] }, /constructor/);
    rejects({ prototype: 1 }, /prototype/);
  });

  it('refuses more than 16 KiB serialized', () => {
    const fits = { s: 'x'.repeat(MAX_SESSION_DATA_BYTES - 8) };
    expect(JSON.stringify(fits).length).toBe(MAX_SESSION_DATA_BYTES);
    expect(() => assertSessionData(fits)).not.toThrow();
    rejects({ s: 'x'.repeat(MAX_SESSION_DATA_BYTES - 7) }, /16384/);
  });
});

describe('mergeSessionData', () => {
  it('merges objects recursively, removes nulls, replaces the rest', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: 'x' };
    const merged = mergeSessionData(target, { b: { d: null, e: 4 }, list: [3], gone: null, n: 0 });
    expect(merged).toEqual({ a: 1, b: { c: 2, e: 4 }, list: [3], n: 0 });
    expect(target).toEqual({ a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: 'x' });
  });

  it('turns a scalar into an object when an object is merged onto it', () => {
    expect(mergeSessionData({ a: 1 }, { a: { b: null, c: 1 } })).toEqual({ a: { c: 1 } });
  });
});
