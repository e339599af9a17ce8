import { Decimal128, Double, Int32, Long } from 'bson';
import { CommandError } from '../command-error';
import { bsonTypeName, isPlainObject } from './bson-value';

/**
 * How the engine holds BSON numbers so that each keeps its type from insert to read:
 * - int32: a JS number that is an integer in int32 range (the driver's bson serializer writes
 *   such a number back as int32);
 * - double: a JS number that is not such an integer (written back as double), or a `Double`
 *   wrapper for the doubles that would otherwise be written back as int32 (1.0, -0.0);
 * - int64: a `Long`; decimal128: a `Decimal128`.
 * Most stored values are plain numbers, so mingo works on them directly; the few wrappers are
 * replaced by numbers in an evaluation view (`evaluationView`) before mingo sees a document.
 */
export type NumericKind = 'int' | 'long' | 'double' | 'decimal';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt32Number(value: number): boolean {
  return (
    Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0)
  );
}

export function numericKind(value: unknown): NumericKind | undefined {
  if (typeof value === 'number') return isInt32Number(value) ? 'int' : 'double';
  if (typeof value === 'bigint') return 'long';
  switch (bsonTypeName(value)) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
  }
  return undefined;
}

/** A double as the engine stores it (see above). */
export function storedDouble(value: number): number | Double {
  return isInt32Number(value) || Object.is(value, -0) ? new Double(value) : value;
}

/** One incoming value in the engine's representation (the wire decodes with promoteValues off). */
function normalizeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  switch (bsonTypeName(value)) {
    case 'Int32':
      return (value as Int32).value;
    case 'Double':
      return storedDouble((value as Double).value);
    case 'Long':
    case 'Decimal128':
      return value;
  }
  normalizeInPlace(value);
  return value;
}

/** Rewrites a freshly decoded command in place into the engine's number representation. */
export function normalizeInPlace(value: unknown): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalizeValue(value[i]);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) value[key] = normalizeValue(value[key]);
  }
}

/** The number mingo should compare for a wrapper (int64 beyond 2^53 and decimals approximate). */
function plainNumber(value: unknown): number | undefined {
  switch (bsonTypeName(value)) {
    case 'Double':
      return (value as Double).value;
    case 'Int32':
      return (value as Int32).value;
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return Number((value as Decimal128).toString());
  }
  return undefined;
}

/** For each object of an evaluation view that is a copy, the stored object it copies. */
const storedOf = new WeakMap<object, object>();
const viewOf = new WeakMap<object, object>();

/** The stored object an evaluation-view object stands for (itself when it is not a copy). */
export function storedObject<T extends object>(value: T): T {
  let current: object = value;
  for (let next = storedOf.get(current); next; next = storedOf.get(current)) current = next;
  return current as T;
}

/** Records that `copy` stands for `original` in an evaluation (see storedObject). */
export function registerCopy(copy: object, original: object): void {
  storedOf.set(copy, original);
}

function needsView(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(needsView);
  if (plainNumber(value) !== undefined) return true;
  if (!isPlainObject(value)) return false;
  for (const key in value) if (needsView(value[key])) return true;
  return false;
}

function copyForView(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const number = plainNumber(value);
  if (number !== undefined) return number;
  if (Array.isArray(value)) {
    const copy = value.map(copyForView);
    storedOf.set(copy, value);
    return copy;
  }
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyForView(value[key]);
  storedOf.set(copy, value);
  return copy;
}

/**
 * The document as mingo should see it: number wrappers replaced by plain numbers, so that
 * `{ a: 1 }` matches a stored 1.0 or Long(1) as on mongod. A document without wrappers is its
 * own view. Stored documents are never modified in place, so views are cached.
 */
export function evaluationView<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const cached = viewOf.get(value);
  if (cached) return cached as T;
  const view = needsView(value) ? (copyForView(value) as object) : value;
  viewOf.set(value, view);
  return view as T;
}

/** mongod's `$type` aliases and numeric codes. */
const TYPE_CODES: Record<string, number> = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
};

/** The BSON type code of a stored value. */
export function bsonTypeCode(value: unknown): number {
  if (value === null) return 10;
  if (value === undefined) return 6;
  if (Array.isArray(value)) return 4;
  const kind = numericKind(value);
  if (kind) return TYPE_CODES[kind];
  switch (typeof value) {
    case 'string':
      return 2;
    case 'boolean':
      return 8;
  }
  if (value instanceof Date) return 9;
  if (value instanceof RegExp) return 11;
  switch (bsonTypeName(value)) {
    case 'ObjectId':
      return 7;
    case 'Binary':
    case 'UUID':
      return 5;
    case 'Timestamp':
      return 17;
    case 'BSONRegExp':
      return 11;
    case 'MinKey':
      return -1;
    case 'MaxKey':
      return 127;
    case 'Code':
      return 13;
    case 'BSONSymbol':
      return 14;
    case 'DBRef':
      return 3;
  }
  return 3;
}

/** The type codes a `$type` argument names; refuses unknown aliases with mongod's error. */
export function parseTypeArgument(argument: unknown): Array<number | 'number'> {
  const list = Array.isArray(argument) ? argument : [argument];
  return list.map((entry) => {
    if (typeof entry === 'string') {
      if (entry === 'number') return 'number';
      const code = TYPE_CODES[entry];
      if (code === undefined)
        throw new CommandError('BadValue', `Unknown type name alias: ${entry}`);
      return code;
    }
    const kind = numericKind(entry);
    if (kind) {
      const code = Number(plainNumber(entry) ?? entry);
      if (Object.values(TYPE_CODES).includes(code)) return code;
      throw new CommandError('BadValue', `Invalid numerical type code: ${code}`);
    }
    throw new CommandError('TypeMismatch', 'type must be represented as a number or a string');
  });
}

export function hasType(value: unknown, types: Array<number | 'number'>): boolean {
  const code = bsonTypeCode(value);
  return types.some((type) => (type === 'number' ? [1, 16, 18, 19].includes(code) : type === code));
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'bigint') return value;
  return (value as Long).toBigInt();
}

function toDouble(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return plainNumber(value) ?? Number.NaN;
}

const RANK: Record<NumericKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

/**
 * `a + b` or `a * b` with mongod's type promotion: int32 stays int32 until it overflows (then
 * int64), int64 stays exact (an overflow is refused), anything with a double is a double and
 * anything with a decimal is a decimal.
 */
export function arithmetic(op: 'add' | 'multiply', a: unknown, b: unknown): unknown {
  const kindA = numericKind(a);
  const kindB = numericKind(b);
  if (!kindA || !kindB) throw new Error('arithmetic on a non-number');
  const kind = RANK[kindA] >= RANK[kindB] ? kindA : kindB;
  if (kind === 'decimal') {
    // bson's Decimal128 has no arithmetic; the result is computed as a double.
    const result = op === 'add' ? toDouble(a) + toDouble(b) : toDouble(a) * toDouble(b);
    return Decimal128.fromString(String(result));
  }
  if (kind === 'double') {
    return storedDouble(op === 'add' ? toDouble(a) + toDouble(b) : toDouble(a) * toDouble(b));
  }
  const exact = op === 'add' ? toBigInt(a) + toBigInt(b) : toBigInt(a) * toBigInt(b);
  if (kind === 'int' && exact >= BigInt(INT32_MIN) && exact <= BigInt(INT32_MAX))
    return Number(exact);
  if (exact < INT64_MIN || exact > INT64_MAX) {
    throw new CommandError(
      'BadValue',
      `Failed to apply ${op === 'add' ? '$inc' : '$mul'}: the result overflows a 64-bit integer`,
    );
  }
  return Long.fromBigInt(exact);
}
