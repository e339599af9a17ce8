import type { Document } from 'bson';
import { Aggregator, find as mingoFind, ProcessingMode } from 'mingo';
import { CommandError } from '../command-error';
import { isPlainObject, valueKey } from '../storage/bson-value';
import { applyElemMatch, splitElemMatch } from '../storage/elem-match-projection';
import {
  cloneDocument,
  parseSortSpec,
  pathValues,
  sortDocuments,
  type StoredDocument,
} from '../storage/document-path';
import {
  collectionName,
  cursorReply,
  matchingDocuments,
  optionalDocument,
  optionalNumber,
  toLong,
  type CommandHandler,
} from './command-context';

export function project(docs: StoredDocument[], projection: Document | undefined): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const elemMatch = splitElemMatch(projection);
  let projected: Document[];
  try {
    projected = mingoFind(docs, {}, elemMatch?.rest ?? projection).all() as Document[];
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
  return projected.map((doc, i) =>
    idFirst(elemMatch ? applyElemMatch(docs[i], doc, elemMatch.elemMatches) : doc),
  );
}

/** mongod returns `_id` first in a projected document; mingo's inclusion projections put it last. */
function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

const find: CommandHandler = (command, context) => {
  const name = collectionName(command, 'find');
  const ns = `${context.dbName}.${name}`;
  const filter = optionalDocument(command, 'filter') ?? {};
  const sort = parseSortSpec(optionalDocument(command, 'sort'));
  const skip = optionalNumber(command, 'skip') ?? 0;
  const rawLimit = optionalNumber(command, 'limit') ?? 0;
  const batchSize = optionalNumber(command, 'batchSize');
  if (skip < 0) throw new CommandError('BadValue', 'skip value must be non-negative');
  if (batchSize !== undefined && batchSize < 0) {
    throw new CommandError('BadValue', 'batchSize value must be non-negative');
  }
  // A negative limit is the legacy spelling of "limit, in a single batch".
  const limit = Math.abs(rawLimit);
  const singleBatch = command.singleBatch === true || rawLimit < 0;
  const collection = context.storage.get(context.dbName, name);
  // Without a sort the scan can stop as soon as it has enough documents.
  const enough = sort.length === 0 && limit > 0 ? skip + limit : Number.POSITIVE_INFINITY;
  let docs = sortDocuments(matchingDocuments(collection, filter, enough), sort);
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  const projected = project(docs, optionalDocument(command, 'projection'));
  return cursorReply(context, ns, projected, batchSize, singleBatch);
};

const getMore: CommandHandler = (command, context) => {
  const id = toLong(command.getMore);
  const name = collectionName(command, 'collection');
  const ns = `${context.dbName}.${name}`;
  const result = context.cursors.getMore(id, ns, optionalNumber(command, 'batchSize'));
  return { cursor: { id: result.id, ns, nextBatch: result.batch }, ok: 1 };
};

const killCursors: CommandHandler = (command, context) => {
  collectionName(command, 'killCursors');
  const ids = Array.isArray(command.cursors) ? (command.cursors as unknown[]).map(toLong) : [];
  const killed = ids.filter((id) => context.cursors.kill(id));
  const notFound = ids.filter((id) => !killed.includes(id));
  return {
    cursorsKilled: killed,
    cursorsNotFound: notFound,
    cursorsAlive: [],
    cursorsUnknown: [],
    ok: 1,
  };
};

const count: CommandHandler = (command, context) => {
  const name = collectionName(command, 'count');
  const filter = optionalDocument(command, 'query') ?? {};
  const skip = optionalNumber(command, 'skip') ?? 0;
  const limit = Math.abs(optionalNumber(command, 'limit') ?? 0);
  const collection = context.storage.get(context.dbName, name);
  let n =
    Object.keys(filter).length === 0
      ? (collection?.size ?? 0)
      : matchingDocuments(collection, filter).length;
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
};

const distinct: CommandHandler = (command, context) => {
  const name = collectionName(command, 'distinct');
  const key = command.key as unknown;
  if (typeof key !== 'string') {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'distinct.key' is the wrong type, expected string",
    );
  }
  const filter = optionalDocument(command, 'query') ?? {};
  const collection = context.storage.get(context.dbName, name);
  const values = new Map<string, unknown>();
  for (const doc of matchingDocuments(collection, filter)) {
    for (const value of pathValues(doc, key)) {
      const k = valueKey(value);
      if (!values.has(k)) values.set(k, value);
    }
  }
  return { values: [...values.values()], ok: 1 };
};

/** Stages that write into another collection: mingo cannot write into the engine's storage. */
const WRITING_STAGES = ['$out', '$merge'];

const aggregate: CommandHandler = (command, context) => {
  const target = command.aggregate as unknown;
  const pipeline = command.pipeline as unknown;
  if (!Array.isArray(pipeline)) {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'aggregate.pipeline' is the wrong type, expected array",
    );
  }
  const cursorOptions = optionalDocument(command, 'cursor');
  if (!cursorOptions) {
    throw new CommandError(
      'FailedToParse',
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  for (const stage of pipeline as unknown[]) {
    if (!isPlainObject(stage)) {
      throw new CommandError(
        'TypeMismatch',
        "Each element of the 'pipeline' array must be an object",
      );
    }
    const op = Object.keys(stage)[0];
    if (WRITING_STAGES.includes(op)) {
      throw new CommandError('IllegalOperation', `${op} is not supported by the embedded engine`);
    }
  }
  const name = typeof target === 'string' ? collectionName(command, 'aggregate') : undefined;
  const ns = `${context.dbName}.${name ?? '$cmd.aggregate'}`;
  const stages = [...(pipeline as Document[])];
  let input: StoredDocument[] = [];
  if (name !== undefined) {
    const collection = context.storage.get(context.dbName, name);
    // A leading $match narrows the input through the indexes before mingo sees it.
    const leadingMatch = stages[0]?.$match as Document | undefined;
    input = matchingDocuments(collection, leadingMatch ?? {});
    if (leadingMatch) stages.shift();
  }
  let output: Document[];
  try {
    output = new Aggregator(stages, {
      processingMode: ProcessingMode.CLONE_INPUT,
      collectionResolver: (other) =>
        [...(context.storage.get(context.dbName, other)?.all() ?? [])].map(cloneDocument),
    }).run(input) as Document[];
  } catch (error) {
    throw pipelineError((error as Error).message);
  }
  return cursorReply(context, ns, output, optionalNumber(cursorOptions, 'batchSize'));
};

/** mingo's pipeline errors in mongod's words and codes, where mongod has its own. */
function pipelineError(message: string): CommandError {
  const stage = /^unregistered pipeline operator (\$?\w+)\.?$/.exec(message);
  if (stage) {
    return new CommandError('Location40324', `Unrecognized pipeline stage name: '${stage[1]}'`);
  }
  if (/^aggregation stage must have single operator/.test(message)) {
    return new CommandError(
      'Location40323',
      'A pipeline stage specification object must contain exactly one field.',
    );
  }
  const operator = /^accumulator '(\$\w+)' is not registered\.?$/.exec(message);
  if (operator) {
    return new CommandError('InvalidPipelineOperator', `Unrecognized expression '${operator[1]}'`);
  }
  return new CommandError('BadValue', message);
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
};
