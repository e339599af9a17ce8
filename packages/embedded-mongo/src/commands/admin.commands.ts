import { calculateObjectSize, type Document } from 'bson';
import { CommandError } from '../command-error';
import { isPlainObject, valueKey } from '../storage/bson-value';
import { ID_INDEX_NAME, type Collection } from '../storage/collection';
import { indexNameFor, type IndexSpec } from '../storage/collection-index';
import {
  collectionName,
  compileFilter,
  cursorReply,
  optionalDocument,
  type CommandContext,
  type CommandHandler,
} from './command-context';

function requireCollection(context: CommandContext, name: string): Collection {
  const collection = context.storage.get(context.dbName, name);
  if (!collection) {
    throw new CommandError('NamespaceNotFound', `ns does not exist: ${context.dbName}.${name}`);
  }
  return collection;
}

const create: CommandHandler = (command, context) => {
  const name = collectionName(command, 'create');
  const { create: _name, bypassDocumentValidation: _bypass, ...options } = command;
  context.storage.create(context.dbName, name, options);
  return { ok: 1 };
};

const COLL_MOD_VALIDATION = ['validator', 'validationLevel', 'validationAction'];

/** collMod: the engine changes a collection's validation options; other changes are refused. */
const collMod: CommandHandler = (command, context) => {
  const name = collectionName(command, 'collMod');
  const collection = requireCollection(context, name);
  const changes: Document = {};
  for (const [field, value] of Object.entries(command)) {
    if (field === 'collMod' || field === 'bypassDocumentValidation') continue;
    if (!COLL_MOD_VALIDATION.includes(field)) {
      throw new CommandError('Location40415', `BSON field 'collMod.${field}' is an unknown field.`);
    }
    changes[field] = value;
  }
  collection.modifyValidation(changes);
  return { ok: 1 };
};

const drop: CommandHandler = (command, context) => {
  const name = collectionName(command, 'drop');
  const dropped = context.storage.drop(context.dbName, name);
  // Since MongoDB 7.0 dropping a collection that does not exist succeeds.
  if (!dropped) return { ok: 1 };
  return { nIndexesWas: dropped.indexSpecs().length, ns: dropped.ns, ok: 1 };
};

const dropDatabase: CommandHandler = (_command, context) => {
  context.storage.dropDatabase(context.dbName);
  return { dropped: context.dbName, ok: 1 };
};

function collectionInfo(collection: Collection): Document {
  return {
    name: collection.name,
    type: 'collection',
    options: collection.options,
    info: { readOnly: false, uuid: collection.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME },
  };
}

const listCollections: CommandHandler = (command, context) => {
  const filter = optionalDocument(command, 'filter');
  const query = filter && Object.keys(filter).length > 0 ? compileFilter(filter) : undefined;
  const infos = context.storage
    .collections(context.dbName)
    .map(collectionInfo)
    .filter((info) => !query || query.test(info))
    .map((info) => (command.nameOnly === true ? { name: info.name, type: info.type } : info));
  const cursor = optionalDocument(command, 'cursor');
  return cursorReply(
    context,
    `${context.dbName}.$cmd.listCollections`,
    infos,
    cursor?.batchSize as number | undefined,
  );
};

function estimatedSize(collection: Collection): number {
  let bytes = 0;
  for (const doc of collection.all()) bytes += calculateObjectSize(doc);
  return bytes;
}

const listDatabases: CommandHandler = (command, context) => {
  const databases = context.storage.databaseNames().map((name) => {
    const sizeOnDisk = context.storage
      .collections(name)
      .reduce((sum, collection) => sum + estimatedSize(collection), 0);
    return { name, sizeOnDisk, empty: sizeOnDisk === 0 };
  });
  if (command.nameOnly === true) {
    return { databases: databases.map(({ name }) => ({ name })), ok: 1 };
  }
  const totalSize = databases.reduce((sum, db) => sum + db.sizeOnDisk, 0);
  return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1024 / 1024), ok: 1 };
};

function parseIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key)) {
    throw new CommandError(
      'FailedToParse',
      "The 'key' field is a required property of an index specification",
    );
  }
  const spec = { ...raw } as IndexSpec;
  if (spec.name === undefined) spec.name = indexNameFor(spec.key);
  if (typeof spec.name !== 'string') {
    throw new CommandError('TypeMismatch', "The field 'name' must be a string");
  }
  if (spec.expireAfterSeconds !== undefined && typeof spec.expireAfterSeconds !== 'number') {
    throw new CommandError(
      'CannotCreateIndex',
      'TTL index expireAfterSeconds value must be a number',
    );
  }
  delete spec.background;
  return spec;
}

const createIndexes: CommandHandler = (command, context) => {
  const name = collectionName(command, 'createIndexes');
  const raw = command.indexes as unknown;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new CommandError('BadValue', 'Must specify at least one index to create');
  }
  const specs = raw.map(parseIndexSpec);
  const existing = context.storage.get(context.dbName, name);
  const collection = existing ?? context.storage.create(context.dbName, name);
  const numIndexesBefore = collection.indexSpecs().length;
  const created: string[] = [];
  try {
    for (const spec of specs) {
      if (collection.createIndex(spec) === 'created') created.push(spec.name);
    }
  } catch (error) {
    // The command builds all its indexes or none of them.
    for (const indexName of created) collection.dropIndex(indexName);
    throw error;
  }
  const reply: Document = {
    numIndexesBefore,
    numIndexesAfter: collection.indexSpecs().length,
    createdCollectionAutomatically: existing === undefined,
    ok: 1,
  };
  if (created.length === 0) reply.note = 'all indexes already exist';
  return reply;
};

const listIndexes: CommandHandler = (command, context) => {
  const name = collectionName(command, 'listIndexes');
  const collection = requireCollection(context, name);
  const cursor = optionalDocument(command, 'cursor');
  return cursorReply(
    context,
    collection.ns,
    collection.indexSpecs(),
    cursor?.batchSize as number | undefined,
  );
};

const dropIndexes: CommandHandler = (command, context) => {
  const name = collectionName(command, Object.keys(command)[0]);
  const collection = requireCollection(context, name);
  const nIndexesWas = collection.indexSpecs().length;
  const target = command.index as unknown;
  if (target === '*') {
    collection.dropAllIndexes();
    return { nIndexesWas, msg: 'non-_id indexes dropped for collection', ok: 1 };
  }
  const names = Array.isArray(target) ? target : [indexNameOf(collection, target)];
  if (!names.every((indexName): indexName is string => typeof indexName === 'string')) {
    throw new CommandError('TypeMismatch', "BSON field 'index' must hold index names (strings)");
  }
  for (const indexName of names) {
    if (indexName === ID_INDEX_NAME) {
      throw new CommandError('InvalidOptions', 'cannot drop _id index');
    }
    if (!collection.indexes.some((index) => index.name === indexName)) {
      throw new CommandError('IndexNotFound', `index not found with name [${indexName}]`);
    }
  }
  for (const indexName of names) collection.dropIndex(indexName);
  return { nIndexesWas, ok: 1 };
};

function indexNameOf(collection: Collection, target: unknown): string {
  if (typeof target === 'string') return target;
  if (isPlainObject(target)) {
    if (valueKey(target) === valueKey({ _id: 1 })) return ID_INDEX_NAME;
    const index = collection.indexes.find((i) => valueKey(i.spec.key) === valueKey(target));
    if (!index) {
      throw new CommandError(
        'IndexNotFound',
        `can't find index with key: ${JSON.stringify(target)}`,
      );
    }
    return index.name;
  }
  throw new CommandError('TypeMismatch', "BSON field 'index' must be a string, object or array");
}

export const adminCommands: Record<string, CommandHandler> = {
  create,
  collMod,
  drop,
  dropDatabase,
  listCollections,
  listDatabases,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
