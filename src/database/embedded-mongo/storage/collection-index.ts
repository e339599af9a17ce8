import type { Document } from 'bson';
import { Query } from 'mingo';
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

/**
 * A secondary index: a hash from the canonical key of the indexed values to the `_id` keys of
 * the documents holding them. Equality and `$in` lookups use it; range queries scan.
 */
export class CollectionIndex {
  readonly fields: string[];
  private readonly entries = new Map<string, Set<string>>();
  /** Compound indexes also answer equality on their leading field alone, as mongod's do. */
  private readonly leading?: Map<string, Set<string>>;
  private readonly partialFilter?: Query;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    if (this.fields.length > 1) this.leading = new Map();
    if (spec.partialFilterExpression) {
      this.partialFilter = new Query(spec.partialFilterExpression, {});
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
      const values = pathValues(doc, field);
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
      return holders !== undefined && (holders.size > 1 || !holders.has(idKey));
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
   * undefined when this index cannot answer (only the leading fields given). Lazy, so a caller
   * that needs only the first few matches (a `limit`) does not pay for every holder of a
   * common value.
   */
  lookup(valuesPerField: unknown[][]): Iterable<string> | undefined {
    let holders: (Set<string> | undefined)[];
    if (valuesPerField.length === this.fields.length) {
      let combos: unknown[][] = [[]];
      for (const values of valuesPerField) {
        combos = combos.flatMap((combo) => values.map((value) => [...combo, value]));
      }
      holders = combos.map((combo) => this.entries.get(compoundKey(combo)));
    } else if (valuesPerField.length === 1 && this.leading) {
      holders = valuesPerField[0].map((value) => this.leading!.get(valueKey(value)));
    } else {
      return undefined;
    }
    return distinct(holders.filter((set): set is Set<string> => set !== undefined));
  }

  clear(): void {
    this.entries.clear();
    this.leading?.clear();
  }
}

/** Each id once, in the order the sets hold them (a multikey document may sit in several). */
function* distinct(sets: Set<string>[]): Generator<string> {
  if (sets.length === 1) {
    yield* sets[0];
    return;
  }
  const seen = new Set<string>();
  for (const set of sets) {
    for (const id of set) {
      if (seen.has(id)) continue;
      seen.add(id);
      yield id;
    }
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

function addTo(map: Map<string, Set<string>>, key: string, id: string): void {
  let holders = map.get(key);
  if (!holders) {
    holders = new Set();
    map.set(key, holders);
  }
  holders.add(id);
}

function removeFrom(map: Map<string, Set<string>>, key: string, id: string): void {
  const holders = map.get(key);
  if (!holders) return;
  holders.delete(id);
  if (holders.size === 0) map.delete(key);
}
