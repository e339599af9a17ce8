import type { Document } from 'bson';
import type { Query } from 'mingo/query';
import { engineQuery } from './mongod-operators';
import { CommandError } from '../command-error';
import { isPlainObject } from './bson-value';
import type { StoredDocument } from './document-path';

interface ElemMatchField {
  field: string;
  query: Query;
}

/**
 * The `$elemMatch` projections of a projection, taken out so the engine applies them itself.
 * mingo tests each array element against the condition as a document filter, so an
 * operator-only condition (`{ tags: { $elemMatch: { $in: ['a'] } } }`, which Mongoose sends
 * for a `select` with `$elemMatch`) failed as "unknown top level operator". mongod gives the
 * projection the query operator's meaning: the first element `{ field: { $elemMatch } }`
 * would match. `rest` is the projection mingo applies (the field kept as an inclusion in an
 * inclusion projection, left out of an exclusion one).
 */
export function splitElemMatch(
  projection: Document,
): { rest: Document; elemMatches: ElemMatchField[] } | undefined {
  const fields = Object.keys(projection).filter(
    (field) => isPlainObject(projection[field]) && '$elemMatch' in (projection[field] as Document),
  );
  if (fields.length === 0) return undefined;
  const inclusion = Object.entries(projection).some(
    ([field, value]) => field !== '_id' && !fields.includes(field) && isInclusion(value),
  );
  const exclusion = Object.entries(projection).some(
    ([field, value]) => field !== '_id' && !fields.includes(field) && !isInclusion(value),
  );
  const rest: Document = {};
  const elemMatches: ElemMatchField[] = [];
  for (const [field, value] of Object.entries(projection)) {
    if (!fields.includes(field)) {
      rest[field] = value;
      continue;
    }
    if (field.includes('.')) {
      throw new CommandError('BadValue', 'Cannot use $elemMatch projection on a nested field.');
    }
    const condition = (value as Document).$elemMatch as unknown;
    if (!isPlainObject(condition)) {
      throw new CommandError('BadValue', 'elemMatch: Invalid argument, object required.');
    }
    let query: Query;
    try {
      query = engineQuery({ [field]: { $elemMatch: condition } });
    } catch (error) {
      throw new CommandError('BadValue', (error as Error).message);
    }
    elemMatches.push({ field, query });
    // With nothing else included, `{ f: { $elemMatch } }` is an inclusion projection of f.
    if (inclusion || !exclusion) rest[field] = 1;
  }
  return { rest, elemMatches };
}

function isInclusion(value: unknown): boolean {
  return value === true || (typeof value === 'number' && value !== 0) || isPlainObject(value);
}

/** Sets each `$elemMatch` field of a projected document from its source document. */
export function applyElemMatch(
  source: StoredDocument,
  projected: Document,
  elemMatches: ElemMatchField[],
): Document {
  for (const { field, query } of elemMatches) {
    const array = source[field];
    const match = Array.isArray(array)
      ? array.find((element) => query.test({ [field]: [element] }))
      : undefined;
    if (match === undefined) delete projected[field];
    else projected[field] = [match];
  }
  return projected;
}
