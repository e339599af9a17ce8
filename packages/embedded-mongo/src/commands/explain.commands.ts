import type { Document, Long } from 'bson';
import { CommandError } from '../command-error';
import { isPlainObject } from '../storage/bson-value';
import type { Collection } from '../storage/collection';
import {
  collectionName,
  matchingDocuments,
  optionalDocument,
  optionalNumber,
  type CommandContext,
  type CommandHandler,
  type ScanStats,
} from './command-context';
import { MAX_BSON_OBJECT_SIZE, SERVER_VERSION } from './handshake.commands';
import { readCommands } from './read.commands';

const VERBOSITIES = ['queryPlanner', 'executionStats', 'allPlansExecution'];

/**
 * `explain` in mongod's reply shape, describing what this engine does: it has no query planner
 * choosing among plans, so `rejectedPlans` is always empty and the winning plan is the one
 * access path the engine takes (the `_id` index, one secondary index answering equalities, or
 * a scan of the collection), followed by the stages it applies in the order it applies them.
 * With `executionStats` the command runs (writes on a copy, never on the stored documents) and
 * the counts are what the run examined.
 */
const explain: CommandHandler = (command, context) => {
  const inner = optionalDocument(command, 'explain');
  if (!inner) {
    throw new CommandError(
      'FailedToParse',
      "BSON field 'explain.explain' is missing but a required field",
    );
  }
  const verbosity = (command.verbosity as unknown) ?? 'allPlansExecution';
  if (typeof verbosity !== 'string' || !VERBOSITIES.includes(verbosity)) {
    throw new CommandError(
      'FailedToParse',
      `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`,
    );
  }
  const commandName = Object.keys(inner)[0];
  const explainer = commandName === undefined ? undefined : EXPLAINERS[commandName];
  if (!explainer) {
    throw new CommandError(
      'CommandNotFound',
      `Explain failed due to unknown command: ${commandName ?? ''}`,
    );
  }
  // `aggregate: 1` runs a pipeline on no collection ($documents).
  const name =
    commandName === 'aggregate' && typeof inner.aggregate !== 'string'
      ? '$cmd.aggregate'
      : collectionName(inner, commandName);
  const collection = context.storage.get(context.dbName, name);
  const run = verbosity !== 'queryPlanner';
  const report = explainer(inner, { context, collection, ns: `${context.dbName}.${name}`, run });
  const reply: Document = {
    explainVersion: '1',
    ...report,
    command: { ...inner, $db: context.dbName },
    serverInfo: {
      host: 'embedded',
      port: 0,
      version: SERVER_VERSION,
      gitVersion: 'embedded',
    },
    serverParameters: {
      internalQueryFacetBufferSizeBytes: 104857600,
      internalQueryFacetMaxOutputDocSizeBytes: MAX_BSON_OBJECT_SIZE,
      internalLookupStageIntermediateDocumentMaxSizeBytes: MAX_BSON_OBJECT_SIZE,
      internalDocumentSourceGroupMaxMemoryBytes: 104857600,
      internalQueryMaxBlockingSortMemoryUsageBytes: 104857600,
      internalQueryProhibitBlockingMergeOnMongoS: 0,
      internalQueryMaxAddToSetBytes: 104857600,
      internalDocumentSourceSetWindowFieldsMaxMemoryBytes: 104857600,
      internalQueryFrameworkControl: 'forceClassicEngine',
    },
    ok: 1,
  };
  if (!run) delete reply.executionStats;
  return reply;
};

interface ExplainInput {
  context: CommandContext;
  collection: Collection | undefined;
  ns: string;
  /** executionStats or allPlansExecution: run the command and report what it examined. */
  run: boolean;
}

type Explainer = (command: Document, input: ExplainInput) => Document;

/** The access path of a filter as a plan stage (COLLSCAN, IDHACK, or FETCH over IXSCAN). */
function accessStage(
  collection: Collection | undefined,
  filter: Document,
  stats: ScanStats | undefined,
): Document {
  if (!collection) return { stage: 'EOF' };
  const plan = collection.plan(filter);
  if (!plan.index) {
    return withStats(
      { stage: 'COLLSCAN', filter: parsedQuery(filter), direction: 'forward' },
      stats && { docsExamined: stats.docsExamined },
    );
  }
  if (plan.index.name === '_id_' && isIdHack(filter)) {
    return withStats(
      { stage: 'IDHACK' },
      stats && { keysExamined: stats.keysExamined, docsExamined: stats.docsExamined },
    );
  }
  const { spec } = plan.index;
  const indexBounds: Document = {};
  Object.keys(spec.key).forEach((field, i) => {
    const values = plan.index?.values[i];
    indexBounds[field] = values
      ? values.map((value) => `[${formatBound(value)}, ${formatBound(value)}]`)
      : ['[MinKey, MaxKey]'];
  });
  const residual = plan.exact ? undefined : parsedQuery(filter);
  const fetch: Document = { stage: 'FETCH' };
  if (residual && Object.keys(residual).length > 0) fetch.filter = residual;
  fetch.inputStage = withStats(
    {
      stage: 'IXSCAN',
      keyPattern: spec.key,
      indexName: spec.name,
      isMultiKey: false,
      isUnique: spec.unique === true || spec.name === '_id_',
      isSparse: spec.sparse === true,
      isPartial: spec.partialFilterExpression !== undefined,
      indexVersion: 2,
      direction: 'forward',
      indexBounds,
    },
    stats && { keysExamined: stats.keysExamined },
  );
  return withStats(fetch, stats && { docsExamined: stats.docsExamined });
}

function withStats(stage: Document, stats: Document | undefined): Document {
  return stats ? { ...stage, ...stats } : stage;
}

function isIdHack(filter: Document): boolean {
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return false;
  const condition = filter._id as unknown;
  return !isPlainObject(condition) || Object.keys(condition).every((key) => key === '$eq');
}

function formatBound(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value === null) return 'null';
  const type = (value as { _bsontype?: string } | undefined)?._bsontype;
  if (type === 'ObjectId') return `ObjectId('${String(value)}')`;
  return String(value);
}

/** mongod's parsedQuery spells top-level equalities as `$eq`. */
function parsedQuery(filter: Document): Document {
  const parsed: Document = {};
  for (const [key, condition] of Object.entries(filter)) {
    const isOperators =
      isPlainObject(condition) && Object.keys(condition).some((field) => field.startsWith('$'));
    parsed[key] = key.startsWith('$') || isOperators ? condition : { $eq: condition };
  }
  return parsed;
}

function queryPlanner(ns: string, filter: Document, winningPlan: Document): Document {
  return {
    namespace: ns,
    indexFilterSet: false,
    parsedQuery: parsedQuery(filter),
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    winningPlan,
    rejectedPlans: [],
  };
}

function executionStats(
  nReturned: number,
  started: number,
  stats: ScanStats,
  executionStages: Document,
): Document {
  return {
    executionSuccess: true,
    nReturned,
    executionTimeMillis: Math.round(performance.now() - started),
    totalKeysExamined: stats.keysExamined,
    totalDocsExamined: stats.docsExamined,
    executionStages: { ...executionStages, nReturned },
    allPlansExecution: [],
  };
}

/** The stages a find applies after its access path, innermost first, as the engine runs them. */
function findStages(command: Document, access: Document): Document {
  let stage = access;
  const sort = optionalDocument(command, 'sort');
  if (sort && Object.keys(sort).length > 0) {
    stage = {
      stage: 'SORT',
      sortPattern: sort,
      memLimit: 104857600,
      type: 'simple',
      inputStage: stage,
    };
  }
  const skip = optionalNumber(command, 'skip') ?? 0;
  if (skip > 0) stage = { stage: 'SKIP', skipAmount: skip, inputStage: stage };
  const limit = Math.abs(optionalNumber(command, 'limit') ?? 0);
  if (limit > 0) stage = { stage: 'LIMIT', limitAmount: limit, inputStage: stage };
  const projection = optionalDocument(command, 'projection');
  if (projection && Object.keys(projection).length > 0) {
    stage = { stage: 'PROJECTION_DEFAULT', transformBy: projection, inputStage: stage };
  }
  return stage;
}

function explainQuery(
  filter: Document,
  input: ExplainInput,
  wrap: (access: Document) => Document,
  execute: () => number,
): Document {
  const planned = wrap(accessStage(input.collection, filter, undefined));
  const report: Document = { queryPlanner: queryPlanner(input.ns, filter, planned) };
  if (input.run) {
    const stats: ScanStats = { keysExamined: 0, docsExamined: 0 };
    const started = performance.now();
    matchingDocuments(input.collection, filter, Number.POSITIVE_INFINITY, {}, stats);
    const nReturned = execute();
    report.executionStats = executionStats(
      nReturned,
      started,
      stats,
      wrap(accessStage(input.collection, filter, stats)),
    );
  }
  return report;
}

/** Runs a read command's own handler and counts what its cursor returns, to the end. */
function countRead(handler: CommandHandler, command: Document, input: ExplainInput): number {
  const reply = handler(command, input.context);
  const cursor = reply.cursor as { id: Long; ns: string; firstBatch: unknown[] };
  let n = cursor.firstBatch.length;
  let id = cursor.id;
  while (!id.isZero()) {
    const more = input.context.cursors.getMore(id, cursor.ns, undefined);
    n += more.batch.length;
    id = more.id;
  }
  return n;
}

const explainFind: Explainer = (command, input) => {
  const filter = optionalDocument(command, 'filter') ?? {};
  return explainQuery(
    filter,
    input,
    (access) => findStages(command, access),
    () => countRead(readCommands.find, command, input),
  );
};

const explainCount: Explainer = (command, input) => {
  const filter = optionalDocument(command, 'query') ?? {};
  if (Object.keys(filter).length === 0) {
    return {
      queryPlanner: queryPlanner(input.ns, filter, { stage: 'RECORD_STORE_FAST_COUNT' }),
      ...(input.run && {
        executionStats: {
          executionSuccess: true,
          nReturned: 0,
          executionTimeMillis: 0,
          totalKeysExamined: 0,
          totalDocsExamined: 0,
          executionStages: {
            stage: 'RECORD_STORE_FAST_COUNT',
            nReturned: 0,
            nCounted: input.collection?.size ?? 0,
          },
          allPlansExecution: [],
        },
      }),
    };
  }
  return explainQuery(
    filter,
    input,
    (access) => ({ stage: 'COUNT', inputStage: access }),
    () => 0,
  );
};

const explainDistinct: Explainer = (command, input) => {
  const filter = optionalDocument(command, 'query') ?? {};
  return explainQuery(
    filter,
    input,
    (access) => ({
      stage: 'PROJECTION_DEFAULT',
      transformBy: { _id: 0, [String(command.key)]: 1 },
      inputStage: access,
    }),
    () => (readCommands.distinct(command, input.context).values as unknown[]).length,
  );
};

/** Writes are planned, never applied: explain of a write changes nothing, as on mongod. */
function explainWrite(
  stageName: 'UPDATE' | 'DELETE',
  filter: Document,
  input: ExplainInput,
): Document {
  return explainQuery(
    filter,
    input,
    (access) => ({ stage: stageName, inputStage: access }),
    () => 0,
  );
}

function firstStatement(command: Document, field: string): Document {
  const statements = command[field] as unknown;
  if (!Array.isArray(statements) || statements.length !== 1 || !isPlainObject(statements[0])) {
    throw new CommandError('InvalidLength', `explained ${field} must hold exactly one statement`);
  }
  return statements[0];
}

const explainUpdate: Explainer = (command, input) =>
  explainWrite(
    'UPDATE',
    (firstStatement(command, 'updates').q as Document | undefined) ?? {},
    input,
  );

const explainDelete: Explainer = (command, input) =>
  explainWrite(
    'DELETE',
    (firstStatement(command, 'deletes').q as Document | undefined) ?? {},
    input,
  );

const explainFindAndModify: Explainer = (command, input) =>
  explainWrite(
    command.remove === true ? 'DELETE' : 'UPDATE',
    optionalDocument(command, 'query') ?? {},
    input,
  );

/**
 * An aggregation: a leading `$match` is the engine's only push-down (it goes through the
 * indexes), reported as a `$cursor` stage; the rest of the pipeline runs in mingo and is
 * listed stage by stage, as mongod lists the stages it did not push down.
 */
const explainAggregate: Explainer = (command, input) => {
  const pipeline = command.pipeline as unknown;
  if (!Array.isArray(pipeline) || !pipeline.every(isPlainObject)) {
    throw new CommandError(
      'TypeMismatch',
      "BSON field 'aggregate.pipeline' is the wrong type, expected array",
    );
  }
  const stages = pipeline as Document[];
  const leadingMatch = stages[0] && '$match' in stages[0] ? (stages[0].$match as Document) : {};
  const rest = stages[0] && '$match' in stages[0] ? stages.slice(1) : stages;
  const run = () => countRead(readCommands.aggregate, { ...command, cursor: {} }, input);
  const cursorStage = explainQuery(leadingMatch, input, (access) => access, run);
  if (rest.length === 0) return cursorStage;
  return {
    stages: [{ $cursor: cursorStage }, ...rest],
  };
};

const EXPLAINERS: Record<string, Explainer> = {
  find: explainFind,
  count: explainCount,
  distinct: explainDistinct,
  aggregate: explainAggregate,
  update: explainUpdate,
  delete: explainDelete,
  findAndModify: explainFindAndModify,
  findandmodify: explainFindAndModify,
};

export const explainCommands: Record<string, CommandHandler> = { explain };
