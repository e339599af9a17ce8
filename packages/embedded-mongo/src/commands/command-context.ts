import { Binary, Long, type Document } from 'bson';
import { createHash } from 'node:crypto';
import { CommandError } from '../command-error';
import type { CursorRegistry } from '../cursor-registry';
import { engineAggregator } from '../storage/mongod-operators';
import { intlLocale, isPlainObject } from '../storage/bson-value';
import { decidedBy, type Collection } from '../storage/collection';
import type { StoredDocument } from '../storage/document-path';
import type { EngineStorage } from '../storage/engine-storage';
import { aliasProto, mentionsProto } from '../storage/proto-keys';
import type { ServerStats } from '../server-stats';
import { numericKind } from '../storage/bson-number';
import {
  compileFilter as compileQueryFilter,
  type CompiledFilter,
  type FilterOptions,
  validateFilter,
} from '../storage/query-filter';

export type { FilterOptions } from '../storage/query-filter';

export interface CommandContext {
  storage: EngineStorage;
  cursors: CursorRegistry;
  connectionId: number;
  /** The database the command runs in (`$db`, or the namespace of a legacy OP_QUERY). */
  dbName: string;
  stats: ServerStats;
  /** The logical sessions clients have used (`$listLocalSessions`). */
  sessions?: SessionRegistry;
}

/** Logical sessions seen in commands' `lsid`, as mongod's session cache lists them. */
export class SessionRegistry {
  private readonly sessions = new Map<string, { id: unknown; lastUse: Date }>();
  /** Without authentication mongod's session `uid` is the SHA-256 of the empty user name. */
  private static readonly NO_USER_UID = new Binary(createHash('sha256').update('').digest());

  touch(lsid: unknown): void {
    if (!isPlainObject(lsid) || lsid.id === undefined) return;
    const key = String((lsid.id as { toString(encoding?: string): string }).toString('hex'));
    this.sessions.set(key, { id: lsid.id, lastUse: new Date() });
  }

  list(): Document[] {
    return [...this.sessions.values()].map(({ id, lastUse }) => ({
      _id: { id, uid: SessionRegistry.NO_USER_UID },
      lastUse,
    }));
  }
}

/** What a scan examined, for explain's executionStats. */
export interface ScanStats {
  keysExamined: number;
  docsExamined: number;
}

export type CommandHandler = (command: Document, context: CommandContext) => Document;

/** The collection name a command's first field carries, checked as mongod does. */
export function collectionName(command: Document, field: string): string {
  const name = command[field] as unknown;
  if (typeof name !== 'string') {
    throw new CommandError(
      'InvalidNamespace',
      `collection name has invalid type ${name === null ? 'null' : typeof name}`,
    );
  }
  if (name.length === 0) {
    throw new CommandError('InvalidNamespace', `Invalid namespace specified '${field}: ""'`);
  }
  return name;
}

export function optionalDocument(command: Document, field: string): Document | undefined {
  const value = command[field] as unknown;
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${field}' is the wrong type, expected object`,
    );
  }
  return value;
}

export function optionalNumber(command: Document, field: string): number | undefined {
  const value = command[field] as unknown;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (value instanceof Long) return value.toNumber();
  if (numericKind(value)) return Number((value as { valueOf(): unknown }).valueOf());
  throw new CommandError(
    'TypeMismatch',
    `BSON field '${field}' is the wrong type, expected a number`,
  );
}

export function toLong(value: unknown): Long {
  if (value instanceof Long) return value;
  if (typeof value === 'number' && Number.isInteger(value)) return Long.fromNumber(value);
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  throw new CommandError('TypeMismatch', 'cursor id must be a 64-bit integer');
}

export function compileFilter(filter: Document, options: FilterOptions = {}): CompiledFilter {
  return compileQueryFilter(filter, options);
}

/** The `collation` and `let` of a command, as they change how its filters match. */
export function filterOptions(command: Document): FilterOptions {
  const collation = optionalDocument(command, 'collation');
  const variables = optionalDocument(command, 'let');
  if (collation !== undefined && typeof collation.locale !== 'string') {
    throw new CommandError('FailedToParse', "Required field 'locale' is missing");
  }
  return {
    collation:
      collation && collation.locale !== 'simple'
        ? { ...collation, locale: intlLocale(collation.locale as string) }
        : undefined,
    variables: variables && evaluateLet(variables),
  };
}

/** `let` values are expressions (`{ $literal: '$x' }`, `{ $add: [1, 2] }`), evaluated once. */
function evaluateLet(variables: Document): Document {
  try {
    const [values] = engineAggregator([{ $addFields: variables }]).run([{}]) as Document[];
    return values ?? {};
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
}

/**
 * Documents of `collection` matching `filter`, in natural order, through an index when the
 * filter allows; stops after `max` matches.
 */
export function matchingDocuments(
  collection: Collection | undefined,
  filter: Document = {},
  max = Number.POSITIVE_INFINITY,
  options: FilterOptions = {},
  stats?: ScanStats,
): StoredDocument[] {
  if (!isPlainObject(filter)) {
    throw new CommandError('TypeMismatch', 'a query filter must be an object');
  }
  // Unknown operators are refused even when there is nothing to match them against.
  validateFilter(filter);
  if (!collection || max <= 0) return [];
  // Under a collation equal strings are not equal index keys: every document is a candidate.
  const { documents, exact, keysExamined } = options.collation
    ? { documents: collection.all(), exact: false, keysExamined: 0 }
    : collection.candidates(filter);
  if (stats) stats.keysExamined += keysExamined;
  const residual = exact ? {} : options.collation ? filter : withoutIndexedId(filter);
  const proto = mentionsProto(residual);
  const query =
    Object.keys(residual).length > 0
      ? compileFilter(proto ? aliasProto(residual) : residual, options)
      : undefined;
  const out: StoredDocument[] = [];
  try {
    for (const doc of documents) {
      if (stats) stats.docsExamined++;
      if (query && !query.test(proto ? aliasProto(doc) : doc)) continue;
      out.push(doc);
      if (out.length >= max) break;
    }
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError('BadValue', (error as Error).message);
  }
  return out;
}

/**
 * The filter minus a top-level `_id` equality or `$in` of exact scalars, which `candidates()`
 * has already decided through the `_id` index. Testing `_id: { $in: ids }` again on each
 * candidate costs ids × candidates comparisons: a 1000-id batch write (the session sweep's
 * pattern, with further conditions beside the ids) took a second.
 */
function withoutIndexedId(filter: Document): Document {
  if (!('_id' in filter) || !decidedBy({ _id: filter._id }, ['_id'])) return filter;
  const { _id: _decided, ...rest } = filter;
  return rest;
}

/** `{ cursor: { id, ns, firstBatch }, ok: 1 }` for a result set held by the registry. */
export function cursorReply(
  context: CommandContext,
  ns: string,
  documents: Document[],
  batchSize: number | undefined,
  singleBatch = false,
): Document {
  const { id, batch } = context.cursors.open(ns, documents, batchSize, singleBatch);
  return { cursor: { id, ns, firstBatch: batch }, ok: 1 };
}
