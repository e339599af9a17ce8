import type { Document } from 'bson';
import type { Query } from 'mingo/query';
import { engineQuery } from './mongod-operators';
import { CommandError } from '../command-error';
import { bsonTypeName, isPlainObject, valueKey } from './bson-value';
import { hasPath, pathValues, type StoredDocument } from './document-path';

export interface IndexSpec extends Document {
  v?: number;
  key: Record<string, number | string>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

/** One key a document contributes to an index; multikey documents contribute several. */
export interface IndexKey {
  key: string;
  values: unknown[];
}

/** Index options that make two specs with the same key pattern different indexes. */
const IDENTITY_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'];

export function indexNameFor(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_');
}

/** Renders a value the way mongod prints it in a duplicate-key message. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`;
  const type = bsonTypeName(value);
  if (type === 'ObjectId') return `ObjectId('${String(value)}')`;
  if (type) return String(value);
  if (isPlainObject(value)) {
    const fields = Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`);
    return `{ ${fields.join(', ')} }`;
  }
  return String(value);
}

export function duplicateKeyError(
  ns: string,
  indexName: string,
  keyPattern: Record<string, unknown>,
  values: unknown[],
): CommandError {
  const keyValue: Record<string, unknown> = {};
  Object.keys(keyPattern).forEach((field, i) => {
    keyValue[field] = values[i] ?? null;
  });
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${formatValue(keyValue)}`,
    { keyPattern, keyValue },
  );
}

/** The operators mongod accepts in a partialFilterExpression (7.0). */
const PARTIAL_FILTER_OPERATORS = new Set([
  '$eq',
  '$exists',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$type',
  '$in',
]);

/** Rejects what mongod rejects, so a schema that works here also works on a real server. */
export function validatePartialFilter(filter: unknown, topLevel = true): void {
  if (!isPlainObject(filter)) {
    throw new CommandError('CannotCreateIndex', 'partialFilterExpression must be an object');
  }
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and' || field === '$or') {
      if (!topLevel || !Array.isArray(condition)) {
        throw unsupportedPartial(field);
      }
      for (const clause of condition) validatePartialFilter(clause, false);
      continue;
    }
    if (field.startsWith('$')) throw unsupportedPartial(field);
    const isOperatorObject =
      isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'));
    if (!isOperatorObject) continue;
    for (const [operator, operand] of Object.entries(condition)) {
      if (!PARTIAL_FILTER_OPERATORS.has(operator) || (operator === '$exists' && !operand)) {
        throw unsupportedPartial(`${field}: { ${operator}: ${formatValue(operand)} }`);
      }
    }
  }
}

function unsupportedPartial(expression: string): CommandError {
  return new CommandError(
    'CannotCreateIndex',
    `Error in specification: Expression not supported in partial index: ${expression}`,
  );
}

/**
 * A secondary index: a hash from the canonical key of the indexed values to the `_id` keys of
 * the documents holding them. Equality and `$in` lookups use it; range queries scan.
 */
export class CollectionIndex {
  readonly fields: string[];
  private readonly entries: Postings = new Map();
  /** Compound indexes also answer equality on their leading field alone, as mongod's do. */
  private readonly leading?: Postings;
  private readonly partialFilter?: Query;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    if (this.fields.length > 1) this.leading = new Map();
    if (spec.partialFilterExpression) {
      this.partialFilter = engineQuery(spec.partialFilterExpression);
    }
  }

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Partial and sparse indexes do not hold every document, so they cannot answer a query alone. */
  get coversAllDocuments(): boolean {
    return !this.partialFilter && this.spec.sparse !== true;
  }

  sameDefinition(other: IndexSpec): boolean {
    if (valueKey(this.spec.key) !== valueKey(other.key)) return false;
    return IDENTITY_OPTIONS.every(
      (option) => valueKey(this.spec[option] ?? null) === valueKey(other[option] ?? null),
    );
  }

  /** The keys of a document, or none when a sparse or partial index leaves it out. */
  /** Whether the document is in the index at all (sparse and partial indexes leave some out). */
  includes(doc: StoredDocument): boolean {
    if (this.partialFilter && !this.partialFilter.test(doc)) return false;
    return !this.spec.sparse || this.fields.some((field) => hasPath(doc, field));
  }

  keysOf(doc: StoredDocument): IndexKey[] {
    if (!this.includes(doc)) return [];
    let combos: unknown[][] = [[]];
    for (const field of this.fields) {
      const values = pathValues(doc, field, { missingAsNull: true });
      // A missing field is indexed as null, so unique indexes allow only one such document.
      const options = values.length === 0 ? [null] : uniqueByKey(values);
      combos = combos.flatMap((combo) => options.map((value) => [...combo, value]));
    }
    return combos.map((values) => ({ key: compoundKey(values), values }));
  }

  /** The first key of `doc` already held by another document, for unique indexes. */
  findConflict(doc: StoredDocument, idKey: string): IndexKey | undefined {
    if (!this.unique) return undefined;
    return this.keysOf(doc).find((entry) => {
      const holders = this.entries.get(entry.key);
      if (holders === undefined) return false;
      return typeof holders === 'string' ? holders !== idKey : true;
    });
  }

  add(doc: StoredDocument, idKey: string): void {
    for (const { key, values } of this.keysOf(doc)) {
      addTo(this.entries, key, idKey);
      if (this.leading) addTo(this.leading, valueKey(values[0]), idKey);
    }
  }

  remove(doc: StoredDocument, idKey: string): void {
    for (const { key, values } of this.keysOf(doc)) {
      removeFrom(this.entries, key, idKey);
      if (this.leading) removeFrom(this.leading, valueKey(values[0]), idKey);
    }
  }

  /**
   * `_id` keys of documents whose indexed fields equal one of the given values per field, or
   * undefined when this index cannot answer (only the leading fields given).
   */
  lookup(valuesPerField: unknown[][]): Set<string> | undefined {
    const ids = new Set<string>();
    if (valuesPerField.length === this.fields.length) {
      let combos: unknown[][] = [[]];
      for (const values of valuesPerField) {
        combos = combos.flatMap((combo) => values.map((value) => [...combo, value]));
      }
      for (const combo of combos) collectInto(ids, this.entries.get(compoundKey(combo)));
      return ids;
    }
    if (valuesPerField.length === 1 && this.leading) {
      for (const value of valuesPerField[0]) {
        collectInto(ids, this.leading.get(valueKey(value)));
      }
      return ids;
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
    this.leading?.clear();
  }
}

function compoundKey(values: unknown[]): string {
  return values.length === 1 ? valueKey(values[0]) : values.map(valueKey).join('|');
}

function uniqueByKey(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const seen = new Map<string, unknown>();
  for (const value of values) {
    const key = valueKey(value);
    if (!seen.has(key)) seen.set(key, value);
  }
  return [...seen.values()];
}

/**
 * Index key → the `_id` keys holding it. A key held by one document (every key of a unique
 * index) stores that id alone: a Set per key would multiply the heap of large collections.
 */
type Postings = Map<string, string | Set<string>>;

function addTo(map: Postings, key: string, id: string): void {
  const holders = map.get(key);
  if (holders === undefined) map.set(key, id);
  else if (typeof holders === 'string') {
    if (holders !== id) map.set(key, new Set([holders, id]));
  } else holders.add(id);
}

function removeFrom(map: Postings, key: string, id: string): void {
  const holders = map.get(key);
  if (holders === undefined) return;
  if (typeof holders === 'string') {
    if (holders === id) map.delete(key);
    return;
  }
  holders.delete(id);
  if (holders.size === 1) map.set(key, holders.values().next().value as string);
}

function collectInto(ids: Set<string>, holders: string | Set<string> | undefined): void {
  if (typeof holders === 'string') ids.add(holders);
  else holders?.forEach((id) => ids.add(id));
}
