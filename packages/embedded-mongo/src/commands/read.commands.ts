import type { Document } from 'bson';
import { ProcessingMode } from 'mingo';
import { engineAggregator, engineQuery, stageCount } from '../storage/mongod-operators';
import { CommandError } from '../command-error';
import { applyElemMatch, splitElemMatch } from '../storage/elem-match-projection';
import { evaluationView } from '../storage/bson-number';
import { isPlainObject, stringComparator, valueKey } from '../storage/bson-value';
import type { Collection } from '../storage/collection';
import { duplicateKeyError } from '../storage/collection-index';
import { applyUpdate } from '../storage/update-document';
import {
  cloneDocument,
  parseSortSpec,
  pathValues,
  setPath,
  sortDocuments,
  type StoredDocument,
} from '../storage/document-path';
import {
  collectionName,
  compileFilter,
  cursorReply,
  filterOptions,
  matchingDocuments,
  optionalDocument,
  optionalNumber,
  toLong,
  type CommandContext,
  type CommandHandler,
  type FilterOptions,
} from './command-context';

/**
 * Applies a find projection. The positional `$` projects the first array element the filter
 * matched, so mingo needs the filter for it (without it `{'a.$': 1}` gave `[null]`).
 */
export function project(
  docs: StoredDocument[],
  projection: Document | undefined,
  filter: Document = {},
  options: FilterOptions = {},
): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const elemMatch = splitElemMatch(projection);
  const { rest, slices } = splitSlices(elemMatch?.rest ?? projection);
  const positional = Object.keys(rest).some((path) => /\.\$$/.test(path));
  let projected: Document[];
  try {
    if (Object.keys(rest).length === 0) {
      projected = docs.map((doc) => cloneDocument(doc));
    } else if (positional) {
      projected = docs.flatMap(
        (doc) =>
          engineQuery(filter, {
            collation: options.collation as never,
            variables: options.variables,
          })
            .find([evaluationView(doc)], rest)
            .all() as Document[],
      );
    } else {
      projected = engineQuery({}).find(docs, rest).all() as Document[];
    }
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
  if (elemMatch) {
    projected = projected.map((doc, i) => applyElemMatch(docs[i], doc, elemMatch.elemMatches));
  }
  if (slices.length === 0) return projected.map(idFirst);
  const inclusion = Object.entries(rest).some(
    ([path, value]) => path !== '_id' && value !== 0 && value !== false,
  );
  return projected.map((out, i) => {
    for (const [path, spec] of slices) {
      const value = pathValue(docs[i], path);
      if (value === undefined) continue;
      // A `$slice` field is kept whether the rest includes or excludes fields.
      if (inclusion || pathValue(out, path) !== undefined) {
        setPath(out, path, Array.isArray(value) ? sliceArray(value, spec) : cloneDocument(value));
      }
    }
    return idFirst(out);
  });
}

/** mongod returns `_id` first in a projected document; mingo's inclusion projections put it last. */
function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/**
 * `$slice` projections are applied here: mingo refuses them beside excluded fields ("Cannot do
 * exclusion and inclusion") and counts them as inclusions, where mongod's `{a: {$slice: 2}}`
 * alone keeps every other field.
 */
function splitSlices(projection: Document): { rest: Document; slices: Array<[string, unknown]> } {
  const rest: Document = {};
  const slices: Array<[string, unknown]> = [];
  for (const [path, value] of Object.entries(projection)) {
    if (isPlainObject(value) && '$slice' in value && Object.keys(value).length === 1) {
      const spec = value.$slice;
      const valid =
        typeof spec === 'number' ||
        (Array.isArray(spec) &&
          spec.length === 2 &&
          spec.every((n) => typeof n === 'number') &&
          (spec[1] as number) > 0);
      if (!valid) {
        throw new CommandError('BadValue', `Invalid $slice syntax: ${JSON.stringify(value)}`);
      }
      slices.push([path, spec]);
    } else {
      rest[path] = value;
    }
  }
  return { rest, slices };
}

function sliceArray(values: unknown[], spec: unknown): unknown[] {
  if (typeof spec === 'number') {
    return cloneDocument(
      spec >= 0 ? values.slice(0, spec) : values.slice(Math.max(values.length + spec, 0)),
    );
  }
  const [skip, limit] = spec as [number, number];
  const start = skip >= 0 ? Math.min(skip, values.length) : Math.max(values.length + skip, 0);
  return cloneDocument(values.slice(start, start + limit));
}

function pathValue(doc: unknown, path: string): unknown {
  let value = doc;
  for (const part of path.split('.')) {
    if (!isPlainObject(value)) return undefined;
    value = value[part];
  }
  return value;
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
  const options = filterOptions(command);
  // Without a sort the scan can stop as soon as it has enough documents.
  const enough = sort.length === 0 && limit > 0 ? skip + limit : Number.POSITIVE_INFINITY;
  let docs = sortDocuments(
    sourceDocuments(context, name, filter, enough, options),
    sort,
    options.collation,
  );
  docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  const projected = project(docs, optionalDocument(command, 'projection'), filter, options);
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
    Object.keys(filter).length === 0 && !isView(collection)
      ? (collection?.size ?? 0)
      : sourceDocuments(context, name, filter, undefined, filterOptions(command)).length;
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
  const options = filterOptions(command);
  const values: unknown[] = [];
  const seen = new Set<string>();
  // Under a collation, values its comparison calls equal are one value (the first one seen).
  const strings = options.collation ? stringComparator(options.collation) : undefined;
  for (const doc of sourceDocuments(context, name, filter, undefined, options)) {
    for (const value of pathValues(doc, key)) {
      const k = valueKey(value);
      if (seen.has(k)) continue;
      if (strings && typeof value === 'string') {
        if (values.some((other) => typeof other === 'string' && strings(other, value) === 0))
          continue;
      }
      seen.add(k);
      values.push(value);
    }
  }
  return { values, ok: 1 };
};

/** Whether a stored collection is a view (`create` with `viewOn`). */
function isView(collection: Collection | undefined): boolean {
  return typeof collection?.options.viewOn === 'string';
}

/**
 * The documents of a collection or view matching `filter`. A view runs its pipeline over its
 * source first, as mongod resolves a read on a view into an aggregation.
 */
export function sourceDocuments(
  context: CommandContext,
  name: string,
  filter: Document,
  max: number | undefined,
  options: FilterOptions,
  depth = 0,
): StoredDocument[] {
  const collection = context.storage.get(context.dbName, name);
  if (!isView(collection)) return matchingDocuments(collection, filter, max, options);
  if (depth > 20) throw new CommandError('BadValue', 'View nesting too deep');
  const view = collection as Collection;
  const source = sourceDocuments(
    context,
    view.options.viewOn as string,
    {},
    undefined,
    {},
    depth + 1,
  );
  const docs = runPipeline(
    context,
    (view.options.pipeline as Document[] | undefined) ?? [],
    source,
    {},
  );
  if (Object.keys(filter).length === 0) return docs.slice(0, max);
  const query = compileFilter(filter, options);
  return docs.filter((doc) => query.test(doc)).slice(0, max);
}

/**
 * Runs pipeline stages over documents. `$match`, `$sort`, `$skip` and `$limit` run here: they
 * pass stored documents through untouched (so every number keeps its BSON type) and `$sort`
 * orders mixed types as mongod does, which mingo's `$sort` does not. The other stages run in
 * mingo over evaluation views (numbers as JS numbers).
 */
function runPipeline(
  context: CommandContext,
  stages: Document[],
  input: Document[],
  options: FilterOptions,
): Document[] {
  let docs = input;
  let pending: Document[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    try {
      docs = engineAggregator(pending, {
        processingMode: ProcessingMode.CLONE_INPUT,
        collation: options.collation as never,
        variables: options.variables,
        collectionResolver: (other) =>
          [...(context.storage.get(context.dbName, other)?.all() ?? [])].map((doc) =>
            cloneDocument(evaluationView(doc)),
          ),
      }).run(docs.map((doc) => evaluationView(doc))) as Document[];
    } catch (error) {
      if (error instanceof CommandError) throw error;
      throw pipelineError((error as Error).message);
    }
    pending = [];
  };
  for (const stage of stages) {
    const [op] = Object.keys(stage);
    const argument = stage[op] as unknown;
    if (op === '$match' && isPlainObject(argument)) {
      flush();
      const query = Object.keys(argument).length > 0 ? compileFilter(argument, options) : undefined;
      if (query) docs = docs.filter((doc) => query.test(doc));
    } else if (op === '$sort' && isPlainObject(argument) && !hasMeta(argument)) {
      flush();
      docs = sortDocuments(docs, parseSortSpec(argument), options.collation);
    } else if (op === '$skip' || op === '$limit') {
      const count = stageCount(op, argument);
      flush();
      docs = op === '$skip' ? docs.slice(count) : docs.slice(0, count);
    } else {
      pending.push(stage);
    }
  }
  flush();
  return docs;
}

function hasMeta(sort: Document): boolean {
  return Object.values(sort).some((direction) => isPlainObject(direction));
}

/** mingo's wording for an unknown stage, in mongod's words (drivers and apps match on them). */
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

/** Stages that write into another collection; only the last stage may be one. */
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
  (pipeline as unknown[]).forEach((stage, i) => {
    if (!isPlainObject(stage)) {
      throw new CommandError(
        'TypeMismatch',
        "Each element of the 'pipeline' array must be an object",
      );
    }
    const op = Object.keys(stage)[0];
    if (WRITING_STAGES.includes(op) && i !== pipeline.length - 1) {
      throw new CommandError('BadValue', `${op} can only be the final stage in the pipeline`);
    }
  });
  const options = filterOptions(command);
  const name = typeof target === 'string' ? collectionName(command, 'aggregate') : undefined;
  const ns = `${context.dbName}.${name ?? '$cmd.aggregate'}`;
  const stages = [...(pipeline as Document[])];
  const last = stages[stages.length - 1];
  const writer = last && WRITING_STAGES.includes(Object.keys(last)[0]) ? stages.pop() : undefined;
  let input: Document[] = [];
  if (name !== undefined) {
    // A leading $match narrows the input through the indexes.
    const leadingMatch = stages[0]?.$match as Document | undefined;
    input = sourceDocuments(context, name, leadingMatch ?? {}, undefined, options);
    if (leadingMatch) stages.shift();
  } else if (stages[0] && '$listLocalSessions' in stages[0]) {
    input = context.sessions?.list() ?? [];
    stages.shift();
  } else if (target !== 1) {
    throw new CommandError('FailedToParse', "'aggregate' field must be a string or the number 1");
  }
  const output = runPipeline(context, stages, input, options);
  if (writer) {
    writeStage(context, writer, output, options);
    return cursorReply(context, ns, [], 0);
  }
  return cursorReply(context, ns, output, optionalNumber(cursorOptions, 'batchSize'));
};

function targetNamespace(context: CommandContext, spec: unknown, stage: string): [string, string] {
  if (typeof spec === 'string') return [context.dbName, spec];
  if (isPlainObject(spec) && typeof spec.coll === 'string') {
    return [typeof spec.db === 'string' ? spec.db : context.dbName, spec.coll];
  }
  throw new CommandError('FailedToParse', `${stage} needs a collection name`);
}

/** `$out` replaces the target's documents (all or nothing); `$merge` merges into it. */
function writeStage(
  context: CommandContext,
  stage: Document,
  docs: Document[],
  options: FilterOptions,
): void {
  if ('$out' in stage) {
    const [dbName, name] = targetNamespace(context, stage.$out, '$out');
    const collection = context.storage.getOrCreate(dbName, name);
    const previous = [...collection.all()];
    for (const doc of previous) collection.remove(doc);
    const inserted: StoredDocument[] = [];
    try {
      for (const doc of docs) inserted.push(collection.insert(cloneDocument(doc)));
    } catch (error) {
      for (const doc of inserted) collection.remove(doc);
      for (const doc of previous) collection.insert(doc);
      throw error;
    }
    return;
  }
  const spec = stage.$merge as unknown;
  const merge = typeof spec === 'string' ? { into: spec } : (spec as Document);
  if (!isPlainObject(merge))
    throw new CommandError('FailedToParse', '$merge needs a document or a collection name');
  const [dbName, name] = targetNamespace(context, merge.into, '$merge');
  const on = merge.on === undefined ? ['_id'] : Array.isArray(merge.on) ? merge.on : [merge.on];
  const whenMatched = (merge.whenMatched as unknown) ?? 'merge';
  const whenNotMatched = (merge.whenNotMatched as unknown) ?? 'insert';
  const collection = context.storage.getOrCreate(dbName, name);
  for (const doc of docs) {
    const key: Document = {};
    for (const field of on as string[]) key[field] = pathValues(doc, field)[0] ?? null;
    const existing = matchingDocuments(collection, key, 1)[0];
    if (!existing) {
      if (whenNotMatched === 'discard') continue;
      if (whenNotMatched === 'fail') {
        throw new CommandError(
          'BadValue',
          '$merge could not find a matching document in the target collection for at least one document in the source collection',
        );
      }
      collection.insert(cloneDocument(doc));
      continue;
    }
    if (whenMatched === 'keepExisting') continue;
    if (whenMatched === 'fail') {
      throw duplicateKeyError(collection.ns, '_id_', { _id: 1 }, [existing._id]);
    }
    let next: StoredDocument;
    if (whenMatched === 'replace') next = { ...cloneDocument(doc), _id: existing._id };
    else if (whenMatched === 'merge')
      next = { ...existing, ...cloneDocument(doc), _id: existing._id };
    else if (Array.isArray(whenMatched)) {
      next = applyUpdate(existing, whenMatched as Document[], {
        query: key,
        variables: { ...options.variables, ...(merge.let as Document | undefined), new: doc },
      });
    } else {
      throw new CommandError(
        'BadValue',
        `Enumeration value '${String(whenMatched)}' for field '$merge.whenMatched' is not a valid value.`,
      );
    }
    collection.replace(existing, next);
  }
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
};
