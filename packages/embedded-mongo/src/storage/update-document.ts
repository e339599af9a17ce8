import { Timestamp, type Document } from 'bson';
import { ProcessingMode, update as applyOperators } from 'mingo';
import type { Query } from 'mingo/query';
import * as updateOperatorFunctions from 'mingo/operators/update';
import { CommandError, type ErrorCodeName } from '../command-error';
import { arithmetic, evaluationView, numericKind } from './bson-number';
import { compareBson, isPlainObject, valueKey } from './bson-value';
import { formatValue } from './collection-index';
import { aliasProto, mentionsProto, unaliasProto } from './proto-keys';
import { cloneDocument, setPath, type StoredDocument } from './document-path';
import { engineAggregator, engineQuery, typeLabel } from './mongod-operators';
import { applyArrayCulling, filterIdentifier } from './array-culling';
import { bitValue, checkRenames, pushValues } from './update-modifiers';

export type UpdateSpec = Document | Document[];

export function isOperatorUpdate(update: UpdateSpec): update is Document {
  if (Array.isArray(update)) return false;
  const keys = Object.keys(update);
  return keys.length > 0 && keys[0].startsWith('$');
}

export interface ApplyUpdateOptions {
  /** The write's filter; the positional `$` operator finds its array element through it. */
  query: Document;
  arrayFilters?: Document[];
  /** Upserting: `$setOnInsert` applies and the filter is not required to match. */
  inserting?: boolean;
  /** The command's `let`, for pipeline updates. */
  variables?: Document;
}

/**
 * Returns the updated copy of `doc`; the stored document is never modified in place, so open
 * cursors and index entries keep seeing the version they were built from.
 */
export function applyUpdate(
  doc: StoredDocument,
  update: UpdateSpec,
  options: ApplyUpdateOptions,
): StoredDocument {
  if (mentionsProto(update)) {
    const aliased = applyUpdate(aliasProto(doc), aliasProto(update), {
      ...options,
      query: aliasProto(options.query),
      arrayFilters: options.arrayFilters && aliasProto(options.arrayFilters),
    });
    return unaliasProto(aliased);
  }
  if (Array.isArray(update)) return applyPipelineUpdate(doc, update, options.variables);
  if (!isOperatorUpdate(update)) return applyReplacement(doc, update);
  for (const [operator, fields] of Object.entries(update)) {
    if (!isPlainObject(fields)) {
      throw new CommandError(
        'FailedToParse',
        `Modifiers operate on fields but we found type ${typeof fields} instead. For example: {$mod: {<field>: ...}} not {${operator}: ${String(fields)}}`,
      );
    }
  }
  const unknown = Object.keys(update).find(
    (operator) => operator !== '$setOnInsert' && !UPDATE_OPERATORS.has(operator),
  );
  if (unknown) {
    throw new CommandError(
      'FailedToParse',
      `Unknown modifier: ${unknown}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  checkConflicts(update);
  checkArrayFilters(update, options.arrayFilters);
  // Copied two levels deep: the same update applies to every document of a multi-update.
  const operators: Document = Object.fromEntries(
    Object.entries(update).map(([operator, fields]) => [operator, { ...(fields as Document) }]),
  );
  const setOnInsert = operators.$setOnInsert as Document | undefined;
  delete operators.$setOnInsert;
  if (options.inserting && setOnInsert) {
    operators.$set = { ...(operators.$set as Document | undefined), ...setOnInsert };
  }
  if (operators.$currentDate) {
    operators.$set = {
      ...(operators.$set as Document | undefined),
      ...currentDates(operators.$currentDate as Document),
    };
    delete operators.$currentDate;
  }
  const next = cloneDocument(doc);
  settleIdInSet(next, operators);
  if (!options.inserting && usesPositional(operators)) {
    resolvePositional(next, operators, options.query);
  }
  if (isPlainObject(operators.$rename)) checkRenames(next, operators.$rename);
  checkPathsViable(next, operators);
  applyArrayCulling(next, operators, options.arrayFilters);
  applyTypedOperators(next, operators);
  if (Object.keys(operators).length > 0) {
    try {
      if (canApplyDirectly(operators)) {
        for (const [operator, fields] of Object.entries(operators)) {
          DIRECT_OPERATORS[operator](fields, options.arrayFilters)(next);
        }
      } else {
        applyOperators(
          next,
          operators,
          options.arrayFilters,
          options.inserting || !usesPositional(operators) ? {} : options.query,
          { cloneMode: 'deep' },
        );
      }
    } catch (error) {
      const message = (error as Error).message;
      throw new CommandError(updateErrorCode(message), message);
    }
  }
  return next;
}

/**
 * mongod accepts `$set: { _id }` when the value is the document's own `_id` (a no-op; connect-mongo
 * sends this on every save) and when an upsert inserts, but refuses a change. mingo refuses any
 * `$set` of `_id`, so the field is settled here and taken out of what mingo sees.
 */
function settleIdInSet(next: StoredDocument, operators: Document): void {
  const set = operators.$set as Document | undefined;
  if (!set || !('_id' in set)) return;
  if (next._id === undefined) {
    next._id = cloneDocument(set._id);
  } else if (valueKey(set._id) !== valueKey(next._id)) {
    throw new CommandError(
      'ImmutableField',
      `Performing an update on the path '_id' would modify the immutable field '_id'`,
    );
  }
  const { _id: _settled, ...rest } = set;
  if (Object.keys(rest).length > 0) operators.$set = rest;
  else delete operators.$set;
}

type DirectOperator = (
  fields: Document,
  arrayFilters?: Document[],
) => (doc: StoredDocument) => unknown;

const DIRECT_OPERATORS = updateOperatorFunctions as unknown as Record<string, DirectOperator>;
/** The update operators mingo implements; `$setOnInsert` is applied here, as `$set`. */
const UPDATE_OPERATORS = new Set(Object.keys(DIRECT_OPERATORS));

/**
 * mingo's `update()` rebuilds its operator tables on every call (~80 µs, most of an update's
 * cost). Its operator functions can run on their own when no path needs the whole update in
 * view: the positional `$` (needs the filter), `$rename` (checks its target against the other
 * operators), and paths that overlap across operators (mongod refuses those; mingo says why).
 */
function canApplyDirectly(operators: Document): boolean {
  if ('$rename' in operators || usesPositional(operators)) return false;
  const paths = Object.values(operators).flatMap((fields) =>
    Object.keys(fields as Document).map((path) => path.split('.$')[0]),
  );
  return paths.every((path, i) =>
    paths.every(
      (other, j) =>
        i === j ||
        (path !== other && !other.startsWith(`${path}.`) && !path.startsWith(`${other}.`)),
    ),
  );
}

function updateErrorCode(mingoMessage: string): ErrorCodeName {
  if (/immutable field/.test(mingoMessage)) return 'ImmutableField';
  if (/would create a conflict/.test(mingoMessage)) return 'ConflictingUpdateOperators';
  return 'BadValue';
}

/**
 * Replaces each positional `$` segment by the index of the array element the filter matched,
 * as mongod does before it applies the update. mingo resolves `$` itself but records only the
 * path before it for its conflict check, so `children.$.name` with `children.$.updatedAt` (what
 * Mongoose's subdocument timestamps send) or `$set 'a.$.x'` with `$addToSet 'a.$.y'` were
 * refused as conflicting; once resolved, the concrete paths are checked as mongod checks them.
 */
function resolvePositional(doc: StoredDocument, operators: Document, query: Document): void {
  const positions = new Map<string, number>();
  for (const [operator, fields] of Object.entries(operators)) {
    if (!isPlainObject(fields)) continue;
    const resolved: Document = {};
    for (const [path, value] of Object.entries(fields)) {
      const parts = path.split('.');
      const at = parts.indexOf('$');
      if (at < 0) {
        resolved[path] = value;
        continue;
      }
      const arrayPath = parts.slice(0, at).join('.');
      let position = positions.get(arrayPath);
      if (position === undefined) {
        position = matchedPosition(doc, arrayPath, query);
        positions.set(arrayPath, position);
      }
      parts[at] = String(position);
      resolved[parts.join('.')] = value;
    }
    operators[operator] = resolved;
  }
}

/** Operators that create the fields of their paths when missing. */
const CREATING_OPERATORS = [
  '$set',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$push',
  '$addToSet',
  '$currentDate',
];

/**
 * mongod refuses to create a field inside an array or a scalar: `$set: { 'arr.x': 1 }` on
 * `{ arr: [...] }` fails with PathNotViable (28) rather than doing nothing, which is what
 * mingo did. Numeric segments into arrays and `$[...]` paths (resolved per element) are fine.
 */
function checkPathsViable(doc: StoredDocument, operators: Document): void {
  const paths: string[] = [];
  for (const operator of CREATING_OPERATORS) {
    const fields = operators[operator] as unknown;
    if (isPlainObject(fields)) paths.push(...Object.keys(fields));
  }
  const renames = operators.$rename as unknown;
  if (isPlainObject(renames)) {
    paths.push(...Object.values(renames).filter((to): to is string => typeof to === 'string'));
  }
  for (const path of paths) {
    const parts = path.split('.');
    let value: unknown = doc;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i];
      if (part.startsWith('$[')) break;
      const next: unknown = Array.isArray(value)
        ? /^\d+$/.test(part)
          ? value[Number(part)]
          : undefined
        : (value as Record<string, unknown>)[part];
      if (next === undefined || next === null) break;
      const child = parts[i + 1];
      const viable = Array.isArray(next)
        ? /^\d+$/.test(child) || child.startsWith('$[')
        : isPlainObject(next);
      if (!viable) {
        throw new CommandError(
          'PathNotViable',
          `Cannot create field '${child}' in element {${part}: ${formatValue(next)}}`,
        );
      }
      value = next;
    }
  }
}

const POSITIONAL_NOT_FOUND =
  'The positional operator did not find the match needed from the query.';

/** The index of the first element of the array at `arrayPath` that the filter's conditions on it match. */
function matchedPosition(doc: StoredDocument, arrayPath: string, query: Document): number {
  const conditions = conditionsOn(query, arrayPath);
  const array = arrayPath
    .split('.')
    .reduce<unknown>((value, part) => (isPlainObject(value) ? value[part] : undefined), doc);
  if (conditions.length === 0 || !Array.isArray(array)) {
    throw new CommandError('BadValue', POSITIONAL_NOT_FOUND);
  }
  let test: Query;
  try {
    test = engineQuery({ $and: conditions });
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
  const position = array.findIndex((element) => {
    const probe: StoredDocument = {};
    setPath(probe, arrayPath, [element]);
    return test.test(probe);
  });
  if (position < 0) throw new CommandError('BadValue', POSITIONAL_NOT_FOUND);
  return position;
}

/** The filter's conditions on `arrayPath` or below it, top level and inside `$and`. */
function conditionsOn(query: Document, arrayPath: string): Document[] {
  const out: Document[] = [];
  for (const [key, condition] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const clause of condition) {
        if (isPlainObject(clause)) out.push(...conditionsOn(clause, arrayPath));
      }
    } else if (key === arrayPath || key.startsWith(`${arrayPath}.`)) {
      out.push({ [key]: condition });
    }
  }
  return out;
}

/**
 * Only the positional `$` operator needs mingo to re-match the filter against the document;
 * skipping that for other updates saves compiling the filter a second time.
 */
function usesPositional(operators: Document): boolean {
  return Object.values(operators).some(
    (fields) =>
      isPlainObject(fields) && Object.keys(fields).some((path) => /(^|\.)\$(\.|$)/.test(path)),
  );
}

function applyReplacement(doc: StoredDocument, replacement: Document): StoredDocument {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw new CommandError('BadValue', `The dollar ($) prefixed field '${key}' is not allowed`);
    }
  }
  const { _id: replacementId, ...fields } = replacement;
  if (replacementId !== undefined && doc._id !== undefined) {
    if (valueKey(replacementId) !== valueKey(doc._id)) {
      throw new CommandError(
        'ImmutableField',
        `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(replacementId)}`,
      );
    }
  }
  const id = doc._id !== undefined ? doc._id : replacementId;
  return cloneDocument(id === undefined ? fields : { _id: id, ...fields });
}

/**
 * A pipeline update runs as an aggregation of the one document (mingo's own `updateOne` with a
 * pipeline cannot tell which fields `$replaceWith` changed and fails). `_id` stays the
 * document's: a stage that drops it does not remove it, one that changes it is refused.
 */
function applyPipelineUpdate(
  doc: StoredDocument,
  pipeline: Document[],
  variables?: Document,
): StoredDocument {
  for (const stage of pipeline) {
    const name = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
    if (!name || !PIPELINE_UPDATE_STAGES.has(name)) {
      throw new CommandError(
        'InvalidOptions',
        `${name ?? 'A non-document stage'} is not allowed to be used within an update`,
      );
    }
  }
  let result: Document[];
  try {
    result = engineAggregator(pipeline, {
      processingMode: ProcessingMode.CLONE_INPUT,
      variables,
    }).run([evaluationView(doc)]) as Document[];
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
  const updated = result[0] ?? {};
  if (doc._id === undefined) return cloneDocument(updated);
  if (updated._id !== undefined && valueKey(updated._id) !== valueKey(doc._id)) {
    throw new CommandError(
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  const { _id: _kept, ...fields } = updated;
  return cloneDocument({ _id: doc._id, ...fields });
}

const PIPELINE_UPDATE_STAGES = new Set([
  '$addFields',
  '$set',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

function pathsOf(update: Document): Array<[string, string]> {
  return Object.entries(update).flatMap(([operator, fields]) => {
    const paths = Object.keys(fields as Document).map((path): [string, string] => [operator, path]);
    if (operator === '$rename') {
      for (const target of Object.values(fields as Document)) {
        if (typeof target === 'string') paths.push([operator, target]);
      }
    }
    return paths;
  });
}

/**
 * mongod refuses an update in which one path is the same as, or a prefix of, another across
 * all its operators, `$setOnInsert` included (mingo folds `$setOnInsert` into `$set` and never
 * sees the clash).
 */
function checkConflicts(update: Document): void {
  const paths = pathsOf(update);
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i][1];
      const b = paths[j][1];
      if (a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`)) {
        throw new CommandError(
          'ConflictingUpdateOperators',
          `Updating the path '${b}' would create a conflict at '${a.length <= b.length ? a : b}'`,
        );
      }
    }
  }
}

/** Every `$[identifier]` of the update needs an array filter, and every array filter a use. */
function checkArrayFilters(update: Document, arrayFilters: Document[] | undefined): void {
  const used = new Set<string>();
  for (const [, path] of pathsOf(update)) {
    for (const match of path.matchAll(/\$\[([^\]]+)\]/g)) {
      const identifier = match[1];
      used.add(identifier);
      if (!(arrayFilters ?? []).some((filter) => filterIdentifier(filter) === identifier)) {
        throw new CommandError(
          'BadValue',
          `No array filter found for identifier '${identifier}' in path '${path}'`,
        );
      }
    }
  }
  for (const filter of arrayFilters ?? []) {
    const identifier = filterIdentifier(filter);
    if (identifier === undefined) {
      throw new CommandError(
        'FailedToParse',
        'Cannot use an expression without a top-level field name in arrayFilters',
      );
    }
    if (!used.has(identifier)) {
      throw new CommandError(
        'FailedToParse',
        `The array filter for identifier '${identifier}' was not used in the update ${JSON.stringify(update)}`,
      );
    }
  }
}

/** `$currentDate` read from the clock on every update (mingo's default options freeze it). */
let timestampIncrement = 0;
function currentDates(fields: Document): Document {
  const now = new Date();
  const set: Document = {};
  for (const [path, spec] of Object.entries(fields)) {
    const type = isPlainObject(spec) ? spec.$type : undefined;
    if (spec !== true && type !== 'date' && type !== 'timestamp') {
      throw new CommandError(
        'BadValue',
        `${JSON.stringify(spec)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
      );
    }
    set[path] =
      type === 'timestamp'
        ? new Timestamp({ t: Math.floor(now.getTime() / 1000), i: ++timestampIncrement })
        : now;
  }
  return set;
}

interface PathSlot {
  /** The value at the path; undefined when the path is viable but the field is missing. */
  value: unknown;
}

/**
 * The value at a dotted path without positional parts, or undefined when the path runs through
 * something mongod would refuse to create a field in (left to mingo, which reports it).
 */
function slotAt(doc: StoredDocument, path: string): PathSlot | undefined {
  if (/(^|\.)\$/.test(path)) return undefined;
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === undefined) return { value: undefined };
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(part)) return undefined;
      value = value[Number(part)];
    } else if (isPlainObject(value)) {
      value = Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined;
    } else {
      return undefined;
    }
  }
  return { value };
}

const typeName = typeLabel;

function idText(doc: StoredDocument): string {
  return `{_id: ${JSON.stringify(doc._id)}}`;
}

/**
 * The operators whose result depends on the BSON type of what is stored, done here rather
 * than by mingo: mingo adds JS numbers (a Long above 2^53 was left unchanged, int32 overflow
 * became a double), skips `$inc` on a string and `$push` onto a non-array silently (mongod:
 * errors 14 and 2), and `$addToSet` compares embedded documents without their field order.
 * Each is turned into a `$set` of the computed value; paths with positional parts stay mingo's.
 */
function applyTypedOperators(doc: StoredDocument, operators: Document): void {
  const set: Document = {};
  for (const operator of [
    '$inc',
    '$mul',
    '$min',
    '$max',
    '$addToSet',
    '$push',
    '$pull',
    '$pullAll',
    '$pop',
    '$bit',
  ]) {
    const fields = operators[operator] as Document | undefined;
    if (!fields) continue;
    for (const [path, argument] of Object.entries(fields)) {
      const slot = slotAt(doc, path);
      if (!slot) continue;
      const current = slot.value;
      switch (operator) {
        case '$inc':
        case '$mul': {
          if (!numericKind(argument)) {
            throw new CommandError(
              'TypeMismatch',
              `Cannot ${operator === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${JSON.stringify(argument)}}`,
            );
          }
          if (current !== undefined && !numericKind(current)) {
            throw new CommandError(
              'TypeMismatch',
              `Cannot apply ${operator} to a value of non-numeric type. ${idText(doc)} has the field '${path.split('.').pop()}' of non-numeric type ${typeName(current)}`,
            );
          }
          const base =
            current === undefined ? (operator === '$inc' ? 0 : zeroOf(argument)) : current;
          set[path] = arithmetic(operator === '$inc' ? 'add' : 'multiply', base, argument);
          delete fields[path];
          break;
        }
        case '$min':
        case '$max': {
          const c = current === undefined ? 0 : compareBson(argument, current);
          if (current === undefined || (operator === '$min' ? c < 0 : c > 0))
            set[path] = cloneDocument(argument);
          delete fields[path];
          break;
        }
        case '$bit': {
          set[path] = bitValue(
            current,
            argument,
            `_id: ${formatValue(doc._id)}`,
            path.split('.').pop() ?? path,
          );
          delete fields[path];
          break;
        }
        case '$addToSet':
        case '$push':
        case '$pull':
        case '$pullAll':
        case '$pop': {
          if (current !== undefined && !Array.isArray(current)) {
            throw new CommandError(
              'BadValue',
              operator === '$push' || operator === '$addToSet'
                ? `The field '${path}' must be an array but is of type ${typeName(current)} in document ${idText(doc)}`
                : `Cannot apply ${operator} to a non-array value`,
            );
          }
          if (operator === '$addToSet') {
            const each =
              isPlainObject(argument) && '$each' in argument ? argument.$each : [argument];
            if (!Array.isArray(each)) {
              throw new CommandError(
                'TypeMismatch',
                `The argument to $each in $addToSet must be an array but it was of type ${typeName(each)}`,
              );
            }
            const next = [...((current as unknown[] | undefined) ?? [])];
            const seen = new Set(next.map((value) => valueKey(value)));
            for (const value of each) {
              const key = valueKey(value);
              if (!seen.has(key)) {
                seen.add(key);
                next.push(cloneDocument(value));
              }
            }
            set[path] = next;
            delete fields[path];
          }
          if (operator === '$push') {
            set[path] = pushValues(current as unknown[] | undefined, argument);
            delete fields[path];
          }
          break;
        }
      }
    }
    if (Object.keys(fields).length === 0) delete operators[operator];
  }
  if (Object.keys(set).length > 0) {
    operators.$set = { ...(operators.$set as Document | undefined), ...set };
  }
}

/** `$mul` on a missing field stores zero of the argument's type. */
function zeroOf(argument: unknown): unknown {
  return arithmetic('multiply', argument, 0);
}

/**
 * The document an upsert starts from: the filter's equality conditions on fields (also inside
 * `$and`), as mongod seeds it; a replacement upsert keeps only the filter's `_id`.
 */
export function upsertSeed(query: Document, update: UpdateSpec): StoredDocument {
  const seed: StoredDocument = {};
  if (!Array.isArray(update) && !isOperatorUpdate(update)) {
    const id = equalityOf(query._id);
    if (id !== undefined) seed._id = cloneDocument(id);
    return seed;
  }
  collectEqualities(query, seed);
  return seed;
}

function collectEqualities(query: Document, seed: StoredDocument): void {
  for (const [field, condition] of Object.entries(query)) {
    if (field === '$and' && Array.isArray(condition)) {
      for (const clause of condition) if (isPlainObject(clause)) collectEqualities(clause, seed);
      continue;
    }
    if (field.startsWith('$')) continue;
    const value = equalityOf(condition);
    if (value !== undefined) setPath(seed, field, cloneDocument(value));
  }
}

function equalityOf(condition: unknown): unknown {
  if (isPlainObject(condition) && Object.keys(condition).some((key) => key.startsWith('$'))) {
    return '$eq' in condition ? condition.$eq : undefined;
  }
  return condition instanceof RegExp ? undefined : condition;
}
