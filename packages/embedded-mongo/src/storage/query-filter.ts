import { rewriteFilter } from './filter-rewrite';
import type { Document } from 'bson';
import type { Query } from 'mingo/query';
import { CommandError } from '../command-error';
import { isPlainObject } from './bson-value';
import { evaluationView, parseTypeArgument, registerCopy } from './bson-number';
import { engineQuery } from './mongod-operators';

/** Options of a read or write that change how its filter matches. */
export interface FilterOptions {
  /** `collation` of the command (mingo compares strings with Intl.Collator under it). */
  collation?: Document;
  /** `let` of the command: variables `$$name` in `$expr`. */
  variables?: Document;
}

const TOP_LEVEL_OPERATORS = new Set([
  '$and',
  '$or',
  '$nor',
  '$expr',
  '$jsonSchema',
  '$text',
  '$where',
  '$comment',
  '$alwaysTrue',
  '$alwaysFalse',
  '$sampleRate',
]);

const FIELD_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$not',
  '$exists',
  '$type',
  '$mod',
  '$regex',
  '$options',
  '$all',
  '$elemMatch',
  '$size',
  '$bitsAllClear',
  '$bitsAllSet',
  '$bitsAnyClear',
  '$bitsAnySet',
  '$geoIntersects',
  '$geoWithin',
  '$near',
  '$nearSphere',
  '$maxDistance',
  '$minDistance',
  '$geometry',
  '$box',
  '$center',
  '$centerSphere',
  '$polygon',
  '$uniqueDocs',
]);

/**
 * Refuses operators mongod does not know, with its error, when the filter is parsed: mingo
 * only notices them when a document is evaluated, so `{ a: { $foo: 1 } }` on an empty
 * collection (or on documents without `a`) silently matched nothing.
 */
export function validateFilter(filter: Document): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (key.startsWith('$')) {
      if (!TOP_LEVEL_OPERATORS.has(key)) {
        throw new CommandError(
          'BadValue',
          `unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`,
        );
      }
      if (key === '$and' || key === '$or' || key === '$nor') {
        if (!Array.isArray(condition) || condition.length === 0) {
          throw new CommandError('BadValue', `${key} must be a nonempty array`);
        }
        for (const clause of condition as unknown[]) {
          if (!isPlainObject(clause)) {
            throw new CommandError('BadValue', `${key} argument's entries must be objects`);
          }
          validateFilter(clause);
        }
      }
      continue;
    }
    validateCondition(condition);
  }
}

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const first = Object.keys(value)[0];
  return first !== undefined && first.startsWith('$');
}

function validateCondition(condition: unknown): void {
  if (!isOperatorObject(condition)) return;
  for (const [operator, argument] of Object.entries(condition)) {
    if (!FIELD_OPERATORS.has(operator)) {
      throw new CommandError('BadValue', `unknown operator: ${operator}`);
    }
    if (operator === '$type') parseTypeArgument(argument);
    if (
      (operator === '$in' || operator === '$nin' || operator === '$all') &&
      !Array.isArray(argument)
    ) {
      throw new CommandError('BadValue', `${operator} needs an array`);
    }
    if (operator === '$not') {
      if (!(argument instanceof RegExp) && !isOperatorObject(argument)) {
        throw new CommandError('BadValue', '$not needs a regex or a document');
      }
      validateCondition(argument);
    }
    if (operator === '$elemMatch') {
      if (!isPlainObject(argument))
        throw new CommandError('BadValue', '$elemMatch needs an Object');
      if (isOperatorObject(argument) && !TOP_LEVEL_OPERATORS.has(Object.keys(argument)[0])) {
        validateCondition(argument);
      } else {
        validateFilter(argument);
      }
    }
  }
}

export interface CompiledFilter {
  test(doc: Record<string, unknown>): boolean;
}

/**
 * The string transform under which a collation's equality becomes plain equality, or undefined
 * when the collation compares strings as they are. mingo applies a collation to `$sort` only,
 * never to query equality, so a case-insensitive collation (strength 1 or 2) is applied here by
 * folding every string of the filter and of the document: strength 2 ignores case, strength 1
 * also ignores accents. (Ordering operators such as `$gt` compare the folded strings.)
 */
function collationFold(collation: Document | undefined): ((text: string) => string) | undefined {
  if (!collation) return undefined;
  const strength = Number(collation.strength ?? 3);
  if (strength >= 3) return undefined;
  const locale = String(collation.locale);
  if (strength === 2) return (text) => text.toLocaleLowerCase(locale);
  return (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase(locale);
}

function foldStrings(value: unknown, fold: (text: string) => string): unknown {
  if (typeof value === 'string') return fold(value);
  if (Array.isArray(value)) {
    const copy = value.map((element) => foldStrings(element, fold));
    registerCopy(copy, value);
    return copy;
  }
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = foldStrings(value[key], fold);
  registerCopy(copy, value);
  return copy;
}

export function compileFilter(filter: Document, options: FilterOptions = {}): CompiledFilter {
  validateFilter(filter);
  const fold = collationFold(options.collation);
  const rewritten = rewriteFilter(filter);
  let query: Query;
  try {
    const criteria = evaluationView(rewritten);
    query = engineQuery(fold ? (foldStrings(criteria, fold) as Document) : criteria, {
      collation: options.collation as never,
      variables: options.variables,
    });
  } catch (error) {
    throw new CommandError('BadValue', (error as Error).message);
  }
  if (fold) {
    return { test: (doc) => query.test(foldStrings(evaluationView(doc), fold) as Document) };
  }
  return { test: (doc) => query.test(evaluationView(doc)) };
}
