import { compareBson, isPlainObject, stringComparator, type StringComparator } from './bson-value';

export type StoredDocument = Record<string, unknown>;

/**
 * Every value a dotted path reaches, descending through arrays the way mongod's index keys and
 * sort keys do: `a.b` on `{ a: [{ b: 1 }, { b: 2 }] }` reaches 1 and 2, and a terminal array
 * contributes its elements. Nothing reached is reported as an empty list. With
 * `missingAsNull`, an element of an array on the way that does not have the rest of the path
 * (`{ c: 1 }` in `{ a: [{ b: 1 }, { c: 1 }] }`, or a scalar) contributes null, as it does to
 * mongod's index and sort keys: `{ 'a.b': null }` matches that document, and it sorts as null.
 */
export function pathValues(
  doc: unknown,
  path: string,
  options: { missingAsNull?: boolean } = {},
): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out, options.missingAsNull === true);
  return out;
}

function collect(
  value: unknown,
  parts: string[],
  depth: number,
  out: unknown[],
  missingAsNull: boolean,
  inArray = false,
): void {
  if (depth === parts.length) {
    if (Array.isArray(value)) out.push(...value);
    else if (value !== undefined) out.push(value);
    else if (missingAsNull && inArray) out.push(null);
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[depth];
    if (/^\d+$/.test(part) && Number(part) < value.length) {
      collect(value[Number(part)], parts, depth + 1, out, missingAsNull);
    }
    for (const element of value) {
      if (isPlainObject(element)) collect(element, parts, depth, out, missingAsNull, true);
      else if (missingAsNull && !/^\d+$/.test(part)) out.push(null);
    }
    return;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const next = (value as Record<string, unknown>)[parts[depth]];
    collect(next, parts, depth + 1, out, missingAsNull, inArray);
  } else if (missingAsNull && inArray) {
    out.push(null);
  }
}

/** Whether the path reaches anything at all (sparse indexes skip documents where it does not). */
export function hasPath(doc: unknown, path: string): boolean {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(value)) return pathValues(value, part).length > 0;
    if (!isPlainObject(value) || !(part in value)) return false;
    value = value[part];
  }
  return true;
}

/**
 * Copies plain objects, arrays and dates; BSON value objects (ObjectId, Binary, …) are never
 * mutated by the engine and are shared.
 */
export function cloneDocument<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDocument) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // An own `__proto__` field (MongoDB allows it) must stay a field, not become the prototype.
      if (key === '__proto__') {
        Object.defineProperty(copy, key, {
          value: cloneDocument(value[key]),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else copy[key] = cloneDocument(value[key]);
    }
    return copy as T;
  }
  return value;
}

/** Sets a dotted path, creating the embedded documents on the way (upsert seeding). */
export function setPath(doc: StoredDocument, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Record<string, unknown> = doc;
  for (const part of parts.slice(0, -1)) {
    // Own fields only: `__proto__` in a path is a field name, never the object's prototype
    // (reading it through `target[part]` reached Object.prototype and polluted it).
    const own = Object.prototype.hasOwnProperty.call(target, part) ? target[part] : undefined;
    if (!isPlainObject(own)) defineField(target, part, {});
    target = target[part] as Record<string, unknown>;
  }
  defineField(target, parts[parts.length - 1], value);
}

function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

export type SortSpec = Array<[string, 1 | -1]>;

export function parseSortSpec(sort: unknown): SortSpec {
  if (!isPlainObject(sort)) return [];
  return Object.entries(sort).map(([field, direction]) => [field, Number(direction) < 0 ? -1 : 1]);
}

/** The sort key of a field holding only an empty array: mongod sorts it before null. */
const EMPTY_ARRAY_KEY = Symbol('empty array');

function reachesEmptyArray(doc: unknown, path: string): boolean {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(value)) return false;
    value = value[part];
  }
  return Array.isArray(value) && value.length === 0;
}

/**
 * mongod sorts an array field by its smallest element ascending and by its largest element
 * descending; a missing field sorts as null, an empty array before null.
 */
function sortKey(
  doc: StoredDocument,
  field: string,
  direction: 1 | -1,
  strings: StringComparator,
): unknown {
  const values = pathValues(doc, field, { missingAsNull: true });
  if (values.length === 0) return reachesEmptyArray(doc, field) ? EMPTY_ARRAY_KEY : null;
  let best = values[0];
  for (let i = 1; i < values.length; i++) {
    const c = compareBson(values[i], best, strings);
    if ((direction === 1 && c < 0) || (direction === -1 && c > 0)) best = values[i];
  }
  return best;
}

function compareSortKeys(a: unknown, b: unknown, strings: StringComparator): number {
  if (a === EMPTY_ARRAY_KEY || b === EMPTY_ARRAY_KEY) {
    if (a === b) return 0;
    // Only MinKey sorts before an empty array.
    const other = a === EMPTY_ARRAY_KEY ? b : a;
    const otherFirst = (other as { _bsontype?: string } | null)?._bsontype === 'MinKey';
    return (a === EMPTY_ARRAY_KEY) === otherFirst ? 1 : -1;
  }
  return compareBson(a, b, strings);
}

/** Sorts as mongod does (also the `$sort` stages of an aggregation); `collation` orders strings. */
export function sortDocuments<T extends StoredDocument>(
  docs: T[],
  sort: SortSpec,
  collation?: Record<string, unknown>,
): T[] {
  if (sort.length === 0) return docs;
  const strings = stringComparator(collation);
  const keyed = docs.map((doc, position) => ({
    doc,
    position,
    // `$natural` is the order documents are stored in, which is the order they arrive in here.
    keys: sort.map(([field, direction]) =>
      field === '$natural' ? position : sortKey(doc, field, direction, strings),
    ),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < sort.length; i++) {
      const c = compareSortKeys(a.keys[i], b.keys[i], strings);
      if (c !== 0) return c * sort[i][1];
    }
    return a.position - b.position;
  });
  return keyed.map((entry) => entry.doc);
}
