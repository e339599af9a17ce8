import { Long, type Document } from 'bson';
import { Query } from 'mingo';
import { CommandError } from '../command-error';
import type { CursorRegistry } from '../cursor-registry';
import { isPlainObject } from '../storage/bson-value';
import { decidedBy, type Collection } from '../storage/collection';
import type { StoredDocument } from '../storage/document-path';
import type { EngineStorage } from '../storage/engine-storage';
import { rewriteFilter } from '../storage/filter-rewrite';
import { aliasProto, mentionsProto } from '../storage/proto-keys';
import type { ServerStats } from '../server-stats';

export interface CommandContext {
  storage: EngineStorage;
  cursors: CursorRegistry;
  connectionId: number;
  /** The database the command runs in (`$db`, or the namespace of a legacy OP_QUERY). */
  dbName: string;
  stats: ServerStats;
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

export function compileFilter(filter: Document): Query {
  const rewritten = rewriteFilter(filter);
  try {
    return new Query(rewritten, {});
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
  stats?: ScanStats,
): StoredDocument[] {
  if (!isPlainObject(filter)) {
    throw new CommandError('TypeMismatch', 'a query filter must be an object');
  }
  if (!collection || max <= 0) return [];
  const { documents, exact, keysExamined } = collection.candidates(filter);
  if (stats) stats.keysExamined += keysExamined;
  const residual = exact ? {} : withoutIndexedId(filter);
  const proto = mentionsProto(residual);
  const query =
    Object.keys(residual).length > 0
      ? compileFilter(proto ? aliasProto(residual) : residual)
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
