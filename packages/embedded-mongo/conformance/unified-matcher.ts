/**
 * "Evaluating Matches" of MongoDB's unified test format: expected values (Extended JSON with
 * `$$` special operators) against what the driver returned. Root-level documents may carry
 * extra fields, nested ones may not; numbers of different BSON types match by value.
 */
import { EJSON } from 'bson';

export class MatchFailure extends Error {}

export type EntityLookup = (name: string) => unknown;

export interface MatchOptions {
  entities?: EntityLookup;
}

const NUMERIC_TYPES = new Set(['Int32', 'Double', 'Long']);

function bsonType(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const name = (value as { _bsontype?: unknown })._bsontype;
  return typeof name === 'string' ? name : undefined;
}

function isDocument(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (value instanceof Date || value instanceof RegExp || bsonType(value) !== undefined) {
    return false;
  }
  return !ArrayBuffer.isView(value);
}

function isNumeric(value: unknown): boolean {
  return (
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    NUMERIC_TYPES.has(bsonType(value) ?? '')
  );
}

function numericValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return Number((value as { valueOf(): unknown }).valueOf());
}

/** The `$type` alias of a value, as the `$type` query operator names it. */
export function typeAlias(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 'int' : 'double';
    case 'bigint':
      return 'long';
  }
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  switch (bsonType(value)) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Code':
      return 'javascript';
    case 'BSONSymbol':
      return 'symbol';
  }
  return 'object';
}

function show(value: unknown): string {
  try {
    return EJSON.stringify(value as never, { relaxed: true });
  } catch {
    return String(value);
  }
}

function fail(path: string, message: string): never {
  throw new MatchFailure(`${path || '(root)'}: ${message}`);
}

function specialOperator(expected: unknown): [string, unknown] | undefined {
  if (!isDocument(expected)) return undefined;
  const keys = Object.keys(expected);
  if (keys.length === 1 && keys[0].startsWith('$$')) return [keys[0], expected[keys[0]]];
  return undefined;
}

/** Throws a MatchFailure naming the first difference. */
export function assertMatches(
  expected: unknown,
  actual: unknown,
  isRoot = true,
  options: MatchOptions = {},
  path = '',
): void {
  // The driver sends a sort as a Map (to keep key order).
  if (actual instanceof Map) actual = Object.fromEntries(actual);
  const special = specialOperator(expected);
  if (special) {
    matchSpecial(special[0], special[1], actual, isRoot, options, path);
    return;
  }
  if (isDocument(expected)) {
    if (
      !isDocument(actual) &&
      !(actual !== null && typeof actual === 'object' && !Array.isArray(actual))
    ) {
      fail(path, `expected a document, got ${show(actual)}`);
    }
    const actualDoc = actual as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) {
      const sub = path ? `${path}.${key}` : key;
      const present = key in actualDoc && actualDoc[key] !== undefined;
      const op = specialOperator(value);
      if (op && op[0] === '$$exists') {
        if (Boolean(op[1]) !== present)
          fail(sub, op[1] ? 'expected to exist' : 'expected to be absent');
        continue;
      }
      if (op && op[0] === '$$unsetOrMatches') {
        if (!present) continue;
        assertMatches(op[1], actualDoc[key], false, options, sub);
        continue;
      }
      if (!present) fail(sub, `missing (expected ${show(value)})`);
      assertMatches(value, actualDoc[key], false, options, sub);
    }
    if (!isRoot) {
      for (const key of Object.keys(actualDoc)) {
        if (!(key in expected) && actualDoc[key] !== undefined) {
          fail(path, `unexpected field '${key}' in ${show(actual)}`);
        }
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) fail(path, `expected an array, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      fail(path, `expected ${expected.length} elements, got ${actual.length}: ${show(actual)}`);
    }
    expected.forEach((value, i) =>
      assertMatches(value, actual[i], false, options, `${path}[${i}]`),
    );
    return;
  }
  assertSameValue(expected, actual, path);
}

function assertSameValue(expected: unknown, actual: unknown, path: string): void {
  if (isNumeric(expected)) {
    if (!isNumeric(actual)) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    const x = numericValue(expected);
    const y = numericValue(actual);
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) {
      fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    }
    return;
  }
  if (bsonType(expected) === 'Decimal128') {
    if (bsonType(actual) !== 'Decimal128' || String(expected) !== String(actual)) {
      fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    }
    return;
  }
  if (typeAlias(expected) !== typeAlias(actual) || show(expected) !== show(actual)) {
    fail(path, `expected ${show(expected)}, got ${show(actual)}`);
  }
}

function matchSpecial(
  operator: string,
  argument: unknown,
  actual: unknown,
  isRoot: boolean,
  options: MatchOptions,
  path: string,
): void {
  switch (operator) {
    case '$$exists':
      if (Boolean(argument) !== (actual !== undefined)) fail(path, `$$exists: ${String(argument)}`);
      return;
    case '$$type': {
      const wanted = Array.isArray(argument) ? argument : [argument];
      const got = typeAlias(actual);
      const aliases = got === 'int' || got === 'long' || got === 'double' ? [got, 'number'] : [got];
      // A JS number that holds an integer may have been an int or a long on the wire.
      if (typeof actual === 'number' && Number.isInteger(actual)) aliases.push('long', 'int');
      if (actual === undefined || !wanted.some((type) => aliases.includes(String(type)))) {
        fail(path, `expected $$type ${show(argument)}, got ${got} ${show(actual)}`);
      }
      return;
    }
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      assertMatches(argument, actual, isRoot, options, path);
      return;
    case '$$matchesEntity': {
      if (!options.entities) fail(path, '$$matchesEntity without entities');
      assertMatches(options.entities(String(argument)), actual, isRoot, options, path);
      return;
    }
    case '$$matchAsRoot':
      assertMatches(argument, actual, true, options, path);
      return;
    case '$$matchAsDocument':
      if (typeof actual !== 'string') fail(path, `expected an Extended JSON string`);
      assertMatches(argument, EJSON.parse(actual, { relaxed: false }), false, options, path);
      return;
    case '$$lte':
      if (!isNumeric(actual) || numericValue(actual) > numericValue(argument)) {
        fail(path, `expected <= ${show(argument)}, got ${show(actual)}`);
      }
      return;
    case '$$matchesHexBytes':
      if (
        typeof actual !== 'string' ||
        Buffer.from(actual).toString('hex') !== String(argument).toLowerCase()
      ) {
        fail(path, `expected hex bytes ${String(argument)}`);
      }
      return;
    case '$$sessionLsid':
      if (!options.entities) fail(path, '$$sessionLsid without entities');
      assertMatches(options.entities(`lsid:${String(argument)}`), actual, false, options, path);
      return;
    default:
      throw new Error(`unsupported special operator ${operator}`);
  }
}

/** Whether two collections' contents are exactly equal (outcome), key order aside. */
export function assertSameDocuments(expected: unknown[], actual: unknown[]): void {
  if (expected.length !== actual.length) {
    fail('outcome', `expected ${expected.length} documents, got ${actual.length}: ${show(actual)}`);
  }
  expected.forEach((doc, i) => assertExact(doc, actual[i], `outcome[${i}]`));
}

function assertExact(expected: unknown, actual: unknown, path: string): void {
  if (isDocument(expected)) {
    if (!isDocument(actual)) fail(path, `expected a document, got ${show(actual)}`);
    const keysE = Object.keys(expected).sort();
    const keysA = Object.keys(actual).sort();
    if (keysE.join('\0') !== keysA.join('\0')) {
      fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    }
    for (const key of keysE) assertExact(expected[key], actual[key], `${path}.${key}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      fail(path, `expected ${show(expected)}, got ${show(actual)}`);
    }
    expected.forEach((value, i) => assertExact(value, actual[i], `${path}[${i}]`));
    return;
  }
  assertSameValue(expected, actual, path);
}
