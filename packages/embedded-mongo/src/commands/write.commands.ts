import type { Document } from 'bson';
import { CommandError } from '../command-error';
import { isPlainObject, valueKey } from '../storage/bson-value';
import type { Collection, WriteOptions } from '../storage/collection';
import { parseSortSpec, sortDocuments, type StoredDocument } from '../storage/document-path';
import {
  applyUpdate,
  isOperatorUpdate,
  upsertSeed,
  type UpdateSpec,
} from '../storage/update-document';
import {
  collectionName,
  filterOptions,
  matchingDocuments,
  optionalDocument,
  type CommandHandler,
  type FilterOptions,
} from './command-context';
import { project } from './read.commands';

/**
 * Runs each statement of a write command; a statement that fails becomes a write error, and an
 * ordered command stops at the first one, as mongod does.
 */
function runStatements<T>(
  statements: T[],
  ordered: boolean,
  run: (statement: T, index: number) => void,
): Document[] {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i], i);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      writeErrors.push(error.toWriteError(i));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function statementList(command: Document, field: string): Document[] {
  const list = command[field] as unknown;
  if (!Array.isArray(list) || !list.every(isPlainObject)) {
    throw new CommandError(
      'TypeMismatch',
      `BSON field '${field}' is the wrong type, expected array of objects`,
    );
  }
  return list;
}

function writeOptions(command: Document): WriteOptions {
  return { bypassValidation: command.bypassDocumentValidation === true };
}

/** Views are read-only, as on mongod. */
function writable(collection: Collection): Collection {
  if (typeof collection.options.viewOn === 'string') {
    throw new CommandError(
      'CommandNotSupportedOnView',
      `Namespace ${collection.ns} is a view, not a collection`,
    );
  }
  return collection;
}

function withWriteErrors(reply: Document, writeErrors: Document[]): Document {
  return writeErrors.length > 0 ? { ...reply, writeErrors } : reply;
}

const insert: CommandHandler = (command, context) => {
  const name = collectionName(command, 'insert');
  const documents = statementList(command, 'documents');
  const collection = writable(context.storage.getOrCreate(context.dbName, name));
  const options = writeOptions(command);
  let n = 0;
  const writeErrors = runStatements(documents, command.ordered !== false, (doc) => {
    collection.insert(doc, options);
    n++;
  });
  return withWriteErrors({ n, ok: 1 }, writeErrors);
};

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The document before and after, for findAndModify; the last one when several matched. */
  before?: StoredDocument;
  after?: StoredDocument;
}

interface UpdateStatement {
  query: Document;
  update: UpdateSpec;
  multi: boolean;
  upsert: boolean;
  arrayFilters?: Document[];
  sort?: Document;
  options: FilterOptions;
  writeOptions: WriteOptions;
}

function checkUpdateSpec(update: unknown, multi: boolean): UpdateSpec {
  if (Array.isArray(update)) return update as Document[];
  if (!isPlainObject(update)) {
    throw new CommandError('FailedToParse', 'Update argument must be either an object or an array');
  }
  if (multi && !isOperatorUpdate(update)) {
    throw new CommandError(
      'FailedToParse',
      'multi update is not supported for replacement-style update',
    );
  }
  return update;
}

/** One update statement; each document it touches is checked and written without yielding. */
function updateDocuments(collection: Collection, statement: UpdateStatement): UpdateOutcome {
  const { query, update, multi, upsert, arrayFilters, options } = statement;
  const { variables } = options;
  const sort = parseSortSpec(statement.sort);
  let targets = matchingDocuments(
    collection,
    query,
    multi || sort.length > 0 ? undefined : 1,
    options,
  );
  if (!multi && sort.length > 0) {
    targets = sortDocuments(targets, sort, options.collation).slice(0, 1);
  }
  const outcome: UpdateOutcome = { matched: targets.length, modified: 0 };
  for (const doc of targets) {
    const next = applyUpdate(doc, update, { query, arrayFilters, variables });
    outcome.before = doc;
    outcome.after = doc;
    if (valueKey(next) === valueKey(doc)) continue;
    // Change streams tell a replacement document from an operator or pipeline update.
    collection.replace(
      doc,
      next,
      isOperatorUpdate(update) || Array.isArray(update) ? 'update' : 'replace',
      statement.writeOptions,
    );
    outcome.after = next;
    outcome.modified++;
  }
  if (targets.length === 0 && upsert) {
    const seed = upsertSeed(query, update);
    const inserted = collection.insert(
      applyUpdate(seed, update, { query, arrayFilters, variables, inserting: true }),
      statement.writeOptions,
    );
    outcome.upsertedId = inserted._id;
    outcome.after = inserted;
  }
  return outcome;
}

const update: CommandHandler = (command, context) => {
  const name = collectionName(command, 'update');
  const statements = statementList(command, 'updates');
  // `sort` in an update statement is new in MongoDB 8.0; the engine answers as the 7.0 it reports.
  if (statements.some((statement) => statement.sort !== undefined)) {
    throw new CommandError(
      'Location40415',
      "BSON field 'update.updates.sort' is an unknown field.",
    );
  }
  const collection = writable(context.storage.getOrCreate(context.dbName, name));
  const { variables } = filterOptions(command);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = runStatements(statements, command.ordered !== false, (statement, index) => {
    const multi = statement.multi === true;
    const outcome = updateDocuments(collection, {
      query: (statement.q as Document | undefined) ?? {},
      update: checkUpdateSpec(statement.u, multi),
      multi,
      upsert: statement.upsert === true,
      arrayFilters: statement.arrayFilters as Document[] | undefined,
      options: { ...filterOptions(statement), variables },
      writeOptions: writeOptions(command),
    });
    if (outcome.upsertedId !== undefined) {
      upserted.push({ index, _id: outcome.upsertedId });
      n++;
    } else {
      n += outcome.matched;
      nModified += outcome.modified;
    }
  });
  const reply: Document = { n, nModified, ok: 1 };
  if (upserted.length > 0) reply.upserted = upserted;
  return withWriteErrors(reply, writeErrors);
};

const deleteCommand: CommandHandler = (command, context) => {
  const name = collectionName(command, 'delete');
  const statements = statementList(command, 'deletes');
  const existing = context.storage.get(context.dbName, name);
  const collection = existing && writable(existing);
  const { variables } = filterOptions(command);
  let n = 0;
  const writeErrors = runStatements(statements, command.ordered !== false, (statement) => {
    const limit = Number(statement.limit ?? 0);
    if (limit !== 0 && limit !== 1) {
      throw new CommandError('FailedToParse', 'The limit field in delete objects must be 0 or 1');
    }
    const query = (statement.q as Document | undefined) ?? {};
    const options = { ...filterOptions(statement), variables };
    for (const doc of matchingDocuments(collection, query, limit === 1 ? 1 : undefined, options)) {
      collection?.remove(doc);
      n++;
    }
  });
  return withWriteErrors({ n, ok: 1 }, writeErrors);
};

const findAndModify: CommandHandler = (command, context) => {
  const name = collectionName(command, Object.keys(command)[0]);
  const query = optionalDocument(command, 'query') ?? {};
  const fields = optionalDocument(command, 'fields');
  const returnNew = command.new === true;
  const collection = writable(context.storage.getOrCreate(context.dbName, name));
  const options = filterOptions(command);
  const respond = (value: StoredDocument | undefined, lastErrorObject: Document): Document => ({
    lastErrorObject,
    value: value ? (project([value], fields, query, options)[0] ?? null) : null,
    ok: 1,
  });

  if (command.remove === true) {
    if (command.update !== undefined) {
      throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true');
    }
    const sort = parseSortSpec(optionalDocument(command, 'sort'));
    const matches = matchingDocuments(collection, query, sort.length > 0 ? undefined : 1, options);
    const doc = sortDocuments(matches, sort, options.collation)[0];
    if (doc) collection.remove(doc);
    return respond(doc, { n: doc ? 1 : 0 });
  }
  if (command.update === undefined) {
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified');
  }
  const outcome = updateDocuments(collection, {
    query,
    update: checkUpdateSpec(command.update, false),
    multi: false,
    upsert: command.upsert === true,
    arrayFilters: command.arrayFilters as Document[] | undefined,
    sort: optionalDocument(command, 'sort'),
    options,
    writeOptions: writeOptions(command),
  });
  if (outcome.upsertedId !== undefined) {
    return respond(returnNew ? outcome.after : undefined, {
      n: 1,
      updatedExisting: false,
      upserted: outcome.upsertedId,
    });
  }
  return respond(returnNew ? outcome.after : outcome.before, {
    n: outcome.matched,
    updatedExisting: outcome.matched > 0,
  });
};

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
};
