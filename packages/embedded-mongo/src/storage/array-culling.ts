import type { Document } from 'bson';
import { CommandError } from '../command-error';
import { compareBson, isPlainObject } from './bson-value';
import { formatValue } from './collection-index';
import type { StoredDocument } from './document-path';
import { compileFilter } from './query-filter';

/**
 * `$pull` and `$pullAll`, done by the engine as mongod does them (src/mongo/db/update/
 * pull_node.cpp, pullall_node.cpp, array_culling_node.cpp). mingo classified `$pull`
 * conditions by "has any `$` key", so `{ $or: [...] }` and `{ $and: [...] }` were applied to
 * the element as a value and removed nothing, `{ $nor: [...] }` removed everything, a query
 * mixing a field and `$or` was refused, and equality ignored field order and compared stored
 * numbers (Long, 1.0) by their JS identity.
 */

/** mongod's path-accepting query keywords (`MatchExpressionParser::parsePathAcceptingKeyword`). */
const PATH_ACCEPTING = new Set([
  '$all',
  '$bitsAllClear',
  '$bitsAllSet',
  '$bitsAnyClear',
  '$bitsAnySet',
  '$elemMatch',
  '$eq',
  '$exists',
  '$geoIntersects',
  '$geoNear',
  '$geoWithin',
  '$gt',
  '$gte',
  '$in',
  '$lt',
  '$lte',
  '$maxDistance',
  '$minDistance',
  '$mod',
  '$ne',
  '$near',
  '$nearSphere',
  '$nin',
  '$not',
  '$options',
  '$regex',
  '$size',
  '$type',
  '$within',
]);

/** Parsed with `kBanAllSpecialFeatures` in mongod: refused wherever a top-level operator may stand. */
const SPECIAL_FEATURES = ['$expr', '$where', '$text', '$jsonSchema'];

function banSpecialFeatures(query: Document): void {
  for (const [key, value] of Object.entries(query)) {
    if (SPECIAL_FEATURES.includes(key)) {
      throw new CommandError('QueryFeatureNotAllowed', `${key} is not allowed in this context`);
    }
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
      for (const clause of value) if (isPlainObject(clause)) banSpecialFeatures(clause);
    }
  }
}

type ElementMatcher = (element: unknown) => boolean;

/** The field an element is wrapped in to be matched by an operator condition (mongod uses ""). */
const WRAPPED = 'element';

/**
 * How `$pull` tests an element: an object whose first field is not a path-accepting operator
 * is a query on the element as a document (only embedded documents can match); an object
 * starting with such an operator, or a regex, is a condition on the element itself; anything
 * else is BSON equality (field order counts; 1, 1.0 and Long(1) are equal).
 */
export function pullMatcher(condition: unknown): ElementMatcher {
  if (isPlainObject(condition) && !PATH_ACCEPTING.has(Object.keys(condition)[0])) {
    banSpecialFeatures(condition);
    const query = compileFilter(condition);
    return (element) => isPlainObject(element) && query.test(element);
  }
  if (isPlainObject(condition) || condition instanceof RegExp) {
    const query = compileFilter({ [WRAPPED]: condition });
    return (element) => query.test({ [WRAPPED]: element });
  }
  return (element) => compareBson(element, condition) === 0;
}

function pullAllMatcher(values: unknown): ElementMatcher {
  if (!Array.isArray(values)) {
    throw new CommandError(
      'BadValue',
      `$pullAll requires an array argument but was given a ${typeLabel(values)}`,
    );
  }
  return (element) => values.some((value) => compareBson(element, value) === 0);
}

function typeLabel(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  return 'object';
}

/** A place holding the array to cull: `holder[key]`. */
interface Slot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
}

/** The array filters of the update by identifier, each compiled into one test of an element. */
function arrayFilterTests(arrayFilters: Document[] | undefined): Map<string, ElementMatcher> {
  const tests = new Map<string, ElementMatcher>();
  for (const filter of arrayFilters ?? []) {
    const identifier = filterIdentifier(filter);
    if (identifier === undefined) continue;
    const query = compileFilter(filter);
    const previous = tests.get(identifier);
    const test: ElementMatcher = (element) => query.test({ [identifier]: element });
    tests.set(identifier, previous ? (element) => previous(element) && test(element) : test);
  }
  return tests;
}

/** The identifier an array filter is about (`{'x.a': 1}` and `{$or: [{'x.a': 1}, ...]}`: `x`). */
export function filterIdentifier(filter: Document): string | undefined {
  for (const [key, value] of Object.entries(filter)) {
    if (!key.startsWith('$')) return key.split('.')[0];
    if (Array.isArray(value)) {
      for (const clause of value as unknown[]) {
        const identifier = isPlainObject(clause) ? filterIdentifier(clause) : undefined;
        if (identifier) return identifier;
      }
    }
  }
  return undefined;
}

const ARRAY_UPDATE = /^\$\[(\w*)\]$/;

/**
 * The slots a path names in `doc`, through `$[]` and `$[identifier]` (every element, or those
 * the identifier's array filter matches) and numeric indexes. A missing or non-viable field on
 * the way is no slot (`$pull` then does nothing, as in mongod); `$[...]` over a missing field
 * or a non-array is refused with mongod's errors.
 */
function slotsOf(doc: StoredDocument, path: string, filters: Map<string, ElementMatcher>): Slot[] {
  const parts = path.split('.');
  const slots: Slot[] = [];
  const walk = (holder: Record<string, unknown> | unknown[], index: number, taken: string[]) => {
    const part = parts[index];
    const arrayUpdate = ARRAY_UPDATE.exec(part);
    let keys: Array<string | number>;
    if (arrayUpdate) {
      const array = holder as unknown[];
      const test = arrayUpdate[1] ? filters.get(arrayUpdate[1]) : undefined;
      keys = array.map((_, i) => i).filter((i) => !test || test(array[i]));
    } else if (Array.isArray(holder)) {
      if (!/^\d+$/.test(part)) return;
      keys = [Number(part)];
    } else {
      keys = [part];
    }
    for (const key of keys) {
      if (index === parts.length - 1) {
        slots.push({ holder, key });
        continue;
      }
      const child = Array.isArray(holder)
        ? holder[key as number]
        : Object.prototype.hasOwnProperty.call(holder, key)
          ? holder[key as string]
          : undefined;
      const childPath = [...taken, String(key)];
      if (ARRAY_UPDATE.test(parts[index + 1])) {
        checkArrayUpdate(child, childPath);
        walk(child as unknown[], index + 1, childPath);
      } else if (Array.isArray(child) || isPlainObject(child)) {
        walk(child, index + 1, childPath);
      }
    }
  };
  if (ARRAY_UPDATE.test(parts[0])) checkArrayUpdate(doc, []);
  walk(doc, 0, []);
  return slots;
}

function checkArrayUpdate(value: unknown, path: string[]): void {
  if (value === undefined) {
    throw new CommandError(
      'BadValue',
      `The path '${path.join('.')}' must exist in the document in order to apply array updates.`,
    );
  }
  if (!Array.isArray(value)) {
    throw new CommandError(
      'BadValue',
      `Cannot apply array updates to non-array element ${path[path.length - 1] ?? ''}: ${formatValue(value)}`,
    );
  }
}

/**
 * Applies the `$pull` and `$pullAll` entries of `operators` to `doc` (a private copy) and
 * removes them from `operators`. Paths with the positional `$` still in them (an upsert's
 * insert, where mongod refuses it) are left to the caller.
 */
export function applyArrayCulling(
  doc: StoredDocument,
  operators: Document,
  arrayFilters: Document[] | undefined,
): void {
  let filters: Map<string, ElementMatcher> | undefined;
  for (const operator of ['$pull', '$pullAll'] as const) {
    const fields = operators[operator] as unknown;
    if (!isPlainObject(fields)) continue;
    const remaining: Document = {};
    for (const [path, argument] of Object.entries(fields)) {
      if (/(^|\.)\$(\.|$)/.test(path)) {
        remaining[path] = argument;
        continue;
      }
      const matches = operator === '$pull' ? pullMatcher(argument) : pullAllMatcher(argument);
      filters ??= arrayFilterTests(arrayFilters);
      for (const { holder, key } of slotsOf(doc, path, filters)) {
        const array = (holder as Record<string | number, unknown>)[key];
        if (array === undefined) continue;
        if (!Array.isArray(array)) {
          throw new CommandError('BadValue', 'Cannot apply $pull to a non-array value');
        }
        const kept = array.filter((element) => !matches(element));
        if (kept.length !== array.length) {
          (holder as Record<string | number, unknown>)[key] = kept;
        }
      }
    }
    if (Object.keys(remaining).length > 0) operators[operator] = remaining;
    else delete operators[operator];
  }
}
