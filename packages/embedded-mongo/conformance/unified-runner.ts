/**
 * An interpreter for the CRUD subset of MongoDB's unified test format
 * (mongodb/specifications `source/unified-test-format`): createEntities, initialData,
 * operations with expectResult/expectError, expectEvents through command monitoring, outcome.
 * It drives the official `mongodb` driver, so what it checks is what an application sees.
 */
import {
  MongoBulkWriteError,
  MongoClientBulkWriteError,
  MongoClient,
  MongoServerError,
  type Collection,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Db,
  type Document,
} from 'mongodb';
import { assertMatches, assertSameDocuments, MatchFailure } from './unified-matcher';

export type TestStatus = 'pass' | 'fail' | 'skip';

export interface TestResult {
  description: string;
  status: TestStatus;
  /** Why a test failed or was skipped. */
  reason?: string;
}

export interface ServerInfo {
  version: string;
  /** The runOnRequirements name of the topology: single, replicaset, sharded, load-balanced. */
  topology: string;
}

interface RunOnRequirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: 'require' | 'forbid' | 'allow';
  auth?: boolean;
  serverParameters?: Document;
  csfle?: unknown;
}

interface CollectionData {
  collectionName: string;
  databaseName: string;
  createOptions?: Document;
  documents: Document[];
}

interface Operation {
  name: string;
  object: string;
  arguments?: Document;
  expectResult?: unknown;
  expectError?: Document;
  saveResultAsEntity?: string;
  ignoreResultAndError?: boolean;
}

interface ExpectedEvents {
  client: string;
  eventType?: string;
  ignoreExtraEvents?: boolean;
  events: Document[];
}

interface UnifiedTest {
  description: string;
  runOnRequirements?: RunOnRequirement[];
  skipReason?: string;
  operations: Operation[];
  expectEvents?: ExpectedEvents[];
  outcome?: CollectionData[];
}

export interface UnifiedTestFile {
  description: string;
  schemaVersion: string;
  runOnRequirements?: RunOnRequirement[];
  createEntities?: Document[];
  initialData?: CollectionData[];
  tests: UnifiedTest[];
}

/** The schema versions this interpreter understands (major 1; every feature the CRUD files use). */
const SUPPORTED_SCHEMA_MAJOR = 1;

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Why no requirement is met, or undefined when one is. */
export function unmetRequirements(
  requirements: RunOnRequirement[] | undefined,
  server: ServerInfo,
): string | undefined {
  if (!requirements || requirements.length === 0) return undefined;
  const reasons: string[] = [];
  for (const requirement of requirements) {
    const reason = unmetRequirement(requirement, server);
    if (!reason) return undefined;
    reasons.push(reason);
  }
  return reasons.join(' | ');
}

function unmetRequirement(requirement: RunOnRequirement, server: ServerInfo): string | undefined {
  const { minServerVersion, maxServerVersion, topologies, serverless, auth } = requirement;
  if (minServerVersion && compareVersions(server.version, minServerVersion) < 0) {
    return `needs server >= ${minServerVersion} (engine reports ${server.version})`;
  }
  if (maxServerVersion && compareVersions(server.version, maxServerVersion) > 0) {
    return `needs server <= ${maxServerVersion} (engine reports ${server.version})`;
  }
  if (topologies && !topologies.includes(server.topology)) {
    return `needs topology ${topologies.join('/')} (engine is ${server.topology})`;
  }
  if (serverless === 'require') return 'needs Atlas Serverless';
  if (auth === true) return 'needs authentication';
  if (requirement.serverParameters) return 'needs server parameters';
  if (requirement.csfle) return 'needs client-side field level encryption';
  return undefined;
}

/**
 * Tests this runner does not count against the engine: ones that need a test-only command
 * (mongod enables configureFailPoint only with `enableTestCommands`), and ones that check a
 * behaviour of the driver itself which the `mongodb` 6.x driver deviates from.
 */
function unsupportedByRunner(test: UnifiedTest): string | undefined {
  const failPoint = test.operations.find(
    (op) => op.name === 'failPoint' || op.name === 'targetedFailPoint',
  );
  if (failPoint) return 'needs configureFailPoint (a test-only command the engine does not have)';
  if (
    /^(Aggregate with \$out|BulkWrite|FindOneAndReplace|FindOneAndUpdate|InsertMany) passes bypassDocumentValidation: false$/.test(
      test.description,
    )
  ) {
    return 'driver behaviour: the mongodb 6.x driver leaves out bypassDocumentValidation: false';
  }
  if (
    /^inserting _id with type null via (insertOne|insertMany|bulkWrite)$/.test(test.description)
  ) {
    return 'driver behaviour: the mongodb 6.x driver replaces a null _id by a new ObjectId';
  }
  return undefined;
}

interface ClientEntity {
  client: MongoClient;
  events: Array<{
    type: string;
    event: CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent;
  }>;
}

const EVENT_TYPES: Record<string, string> = {
  commandStarted: 'commandStartedEvent',
  commandSucceeded: 'commandSucceededEvent',
  commandFailed: 'commandFailedEvent',
};

/** Commands whose events the format says to ignore unless observeSensitiveCommands is set. */
const SENSITIVE_COMMANDS = new Set([
  'authenticate',
  'saslStart',
  'saslContinue',
  'getnonce',
  'createUser',
  'updateUser',
  'copydbgetnonce',
  'copydbsaslstart',
  'copydb',
]);

class EntityMap {
  readonly clients = new Map<string, ClientEntity>();
  private readonly values = new Map<string, unknown>();

  constructor(private readonly uri: string) {}

  get(name: string): unknown {
    if (!this.values.has(name)) throw new Error(`no entity named ${name}`);
    return this.values.get(name);
  }

  set(name: string, value: unknown): void {
    this.values.set(name, value);
  }

  async create(definitions: Document[] = []): Promise<void> {
    for (const definition of definitions) {
      const [kind, spec] = Object.entries(definition)[0] as [string, Document];
      switch (kind) {
        case 'client':
          await this.createClient(spec);
          break;
        case 'database': {
          const client = this.clients.get(spec.client as string);
          if (!client) throw new Error(`no client ${String(spec.client)}`);
          this.set(
            spec.id as string,
            client.client.db(spec.databaseName as string, toDriverOptions(spec.databaseOptions)),
          );
          break;
        }
        case 'collection': {
          const db = this.get(spec.database as string) as Db;
          this.set(
            spec.id as string,
            db.collection(spec.collectionName as string, toDriverOptions(spec.collectionOptions)),
          );
          break;
        }
        default:
          throw new Error(`unsupported entity type ${kind}`);
      }
    }
  }

  private async createClient(spec: Document): Promise<void> {
    const observe = new Set(((spec.observeEvents as string[] | undefined) ?? []).map(String));
    const ignore = new Set(
      ((spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? []).map(String),
    );
    const observeSensitive = spec.observeSensitiveCommands === true;
    const client = new MongoClient(this.uri, {
      monitorCommands: observe.size > 0,
      ...(spec.uriOptions as Document | undefined),
    });
    const entity: ClientEntity = { client, events: [] };
    for (const [driverEvent, specEvent] of Object.entries(EVENT_TYPES)) {
      if (!observe.has(specEvent)) continue;
      client.on(driverEvent as 'commandStarted', (event: CommandStartedEvent) => {
        if (ignore.has(event.commandName) || event.commandName === 'configureFailPoint') return;
        if (!observeSensitive && SENSITIVE_COMMANDS.has(event.commandName)) return;
        entity.events.push({ type: specEvent, event });
      });
    }
    await client.connect();
    this.clients.set(spec.id as string, entity);
    this.set(spec.id as string, client);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map(({ client }) => client.close(true)));
  }
}

function toDriverOptions(options: Document | undefined): Document {
  if (!options) return {};
  const out = nativeNumbers(options) as Document;
  if (isDoc(out.readPreference) && typeof out.readPreference.mode === 'string') {
    out.readPreference = String(out.readPreference.mode).replace(/^./, (c) => c.toLowerCase());
  }
  return out;
}

function isDoc(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Spec argument names that are not driver option names, or need their value changed. */
function operationOptions(args: Document, positional: string[]): Document {
  const options: Document = {};
  for (const [key, value] of Object.entries(args)) {
    if (positional.includes(key)) continue;
    if (key === 'returnDocument') options.returnDocument = String(value).toLowerCase();
    else options[key] = DATA_OPTIONS.has(key) ? value : nativeNumbers(value);
  }
  return options;
}

/** Options that carry data sent as it is; the others are read by the driver itself. */
const DATA_OPTIONS = new Set(['let', 'hint', 'projection', 'arrayFilters', 'comment']);

/**
 * The files are parsed as canonical Extended JSON (so documents keep int32/int64/double apart),
 * but the driver checks options such as `limit` or `maxTimeMS` with `typeof x === 'number'`.
 */
function nativeNumbers(value: unknown): unknown {
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  if (type === 'Int32' || type === 'Double')
    return Number((value as { valueOf(): number }).valueOf());
  if (Array.isArray(value)) return value.map(nativeNumbers);
  if (isDoc(value) && type === undefined) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nativeNumbers(v)]));
  }
  return value;
}

async function runCollectionOperation(collection: Collection, op: Operation): Promise<unknown> {
  const args = op.arguments ?? {};
  const opts = (...positional: string[]) => operationOptions(args, positional);
  switch (op.name) {
    case 'aggregate':
      return collection.aggregate(args.pipeline as Document[], opts('pipeline')).toArray();
    case 'bulkWrite':
      return collection.bulkWrite(
        (args.requests as Document[]).map((request) => {
          // The driver drops a `sort` whose directions are not JS numbers.
          const [name, fields] = Object.entries(request)[0] as [string, Document];
          return { [name]: fields.sort ? { ...fields, sort: nativeNumbers(fields.sort) } : fields };
        }) as never,
        opts('requests'),
      );
    case 'countDocuments':
      return collection.countDocuments(args.filter as Document, opts('filter'));
    case 'count':
      return collection.count(args.filter as Document, opts('filter'));
    case 'estimatedDocumentCount':
      return collection.estimatedDocumentCount(opts());
    case 'deleteMany':
      return collection.deleteMany(args.filter as Document, opts('filter'));
    case 'deleteOne':
      return collection.deleteOne(args.filter as Document, opts('filter'));
    case 'distinct':
      return collection.distinct(
        args.fieldName as string,
        args.filter as Document,
        opts('fieldName', 'filter'),
      );
    case 'find':
      return collection.find(args.filter as Document, opts('filter')).toArray();
    case 'findOne':
      return collection.findOne(args.filter as Document, opts('filter'));
    case 'findOneAndDelete':
      return collection.findOneAndDelete(args.filter as Document, opts('filter'));
    case 'findOneAndReplace':
      return collection.findOneAndReplace(
        args.filter as Document,
        args.replacement as Document,
        opts('filter', 'replacement'),
      );
    case 'findOneAndUpdate':
      return collection.findOneAndUpdate(
        args.filter as Document,
        args.update as Document,
        opts('filter', 'update'),
      );
    case 'insertMany':
      return collection.insertMany(args.documents as Document[], opts('documents'));
    case 'insertOne':
      return collection.insertOne(args.document as Document, opts('document'));
    case 'replaceOne':
      return collection.replaceOne(
        args.filter as Document,
        args.replacement as Document,
        opts('filter', 'replacement'),
      );
    case 'updateMany':
      return collection.updateMany(
        args.filter as Document,
        args.update as Document,
        opts('filter', 'update'),
      );
    case 'updateOne':
      return collection.updateOne(
        args.filter as Document,
        args.update as Document,
        opts('filter', 'update'),
      );
    case 'createIndex':
      return collection.createIndex(args.keys as Document, opts('keys'));
    default:
      throw new Error(`unsupported collection operation ${op.name}`);
  }
}

async function runDatabaseOperation(db: Db, op: Operation): Promise<unknown> {
  const args = op.arguments ?? {};
  switch (op.name) {
    case 'aggregate':
      return db
        .aggregate(args.pipeline as Document[], operationOptions(args, ['pipeline']))
        .toArray();
    case 'createCollection':
      return db.createCollection(args.collection as string, operationOptions(args, ['collection']));
    case 'dropCollection':
      return db.dropCollection(args.collection as string, operationOptions(args, ['collection']));
    case 'modifyCollection': {
      const { collection, ...rest } = args;
      return db.command({ collMod: collection, ...rest });
    }
    case 'runCommand':
      return db.command(args.command as Document);
    default:
      throw new Error(`unsupported database operation ${op.name}`);
  }
}

async function runClientOperation(client: MongoClient, op: Operation): Promise<unknown> {
  const args = op.arguments ?? {};
  switch (op.name) {
    case 'clientBulkWrite':
      // The format spells a model `{ replaceOne: {...} }`; the driver takes `{ name: 'replaceOne', ... }`.
      return client.bulkWrite(
        (args.models as Document[]).map((model) => {
          const [name, fields] = Object.entries(model)[0] as [string, Document];
          return { name, ...fields };
        }) as never,
        operationOptions(args, ['models']),
      );
    default:
      throw new Error(`unsupported client operation ${op.name}`);
  }
}

async function runOperation(entities: EntityMap, op: Operation): Promise<unknown> {
  if (op.object === 'testRunner') throw new Error(`unsupported testRunner operation ${op.name}`);
  const target = entities.get(op.object);
  if (target instanceof MongoClient) return runClientOperation(target, op);
  if (
    isDoc(target) &&
    typeof (target as Db).collection === 'function' &&
    !('collectionName' in target)
  ) {
    return runDatabaseOperation(target as Db, op);
  }
  return runCollectionOperation(target as Collection, op);
}

function checkError(error: unknown, expected: Document, entities: EntityMap): void {
  const err = error as MongoServerError & { errorResponse?: Document; result?: unknown };
  // A client bulk write wraps what failed; the driver's own validation is its `cause`.
  const cause = error instanceof MongoClientBulkWriteError ? (error.cause ?? error) : error;
  const serverSide =
    (cause instanceof MongoServerError && !(cause instanceof MongoClientBulkWriteError)) ||
    error instanceof MongoBulkWriteError ||
    (error instanceof MongoClientBulkWriteError && error.cause === undefined);
  if (expected.isClientError === true && serverSide) {
    throw new MatchFailure(`expected a client error, got server error ${err.code}: ${err.message}`);
  }
  if (expected.isClientError === false && !serverSide) {
    throw new MatchFailure(`expected a server error, got ${String(err?.message ?? err)}`);
  }
  if (typeof expected.errorContains === 'string') {
    const message = String(err?.message ?? '').toLowerCase();
    if (!message.includes(expected.errorContains.toLowerCase())) {
      throw new MatchFailure(
        `error '${err?.message}' does not contain '${expected.errorContains}'`,
      );
    }
  }
  if (expected.errorCode !== undefined && Number(err?.code) !== Number(expected.errorCode)) {
    throw new MatchFailure(
      `expected error code ${String(expected.errorCode)}, got ${String(err?.code)}: ${err?.message}`,
    );
  }
  if (expected.errorCodeName !== undefined && err?.codeName !== expected.errorCodeName) {
    throw new MatchFailure(
      `expected error ${String(expected.errorCodeName)}, got ${String(err?.codeName)}`,
    );
  }
  for (const label of (expected.errorLabelsContain as string[] | undefined) ?? []) {
    if (!err?.hasErrorLabel?.(label)) throw new MatchFailure(`error lacks label ${label}`);
  }
  for (const label of (expected.errorLabelsOmit as string[] | undefined) ?? []) {
    if (err?.hasErrorLabel?.(label)) throw new MatchFailure(`error has label ${label}`);
  }
  const lookup = { entities: (name: string) => entities.get(name) };
  if (expected.errorResponse !== undefined) {
    assertMatches(expected.errorResponse, err?.errorResponse ?? err, true, lookup, 'errorResponse');
  }
  if (expected.expectResult !== undefined) {
    assertMatches(expected.expectResult, resultView(err?.result), true, lookup, 'error.result');
  }
  if (expected.writeErrors !== undefined) {
    assertMatches(
      expected.writeErrors,
      (err as { writeErrors?: unknown }).writeErrors,
      true,
      lookup,
      'writeErrors',
    );
  }
  if (expected.writeConcernErrors !== undefined) {
    assertMatches(
      expected.writeConcernErrors,
      (err as { writeConcernErrors?: unknown }).writeConcernErrors,
      true,
      lookup,
      'writeConcernErrors',
    );
  }
}

/** A driver result object as a plain document (BulkWriteResult exposes getters). */
function resultView(result: unknown): unknown {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
  const proto = Object.getPrototypeOf(result) as object | null;
  if (proto === Object.prototype || proto === null) return result;
  const view: Document = { ...(result as Document) };
  for (const key of [
    'acknowledged',
    'insertedCount',
    'matchedCount',
    'modifiedCount',
    'deletedCount',
    'upsertedCount',
    'upsertedIds',
    'insertedIds',
    'insertedId',
    'upsertedId',
  ]) {
    const value = (result as Document)[key] as unknown;
    if (value !== undefined) view[key] = value;
  }
  return view;
}

async function executeOperation(entities: EntityMap, op: Operation): Promise<void> {
  let result: unknown;
  let error: unknown;
  try {
    result = await runOperation(entities, op);
  } catch (caught) {
    error = caught;
  }
  if (op.ignoreResultAndError) return;
  const lookup = { entities: (name: string) => entities.get(name) };
  if (op.expectError) {
    if (error === undefined) {
      throw new MatchFailure(
        `${op.name}: expected an error, got result ${safeJson(resultView(result))}`,
      );
    }
    if (
      error instanceof Error &&
      /^unsupported /.test(error.message) &&
      !(error instanceof MongoServerError)
    ) {
      throw error;
    }
    checkError(error, op.expectError, entities);
    return;
  }
  if (error !== undefined) throw error;
  if (op.expectResult !== undefined) {
    if (Array.isArray(op.expectResult) && ITERABLE_OPERATIONS.has(op.name)) {
      // Each document of a cursor's result is a root-level document (extra fields allowed).
      const docs = result as unknown[];
      if (!Array.isArray(docs) || docs.length !== op.expectResult.length) {
        throw new MatchFailure(
          `${op.name}: expected ${op.expectResult.length} documents, got ${safeJson(docs)}`,
        );
      }
      op.expectResult.forEach((doc, i) =>
        assertMatches(doc, docs[i], true, lookup, `${op.name} result[${i}]`),
      );
    } else {
      assertMatches(op.expectResult, resultView(result), true, lookup, `${op.name} result`);
    }
  }
  if (op.saveResultAsEntity) entities.set(op.saveResultAsEntity, result);
}

const ITERABLE_OPERATIONS = new Set([
  'find',
  'aggregate',
  'listCollections',
  'listDatabases',
  'listIndexes',
]);

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function checkEvents(entities: EntityMap, expected: ExpectedEvents[]): void {
  for (const expectation of expected) {
    if ((expectation.eventType ?? 'command') !== 'command') {
      throw new Error(`unsupported eventType ${expectation.eventType}`);
    }
    const client = entities.clients.get(expectation.client);
    if (!client) throw new Error(`no client ${expectation.client}`);
    const actual = client.events;
    if (
      expectation.ignoreExtraEvents
        ? actual.length < expectation.events.length
        : actual.length !== expectation.events.length
    ) {
      throw new MatchFailure(
        `expected ${expectation.events.length} events, got ${actual.length}: ${actual.map((e) => `${e.type}(${e.event.commandName})`).join(', ')}`,
      );
    }
    expectation.events.forEach((wanted, i) => {
      const [type, spec] = Object.entries(wanted)[0] as [string, Document];
      const got = actual[i];
      const path = `event[${i}]`;
      if (got.type !== type)
        throw new MatchFailure(
          `${path}: expected ${type}, got ${got.type}(${got.event.commandName})`,
        );
      if (spec.commandName !== undefined && spec.commandName !== got.event.commandName) {
        throw new MatchFailure(
          `${path}: expected command ${String(spec.commandName)}, got ${got.event.commandName}`,
        );
      }
      if (
        spec.databaseName !== undefined &&
        spec.databaseName !== (got.event as CommandStartedEvent).databaseName
      ) {
        throw new MatchFailure(`${path}: expected database ${String(spec.databaseName)}`);
      }
      const lookup = { entities: (name: string) => entities.get(name) };
      if (spec.command !== undefined) {
        assertMatches(
          spec.command,
          (got.event as CommandStartedEvent).command,
          true,
          lookup,
          `${path}.command`,
        );
      }
      if (spec.reply !== undefined) {
        assertMatches(
          spec.reply,
          (got.event as CommandSucceededEvent).reply,
          true,
          lookup,
          `${path}.reply`,
        );
      }
    });
  }
}

async function setUpData(internal: MongoClient, data: CollectionData[] | undefined): Promise<void> {
  for (const collectionData of data ?? []) {
    const db = internal.db(collectionData.databaseName);
    const majority = { writeConcern: { w: 'majority' as const } };
    await db.dropCollection(collectionData.collectionName, majority).catch(() => undefined);
    if (collectionData.createOptions || collectionData.documents.length === 0) {
      await db.createCollection(collectionData.collectionName, {
        ...collectionData.createOptions,
        ...majority,
      });
    }
    if (collectionData.documents.length > 0) {
      await db
        .collection(collectionData.collectionName)
        .insertMany(collectionData.documents, majority);
    }
  }
}

async function checkOutcome(internal: MongoClient, outcome: CollectionData[]): Promise<void> {
  for (const expected of outcome) {
    const docs = await internal
      .db(expected.databaseName)
      .collection(expected.collectionName)
      .find({}, { sort: { _id: 1 }, readConcern: { level: 'local' } })
      .toArray();
    assertSameDocuments(expected.documents, docs);
  }
}

export async function runTest(
  file: UnifiedTestFile,
  test: UnifiedTest,
  uri: string,
  server: ServerInfo,
): Promise<TestResult> {
  const description = test.description;
  if (test.skipReason) return { description, status: 'skip', reason: test.skipReason };
  const unmet = unmetRequirements(test.runOnRequirements, server);
  if (unmet) return { description, status: 'skip', reason: unmet };
  const unsupported = unsupportedByRunner(test);
  if (unsupported) return { description, status: 'skip', reason: unsupported };
  const internal = new MongoClient(uri);
  const entities = new EntityMap(uri);
  try {
    await internal.connect();
    await setUpData(internal, file.initialData);
    await entities.create(file.createEntities);
    for (const op of test.operations) await executeOperation(entities, op);
    if (test.expectEvents) checkEvents(entities, test.expectEvents);
    if (test.outcome) await checkOutcome(internal, test.outcome);
    return { description, status: 'pass' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = error instanceof MatchFailure ? '' : 'error: ';
    return { description, status: 'fail', reason: `${prefix}${message}` };
  } finally {
    await entities.close();
    await internal.close(true);
  }
}

export async function runFile(
  file: UnifiedTestFile,
  uri: string,
  server: ServerInfo,
): Promise<TestResult[]> {
  const major = Number(String(file.schemaVersion).split('.')[0]);
  if (major !== SUPPORTED_SCHEMA_MAJOR) {
    return file.tests.map((test) => ({
      description: test.description,
      status: 'fail',
      reason: `unsupported schemaVersion ${file.schemaVersion}`,
    }));
  }
  const unmet = unmetRequirements(file.runOnRequirements, server);
  if (unmet)
    return file.tests.map((test) => ({
      description: test.description,
      status: 'skip',
      reason: unmet,
    }));
  const results: TestResult[] = [];
  for (const test of file.tests) results.push(await runTest(file, test, uri, server));
  return results;
}

export async function serverInfo(uri: string): Promise<ServerInfo> {
  const client = new MongoClient(uri);
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    const hello = await client.db('admin').command({ hello: 1 });
    const topology = hello.setName ? 'replicaset' : hello.msg === 'isdbgrid' ? 'sharded' : 'single';
    return { version: String(info.version), topology };
  } finally {
    await client.close();
  }
}
