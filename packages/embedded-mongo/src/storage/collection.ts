import { calculateObjectSize, ObjectId, UUID, type Document } from 'bson';
import { CommandError } from '../command-error';
import { bsonTypeName, isPlainObject, valueKey } from './bson-value';
import {
  CollectionIndex,
  duplicateKeyError,
  indexNameFor,
  validatePartialFilter,
  type IndexSpec,
} from './collection-index';
import type { StoredDocument } from './document-path';
import { DocumentValidator, type ValidationOptions } from './document-validation';
import type { StorageListener } from './storage-events';

export const ID_INDEX_NAME = '_id_';
export const MAX_DOCUMENT_SIZE = 16 * 1024 * 1024;

export interface WriteOptions {
  /** The write command's `bypassDocumentValidation`. */
  bypassValidation?: boolean;
}
const ID_INDEX_SPEC: IndexSpec = { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME };

/**
 * One collection: documents by the canonical key of their `_id` (insertion order is natural
 * order), plus its secondary indexes. Every method that writes checks all unique constraints
 * before it changes anything, so a failed write leaves no trace.
 */
export class Collection {
  /** Assigned anew on creation; restored from disk when the engine recovers its data. */
  uuid = new UUID();
  /** Told of every change after it is made (the journal and change streams listen). */
  listener?: StorageListener;
  private readonly documents = new Map<string, StoredDocument>();
  private readonly secondary: CollectionIndex[] = [];
  private validator?: DocumentValidator;
  /** Bytes of the stored documents, kept for capped collections only. */
  private cappedBytes = 0;

  constructor(
    readonly dbName: string,
    readonly name: string,
    public options: Document = {},
  ) {
    checkCappedOptions(options);
    this.validator = DocumentValidator.fromOptions(options);
  }

  /** Replaces the collection's options (collMod), journaled like any other change. */
  setOptions(options: Document): void {
    this.validator = DocumentValidator.fromOptions(options);
    this.options = options;
    this.listener?.({ op: 'setOptions', db: this.dbName, coll: this.name, options });
  }

  /** collMod: replaces the validation options it is given, keeping the others. */
  modifyValidation(changes: ValidationOptions): void {
    this.setOptions({ ...this.options, ...changes });
  }

  get ns(): string {
    return `${this.dbName}.${this.name}`;
  }

  get size(): number {
    return this.documents.size;
  }

  get indexes(): readonly CollectionIndex[] {
    return this.secondary;
  }

  indexSpecs(): IndexSpec[] {
    return [ID_INDEX_SPEC, ...this.secondary.map((index) => index.spec)];
  }

  all(): IterableIterator<StoredDocument> {
    return this.documents.values();
  }

  getById(idKey: string): StoredDocument | undefined {
    return this.documents.get(idKey);
  }

  /** Stores the document with `_id` as its first field (generated when missing), as mongod does. */
  insert(doc: StoredDocument, options: WriteOptions = {}): StoredDocument {
    // `_id: null` is a value like any other (only a missing `_id` gets a generated one).
    const id = doc._id === undefined ? new ObjectId() : doc._id;
    const stored = Object.keys(doc)[0] === '_id' ? doc : { _id: id, ...doc };
    validateId(stored._id);
    const size = checkSize(stored, 'insert');
    if (!options.bypassValidation) this.validator?.check(this.ns, stored);
    const idKey = valueKey(stored._id);
    if (this.documents.has(idKey)) {
      throw duplicateKeyError(this.ns, ID_INDEX_NAME, { _id: 1 }, [stored._id]);
    }
    this.checkUnique(stored, idKey);
    this.documents.set(idKey, stored);
    for (const index of this.secondary) index.add(stored, idKey);
    this.listener?.({ op: 'insert', db: this.dbName, coll: this.name, doc: stored });
    if (this.options.capped === true) this.evictCapped(size);
    return stored;
  }

  /** A capped collection drops its oldest documents beyond its `max` count or `size` bytes. */
  private evictCapped(added: number): void {
    this.cappedBytes += added;
    const maxDocs = Number(this.options.max ?? 0);
    const maxBytes = Number(this.options.size);
    for (const oldest of this.documents.values()) {
      const overCount = maxDocs > 0 && this.documents.size > maxDocs;
      if (!overCount && this.cappedBytes <= maxBytes) break;
      if (this.documents.size === 1) break;
      this.remove(oldest);
    }
  }

  /** Replaces a stored document by its new version; `_id` is immutable, so the key stays. */
  replace(
    previous: StoredDocument,
    next: StoredDocument,
    kind: 'update' | 'replace' = 'update',
    options: WriteOptions = {},
  ): void {
    const idKey = valueKey(previous._id);
    const size = checkSize(next, 'update');
    if (!options.bypassValidation) this.validator?.check(this.ns, next, previous);
    if (valueKey(next._id) !== idKey) {
      throw new CommandError(
        'ImmutableField',
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    this.checkUnique(next, idKey);
    for (const index of this.secondary) index.remove(previous, idKey);
    this.documents.set(idKey, next);
    for (const index of this.secondary) index.add(next, idKey);
    if (this.options.capped === true) {
      this.cappedBytes += size - calculateObjectSize(previous);
    }
    this.listener?.({
      op: 'replace',
      db: this.dbName,
      coll: this.name,
      before: previous,
      doc: next,
      kind,
    });
  }

  remove(doc: StoredDocument): void {
    const idKey = valueKey(doc._id);
    const stored = this.documents.get(idKey);
    if (!stored || !this.documents.delete(idKey)) return;
    if (this.options.capped === true) this.cappedBytes -= calculateObjectSize(stored);
    for (const index of this.secondary) index.remove(stored, idKey);
    this.listener?.({ op: 'delete', db: this.dbName, coll: this.name, before: stored });
  }

  /**
   * Documents that may match `filter`, found through the `_id` index or a secondary index when
   * the filter pins the index's fields to values; otherwise every document. `exact` says the
   * index alone decided the filter (it holds nothing but scalar equalities on the fields the
   * lookup used), so the documents need no further test.
   */
  candidates(filter: Document): Candidates {
    const plan = this.plan(filter);
    if (plan.index) {
      const idKeys = plan.index.idKeys ?? new Set<string>();
      return {
        documents: [...idKeys].map((id) => this.documents.get(id)).filter(isDefined),
        exact: plan.exact,
        keysExamined: idKeys.size,
      };
    }
    return { documents: this.documents.values(), exact: false, keysExamined: 0 };
  }

  /**
   * The access path `candidates()` takes for `filter`: the `_id` index when the filter pins
   * `_id`, else the first secondary index covering every document whose leading fields the
   * filter pins, else a scan. explain reports this plan.
   */
  plan(filter: Document): AccessPlan {
    const ids = equalityValues(filter, '_id');
    if (ids) {
      // `$in: [1, 1]` names one document once.
      const idKeys = new Set(ids.map((id) => valueKey(id)));
      return {
        index: { name: ID_INDEX_NAME, spec: ID_INDEX_SPEC, values: [ids], idKeys },
        exact: decidedBy(filter, ['_id']),
      };
    }
    for (const index of this.secondary) {
      if (!index.coversAllDocuments) continue;
      const perField: unknown[][] = [];
      for (const field of index.fields) {
        const values = equalityValues(filter, field);
        if (!values) break;
        perField.push(values);
      }
      if (perField.length === 0) continue;
      const idKeys = index.lookup(perField);
      if (idKeys) {
        return {
          index: { name: index.name, spec: index.spec, values: perField, idKeys },
          exact: decidedBy(filter, index.fields.slice(0, perField.length)),
        };
      }
    }
    return { exact: false };
  }

  /** Creates an index over the existing documents; fails without change on a duplicate. */
  createIndex(spec: IndexSpec): 'created' | 'exists' {
    const { v: _v, key, name = indexNameFor(spec.key), ...options } = spec;
    const normalized: IndexSpec = { v: 2, key, name, ...options };
    if (name === ID_INDEX_NAME || valueKey(spec.key) === valueKey({ _id: 1 })) {
      return 'exists';
    }
    const sameName = this.secondary.find((index) => index.name === name);
    if (sameName) {
      if (sameName.sameDefinition(normalized)) return 'exists';
      throw new CommandError(
        valueKey(sameName.spec.key) === valueKey(normalized.key)
          ? 'IndexOptionsConflict'
          : 'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(normalized)}, existing index: ${JSON.stringify(sameName.spec)}`,
      );
    }
    // Indexes on one key pattern may coexist when their partial filters differ, as on mongod.
    const sameKey = this.secondary.find(
      (index) =>
        valueKey(index.spec.key) === valueKey(normalized.key) &&
        valueKey(index.spec.partialFilterExpression ?? null) ===
          valueKey(normalized.partialFilterExpression ?? null),
    );
    if (sameKey) {
      throw new CommandError(
        'IndexOptionsConflict',
        `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(normalized)}, existing index: ${JSON.stringify(sameKey.spec)}`,
      );
    }
    validateIndexKey(normalized.key);
    if (normalized.partialFilterExpression !== undefined) {
      validatePartialFilter(normalized.partialFilterExpression);
    }
    const index = new CollectionIndex(normalized);
    for (const [idKey, doc] of this.documents) {
      const conflict = index.findConflict(doc, idKey);
      if (conflict) {
        index.clear();
        throw duplicateKeyError(this.ns, name, normalized.key, conflict.values);
      }
      index.add(doc, idKey);
    }
    this.secondary.push(index);
    this.listener?.({ op: 'createIndex', db: this.dbName, coll: this.name, spec: normalized });
    return 'created';
  }

  dropIndex(name: string): void {
    const position = this.secondary.findIndex((index) => index.name === name);
    if (position < 0) {
      throw new CommandError('IndexNotFound', `index not found with name [${name}]`);
    }
    this.secondary.splice(position, 1);
    this.listener?.({ op: 'dropIndex', db: this.dbName, coll: this.name, name });
  }

  dropAllIndexes(): void {
    this.secondary.length = 0;
    this.listener?.({ op: 'dropAllIndexes', db: this.dbName, coll: this.name });
  }

  private checkUnique(doc: StoredDocument, idKey: string): void {
    for (const index of this.secondary) {
      const conflict = index.findConflict(doc, idKey);
      if (conflict) throw duplicateKeyError(this.ns, index.name, index.spec.key, conflict.values);
    }
  }
}

export interface Candidates {
  documents: Iterable<StoredDocument>;
  exact: boolean;
  /** Index entries looked up to find the documents (0 for a scan). */
  keysExamined: number;
}

export interface AccessPlan {
  /** The index used, with the values looked up per leading field; none for a scan. */
  index?: { name: string; spec: IndexSpec; values: unknown[][]; idKeys?: Set<string> };
  /** The index alone decides the filter (see `decidedBy`). */
  exact: boolean;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

/** mongod refuses documents over 16 MB with BSONObjectTooLarge (10334), as a write error. */
function checkSize(doc: StoredDocument, operation: 'insert' | 'update'): number {
  const size = calculateObjectSize(doc);
  if (size > MAX_DOCUMENT_SIZE) {
    throw new CommandError(
      'BSONObjectTooLarge',
      operation === 'insert'
        ? `object to insert too large. size in bytes: ${size}, max size: ${MAX_DOCUMENT_SIZE}`
        : `Resulting document after update is larger than ${MAX_DOCUMENT_SIZE}`,
    );
  }
  return size;
}

/** mongod's checks of `create`'s capped options. */
function checkCappedOptions(options: Document): void {
  if (options.capped !== true) return;
  const size = options.size as unknown;
  if (size === undefined) {
    throw new CommandError('InvalidOptions', "the 'size' field is required when 'capped' is true");
  }
  if (typeof size !== 'number' && !(typeof size === 'object' && size !== null)) {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'size' is the wrong type, expected a number",
    );
  }
  if (Number(size) <= 0) {
    throw new CommandError('BadValue', 'capped collection size must be greater than zero');
  }
}

function validateId(id: unknown): void {
  if (Array.isArray(id)) {
    throw new CommandError('BadValue', `can't use an array for _id`);
  }
  if (id instanceof RegExp) {
    throw new CommandError('BadValue', `can't use a regex for _id`);
  }
  if (isPlainObject(id)) {
    const dollar = findDollarKey(id);
    if (dollar) {
      throw new CommandError(
        'DollarPrefixedFieldName',
        `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`,
      );
    }
  }
}

function findDollarKey(value: Record<string, unknown>): string | undefined {
  for (const [key, inner] of Object.entries(value)) {
    if (key.startsWith('$')) return key;
    if (isPlainObject(inner)) {
      const nested = findDollarKey(inner);
      if (nested) return nested;
    }
  }
  return undefined;
}

function validateIndexKey(key: Record<string, unknown>): void {
  const fields = Object.entries(key);
  if (fields.length === 0) {
    throw new CommandError('CannotCreateIndex', 'Index keys cannot be an empty field.');
  }
  for (const [field, direction] of fields) {
    if (typeof direction === 'string' && !KNOWN_INDEX_TYPES.includes(direction)) {
      // What mongod answers for a type it does not know either.
      throw new CommandError('CannotCreateIndex', `Unknown index plugin '${direction}'`);
    }
    // text, 2dsphere, 2d and hashed are real mongod index types the engine does not build; a
    // wildcard index (`$**`) is too. See the engine README for why they are refused.
    if (typeof direction !== 'number' || direction === 0 || field.split('.').includes('$**')) {
      throw new CommandError(
        'CannotCreateIndex',
        `Index type '${String(direction)}' on field '${field}' is not supported by the embedded engine (text, 2dsphere, 2d, hashed and wildcard indexes are not implemented)`,
      );
    }
  }
}

const KNOWN_INDEX_TYPES = ['text', '2dsphere', '2d', 'hashed', 'geoHaystack', 'columnstore'];

/**
 * The values a filter pins `field` to by equality (`{ f: v }`, `{ f: { $eq: v } }`,
 * `{ f: { $in: [...] } }`, also inside a top-level `$and`), or undefined when it does not.
 * Arrays and regular expressions are left out: they match more than their index key.
 */
export function equalityValues(filter: Document, field: string): unknown[] | undefined {
  if (field in filter) {
    const condition = filter[field] as unknown;
    const values = conditionValues(condition);
    if (values) return values;
  }
  if (Array.isArray(filter.$and)) {
    for (const clause of filter.$and as unknown[]) {
      if (isPlainObject(clause)) {
        const values = equalityValues(clause, field);
        if (values) return values;
      }
    }
  }
  return undefined;
}

function conditionValues(condition: unknown): unknown[] | undefined {
  if (isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))) {
    if ('$eq' in condition) return conditionValues(condition.$eq);
    if (Array.isArray(condition.$in) && condition.$in.every(isIndexableValue)) {
      return condition.$in;
    }
    return undefined;
  }
  return isIndexableValue(condition) ? [condition] : undefined;
}

/**
 * Whether an index lookup on `fields` answers `filter` by itself: every condition is an
 * equality (or `$in`) on one of those fields against a scalar whose index key equality is
 * exactly the query's equality. null (which also matches missing fields), embedded documents,
 * arrays and numeric path segments are left to mingo.
 */
export function decidedBy(filter: Document, fields: string[]): boolean {
  const keys = Object.keys(filter);
  if (keys.length !== fields.length) return false;
  return keys.every((key) => {
    if (!fields.includes(key) || /\.\d+(\.|$)/.test(key)) return false;
    const condition = filter[key] as unknown;
    if (!isPlainObject(condition)) return isExactScalar(condition);
    const operators = Object.keys(condition);
    if (operators.length !== 1) return false;
    if (operators[0] === '$eq') return isExactScalar(condition.$eq);
    return operators[0] === '$in' && (condition.$in as unknown[]).every(isExactScalar);
  });
}

function isExactScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return !Number.isNaN(value);
  }
  return value instanceof Date || bsonTypeName(value) === 'ObjectId';
}

function isIndexableValue(value: unknown): boolean {
  return !Array.isArray(value) && !(value instanceof RegExp) && value !== undefined;
}
