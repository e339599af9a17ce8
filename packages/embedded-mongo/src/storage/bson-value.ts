import type { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';

/**
 * MongoDB's cross-type comparison order ("BSON comparison order"): values of different types
 * compare by this rank before their content is looked at.
 */
export enum BsonRank {
  MinKey = 1,
  Null = 2,
  Number = 3,
  String = 4,
  Object = 5,
  Array = 6,
  BinData = 7,
  ObjectId = 8,
  Boolean = 9,
  Date = 10,
  Timestamp = 11,
  RegExp = 12,
  MaxKey = 13,
}

export function bsonTypeName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const name = (value as { _bsontype?: unknown })._bsontype;
  return typeof name === 'string' ? name : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function bsonRank(value: unknown): BsonRank {
  if (value === null || value === undefined) return BsonRank.Null;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return BsonRank.Number;
    case 'string':
      return BsonRank.String;
    case 'boolean':
      return BsonRank.Boolean;
  }
  if (Array.isArray(value)) return BsonRank.Array;
  if (value instanceof Date) return BsonRank.Date;
  if (value instanceof RegExp) return BsonRank.RegExp;
  switch (bsonTypeName(value)) {
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return BsonRank.Number;
    case 'BSONSymbol':
      return BsonRank.String;
    case 'Binary':
      return BsonRank.BinData;
    case 'ObjectId':
      return BsonRank.ObjectId;
    case 'Timestamp':
      return BsonRank.Timestamp;
    case 'BSONRegExp':
      return BsonRank.RegExp;
    case 'MinKey':
      return BsonRank.MinKey;
    case 'MaxKey':
      return BsonRank.MaxKey;
  }
  return BsonRank.Object;
}

/** Numeric value of any BSON number type; Decimal128 is approximated by a double. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  switch (bsonTypeName(value)) {
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return Number((value as Decimal128).toString());
    default:
      return Number((value as { valueOf(): unknown }).valueOf());
  }
}

function simpleCompare<T extends string | number | boolean>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/**
 * mongod compares strings by their UTF-8 bytes, which is Unicode code point order; JS `<`
 * compares UTF-16 code units, which differs once a surrogate pair meets a character of
 * U+E000..U+FFFF ('\u{1F600}' < '\uFFFD' in UTF-16 but not in UTF-8).
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && x <= 0xdfff && y >= 0xd800 && y <= 0xdfff) return x < y ? -1 : 1;
    const cx = a.codePointAt(i) ?? x;
    const cy = b.codePointAt(i) ?? y;
    return cx < cy ? -1 : 1;
  }
  return simpleCompare(a.length, b.length);
}

export type StringComparator = (a: string, b: string) => number;

/** A comparator for `collation` (Intl.Collator), or UTF-8 byte order without one. */
export function stringComparator(collation: Record<string, unknown> | undefined): StringComparator {
  if (!collation || collation.locale === 'simple' || typeof collation.locale !== 'string') {
    return compareUtf8;
  }
  const strength = Number(collation.strength ?? 3);
  const collator = new Intl.Collator(intlLocale(collation.locale), {
    sensitivity: strength <= 1 ? 'base' : strength === 2 ? 'accent' : 'variant',
    numeric: collation.numericOrdering === true,
    caseFirst:
      collation.caseFirst === 'upper' || collation.caseFirst === 'lower'
        ? collation.caseFirst
        : undefined,
    ignorePunctuation: collation.alternate === 'shifted',
  });
  return (a, b) => collator.compare(a, b);
}

/** ICU locale ids as MongoDB spells them (`en_US`) in the BCP 47 form Intl takes (`en-US`). */
export function intlLocale(locale: string): string {
  return locale.replace(/_/g, '-').replace(/@.*$/, '');
}

/** Compares two values the way mongod orders them (whole arrays compare element by element). */
export function compareBson(
  a: unknown,
  b: unknown,
  strings: StringComparator = compareUtf8,
): number {
  const rankA = bsonRank(a);
  const rankB = bsonRank(b);
  if (rankA !== rankB) return rankA < rankB ? -1 : 1;
  switch (rankA) {
    case BsonRank.Null:
    case BsonRank.MinKey:
    case BsonRank.MaxKey:
      return 0;
    case BsonRank.Number: {
      const x = toNumber(a);
      const y = toNumber(b);
      // mongod orders NaN below every other number.
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return simpleCompare(x, y);
    }
    case BsonRank.String:
      return strings(String(a), String(b));
    case BsonRank.Boolean:
      return simpleCompare(a as boolean, b as boolean);
    case BsonRank.Date:
      return simpleCompare((a as Date).getTime(), (b as Date).getTime());
    case BsonRank.ObjectId:
      return compareBytes((a as ObjectId).id, (b as ObjectId).id);
    case BsonRank.BinData: {
      const x = a as Binary;
      const y = b as Binary;
      // mongod compares length first, then subtype, then the bytes.
      return (
        simpleCompare(x.position, y.position) ||
        simpleCompare(x.sub_type, y.sub_type) ||
        compareBytes(x.buffer.subarray(0, x.position), y.buffer.subarray(0, y.position))
      );
    }
    case BsonRank.Timestamp: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return simpleCompare(x.t, y.t) || simpleCompare(x.i, y.i);
    }
    case BsonRank.RegExp: {
      const x = a as RegExp;
      const y = b as RegExp;
      return simpleCompare(x.source, y.source) || simpleCompare(x.flags, y.flags);
    }
    case BsonRank.Array: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareBson(x[i], y[i], strings);
        if (c !== 0) return c;
      }
      return simpleCompare(x.length, y.length);
    }
    default:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>, strings);
  }
}

/** Embedded documents compare field by field: type rank, then field name, then value. */
function compareObjects(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  strings: StringComparator,
): number {
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  const n = Math.min(keysA.length, keysB.length);
  for (let i = 0; i < n; i++) {
    const va = a[keysA[i]];
    const vb = b[keysB[i]];
    const byRank = simpleCompare(bsonRank(va), bsonRank(vb));
    if (byRank !== 0) return byRank;
    const byName = compareUtf8(keysA[i], keysB[i]);
    if (byName !== 0) return byName;
    const byValue = compareBson(va, vb, strings);
    if (byValue !== 0) return byValue;
  }
  return simpleCompare(keysA.length, keysB.length);
}

/**
 * A string that is equal for two values exactly when mongod's equality says they are equal
 * (1, 1.0 and Long(1) share a key; field order in embedded documents matters). Used as the key
 * of `_id` lookups and of secondary index entries.
 */
export function valueKey(value: unknown): string {
  if (value === null || value === undefined) return 'z';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return numberKey(value);
    case 'boolean':
      return value ? 'T' : 'F';
    case 'bigint':
      return numberKey(Number(value));
  }
  if (value instanceof Date) return `d${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (value instanceof RegExp) return `r${JSON.stringify(value.source)}${value.flags}`;
  switch (bsonTypeName(value)) {
    case 'ObjectId':
      return `o${(value as ObjectId).toHexString()}`;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return numberKey(toNumber(value));
    case 'Binary': {
      const binary = value as Binary;
      return `b${binary.sub_type}:${Buffer.from(binary.buffer.subarray(0, binary.position)).toString('base64')}`;
    }
    case 'Timestamp':
      return `t${(value as Timestamp).toString()}`;
    case 'MinKey':
      return 'm';
    case 'MaxKey':
      return 'M';
    case 'BSONSymbol':
      return JSON.stringify(String(value));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${valueKey(v)}`).join(',')}}`;
}

function numberKey(value: number): string {
  // -0 and 0 are equal to mongod.
  return `n${value === 0 ? 0 : value}`;
}
