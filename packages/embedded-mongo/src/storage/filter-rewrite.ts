import type { Document } from 'bson';
import { CommandError } from '../command-error';
import { isPlainObject } from './bson-value';

const LOGICAL = ['$and', '$or', '$nor'];

/**
 * Rewrites a filter into an equivalent one mingo evaluates as mongod does, and refuses what the
 * engine does not run:
 * - `{ f: { $all: [a, b] } }` is mongod's `{ $and: [{ f: a }, { f: b }] }` (its documented
 *   equivalence). mingo's own `$all` requires the field to hold an array, so a field holding
 *   the single value `a` did not match `$all: [a]` as it does on mongod.
 * - `$where` runs server-side JavaScript, which the engine does not execute (MongoDB deprecates
 *   it); it is refused with the error mongod gives when JavaScript is disabled.
 * Returns the filter itself when nothing needed rewriting.
 */
export function rewriteFilter(filter: Document): Document {
  let changed = false;
  const out: Document = {};
  const extra: Document[] = [];
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$where') {
      throw new CommandError('BadValue', 'no globalScriptEngine in $where parsing');
    }
    // The engine builds no text index, so it answers as mongod does on a collection without one.
    if (key === '$text') {
      throw new CommandError('IndexNotFound', 'text index required for $text query');
    }
    if (LOGICAL.includes(key) && Array.isArray(condition)) {
      const clauses = condition.map((clause: unknown) =>
        isPlainObject(clause) ? rewriteFilter(clause) : clause,
      );
      changed ||= clauses.some((clause, i) => clause !== condition[i]);
      out[key] = clauses;
      continue;
    }
    if (!key.startsWith('$')) {
      refuseGeoNear(condition);
      const rewritten = rewriteCondition(key, condition);
      if (rewritten) {
        changed = true;
        extra.push(...rewritten);
        continue;
      }
    }
    out[key] = condition;
  }
  if (!changed) return filter;
  if (extra.length === 0) return out;
  if (out.$and === undefined) return { ...out, $and: extra };
  return { $and: [out, ...extra] };
}

/** `$near`/`$nearSphere` need a geo index, which the engine does not build: mongod's error without one. */
function refuseGeoNear(condition: unknown): void {
  if (isPlainObject(condition) && ('$near' in condition || '$nearSphere' in condition)) {
    throw new CommandError(
      'NoQueryExecutionPlans',
      'error processing query: planner returned error :: caused by :: unable to find index for $geoNear query',
    );
  }
}

/** The clauses replacing `{ field: condition }` when it holds a non-empty `$all`. */
function rewriteCondition(field: string, condition: unknown): Document[] | undefined {
  if (!isPlainObject(condition) || !Array.isArray(condition.$all)) return undefined;
  const values = condition.$all as unknown[];
  if (values.length === 0) return undefined;
  const { $all: _all, ...others } = condition;
  const clauses: Document[] = values.map((value) => ({ [field]: value }));
  if (Object.keys(others).length > 0) clauses.unshift({ [field]: others });
  return clauses;
}
