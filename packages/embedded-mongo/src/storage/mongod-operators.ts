import type { Document } from 'bson';
import { Aggregator as BaseAggregator } from 'mingo/aggregator';
import { Context, evalExpr } from 'mingo/core';
import { Lazy } from 'mingo/lazy';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { Query as BaseQuery } from 'mingo/query';
import { CommandError } from '../command-error';
import { hasType, numericKind, parseTypeArgument, storedObject } from './bson-number';
import { formatValue } from './collection-index';
import { cloneDocument, parseSortSpec, setPath, sortDocuments } from './document-path';
import {
  bsonRank,
  BsonRank,
  compareBson,
  isPlainObject,
  stringComparator,
  toNumber,
  valueKey,
  type StringComparator,
} from './bson-value';

/*
 * mingo's equality (`isEqual`, and the `HashMap` behind its sets and groups) ignores the order
 * of fields in embedded documents: `{x: 1, y: 1}` equals `{y: 1, x: 1}`. mongod compares BSON,
 * where field order is part of the value, so a filter `{a: {x: 1, y: 1}}` does not match a
 * stored `{a: {y: 1, x: 1}}`, and `$group` keeps the two apart. mingo's ordering (`compare`)
 * sorts fields and arrays before comparing and ranks types in its own order. The operators
 * here replace every mingo operator whose answer depends on equality or ordering with one built
 * on the engine's BSON comparison (`compareBson`, and `valueKey` where a hash is needed), which
 * keeps numeric cross-type equality: 1, 1.0, Long(1) and Decimal128('1') are one value.
 * mingo sees evaluation views (numbers as JS numbers), so these compare views too.
 */

type Any = unknown;
type QueryPredicate = (doc: Document) => boolean;
type Options = Record<string, unknown>;

function equal(a: Any, b: Any): boolean {
  return compareBson(a, b) === 0;
}

/** A path that ends in a missing field (or runs into a scalar): matched by `null`. */
const MISSING = Symbol('missing');
type PathValue = Any | typeof MISSING;

/**
 * The values a dotted path reaches in a document, as mongod's path traversal finds them: a
 * field missing from a document (or a path running into a scalar) is MISSING; an array on
 * the way is entered element by element (only embedded documents go on; a numeric part also
 * picks that element). mingo's `resolve` dropped missing fields inside arrays, so
 * `{'a.b': null}` did not match `{a: [{b: 1}, {c: 1}]}`, and it descended arrays of arrays,
 * so `{'a.b': {$size: 2}}` matched `{a: [[1, 2]]}`.
 */
function pathValues(value: Any, parts: string[], index: number, out: PathValue[]): void {
  if (index === parts.length) {
    out.push(value);
    return;
  }
  const part = parts[index];
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part)) {
      const position = Number(part);
      if (position < value.length) pathValues(value[position], parts, index + 1, out);
      else out.push(MISSING);
    }
    for (const element of value) {
      if (isPlainObject(element)) pathValues(element, parts, index, out);
    }
    return;
  }
  if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, part)) {
    pathValues(value[part], parts, index + 1, out);
    return;
  }
  out.push(MISSING);
}

/**
 * What a leaf value offers to a comparison: the value itself and, when it is an array, each
 * element (mongod matches `{a: 1}` against `a: [1, 2]` and `{a: [1, 2]}` against the whole
 * array or an element that is that array).
 */
function candidates(value: Any): Any[] {
  return Array.isArray(value) ? [value, ...value] : [value];
}

function isNil(value: Any): boolean {
  return value === null || value === undefined;
}

/** `{f: null}`: a missing field, a null, or an array holding null. */
function matchesNull(values: PathValue[]): boolean {
  return values.some(
    (value) => value === MISSING || isNil(value) || (Array.isArray(value) && value.some(isNil)),
  );
}

function present(values: PathValue[]): Any[] {
  return values.filter((value) => value !== MISSING);
}

function eqPredicate(values: PathValue[], rhs: Any): boolean {
  if (isNil(rhs)) return matchesNull(values);
  return present(values).some((value) =>
    candidates(value).some((candidate) => equal(candidate, rhs)),
  );
}

function inPredicate(values: PathValue[], rhs: Any[]): boolean {
  const keys = new Set<string>();
  const patterns: RegExp[] = [];
  for (const value of rhs) {
    if (value instanceof RegExp) patterns.push(value);
    else if (isNil(value)) {
      if (matchesNull(values)) return true;
    } else keys.add(valueKey(value));
  }
  return present(values).some((value) =>
    candidates(value).some(
      (candidate) =>
        keys.has(valueKey(candidate)) ||
        (typeof candidate === 'string' && patterns.some((pattern) => pattern.test(candidate))),
    ),
  );
}

/**
 * `$gt`, `$gte`, `$lt`, `$lte` in BSON order: only values of the operand's type bracket
 * (numbers with numbers, strings with strings, ...) compare, strings by UTF-8 bytes or by the
 * collation; `$gte: null`/`$lte: null` match what `null` matches. mingo compared strings in
 * UTF-16 order and sorted the fields of documents before comparing them.
 */
function rangePredicate(test: (order: number) => boolean, inclusive: boolean) {
  return (values: PathValue[], rhs: Any, strings: StringComparator): boolean => {
    if (isNil(rhs)) return inclusive && matchesNull(values);
    const rank = bsonRank(rhs);
    const anyRank = rank === BsonRank.MinKey || rank === BsonRank.MaxKey;
    return present(values).some((value) =>
      candidates(value).some(
        (candidate) =>
          (anyRank || bsonRank(candidate) === rank) &&
          !isNil(candidate) &&
          test(compareBson(candidate, rhs, strings)),
      ),
    );
  };
}

/** mingo's query-operator shape: compiled once per filter, then run on each document. */
function pathOperator(
  predicate: (values: PathValue[], rhs: Any, strings: StringComparator) => boolean,
): (selector: string, value: Any, options: Options) => QueryPredicate {
  return (selector, value, options) => {
    const parts = selector.split('.');
    const collation = (options as { collation?: Record<string, unknown> }).collation;
    const strings = stringComparator(collation);
    return (doc) => {
      const values: PathValue[] = [];
      pathValues(doc, parts, 0, values);
      return predicate(values, value, strings);
    };
  };
}

/**
 * Every value a path reaches for `$type`: the values themselves and, when one is an array,
 * its elements (mongod's `$type` looks into arrays; `'array'` matches the array itself).
 */
function typeCandidates(value: unknown, parts: string[], out: unknown[]): void {
  if (parts.length === 0) {
    if (value === undefined) return;
    out.push(value);
    if (Array.isArray(value)) out.push(...value);
    return;
  }
  if (Array.isArray(value)) {
    const [head] = parts;
    if (/^\d+$/.test(head)) typeCandidates(value[Number(head)], parts.slice(1), out);
    for (const element of value) if (isPlainObject(element)) typeCandidates(element, parts, out);
    return;
  }
  if (isPlainObject(value)) typeCandidates(value[parts[0]], parts.slice(1), out);
}

/**
 * mingo's `$type` sees the evaluation view (where every number is a JS number), has no
 * `objectId`, and takes 'int'/'long' for "any integer". This one reads the stored document
 * behind the view, so int32, int64, double and decimal are told apart as on mongod.
 */
function typeOperator(selector: string, value: unknown): QueryPredicate {
  const types = parseTypeArgument(value);
  const parts = selector.split('.');
  return (obj) => {
    const found: unknown[] = [];
    typeCandidates(storedObject(obj), parts, found);
    return found.some((candidate) => hasType(candidate, types));
  };
}

export const queryOverrides = {
  $type: typeOperator,
  $eq: pathOperator(eqPredicate),
  $ne: pathOperator((values, rhs) => !eqPredicate(values, rhs)),
  $in: pathOperator((values, rhs) => inPredicate(values, rhs as Any[])),
  $nin: pathOperator((values, rhs) => !inPredicate(values, rhs as Any[])),
  $gt: pathOperator(rangePredicate((order) => order > 0, false)),
  $gte: pathOperator(rangePredicate((order) => order >= 0, true)),
  $lt: pathOperator(rangePredicate((order) => order < 0, false)),
  $lte: pathOperator(rangePredicate((order) => order <= 0, true)),
  /** The array itself at the path (not its elements, not arrays inside arrays) has the size. */
  $size: pathOperator((values, rhs) =>
    present(values).some((value) => Array.isArray(value) && value.length === rhs),
  ),
};

/**
 * Aggregation comparisons compare whole values in BSON order (mingo's `$eq` expression also
 * looked inside arrays, and its `$gt`/`$cmp` sorted arrays and fields first). A missing value
 * sorts after MinKey and before null, as in mongod's `Value::compare`.
 */
function compareValues(a: Any, b: Any): number {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    const other = a === undefined ? b : a;
    const missingFirst = bsonRank(other) === BsonRank.MinKey ? 1 : -1;
    return a === undefined ? missingFirst : -missingFirst;
  }
  return compareBson(a, b);
}

/** mongod's name of a value's type in error messages. */
export function typeLabel(value: Any): string {
  if (value === undefined) return 'missing';
  const kind = numericKind(value);
  if (kind) return kind;
  const names: Partial<Record<BsonRank, string>> = {
    [BsonRank.Null]: 'null',
    [BsonRank.String]: 'string',
    [BsonRank.Object]: 'object',
    [BsonRank.Array]: 'array',
    [BsonRank.Boolean]: 'bool',
    [BsonRank.Date]: 'date',
    [BsonRank.ObjectId]: 'objectId',
    [BsonRank.BinData]: 'binData',
    [BsonRank.RegExp]: 'regex',
    [BsonRank.Timestamp]: 'timestamp',
  };
  return names[bsonRank(value)] ?? 'object';
}

type ExpressionOperator = (obj: Any, expr: Any, options: Options) => Any;

function twoArguments(name: string, obj: Any, expr: Any, options: Options): [Any, Any] {
  if (!Array.isArray(expr) || expr.length !== 2) {
    throw new CommandError(
      'Location16020',
      `Expression ${name} takes exactly 2 arguments. ${Array.isArray(expr) ? expr.length : 1} were passed in.`,
    );
  }
  return evalExpr(obj, expr, options as never) as [Any, Any];
}

function comparison(name: string, test: (order: number) => Any): ExpressionOperator {
  return (obj, expr, options) => {
    const [a, b] = twoArguments(name, obj, expr, options);
    return test(compareValues(a, b));
  };
}

/** Values without repeats under BSON equality, first occurrence kept. */
function distinctValues(values: Any[]): Any[] {
  const seen = new Set<string>();
  const out: Any[] = [];
  for (const value of values) {
    const key = valueKey(value);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(value);
  }
  return out;
}

function keySet(values: Any[]): Set<string> {
  return new Set(values.map((value) => valueKey(value)));
}

type SetErrorCode = 'Location17043' | 'Location17044' | 'Location17047';

/** The operands of `$setUnion`, `$setIntersection`, `$setEquals` (null when one is null or missing). */
function setArguments(
  name: string,
  code: SetErrorCode,
  obj: Any,
  expr: Any,
  options: Options,
): Any[][] | null {
  const args = evalExpr(obj, expr, options as never) as Any;
  const list = Array.isArray(expr) ? (args as Any[]) : [args];
  if (name !== '$setEquals' && list.some(isNil)) return null;
  const wrong = list.find((value) => !Array.isArray(value));
  if (wrong !== undefined || list.some((value) => value === undefined)) {
    throw new CommandError(
      code,
      `All operands of ${name} must be arrays. One argument is of type: ${typeLabel(wrong)}`,
    );
  }
  return list as Any[][];
}

/** The two operands of `$setDifference` and `$setIsSubset`, each refused with its own code. */
function twoSets(
  name: string,
  codes: ['Location17048' | 'Location17046', 'Location17049' | 'Location17310'],
  obj: Any,
  expr: Any,
  options: Options,
  nullable: boolean,
): [Any[], Any[]] | null {
  const [first, second] = twoArguments(name, obj, expr, options);
  if (nullable && (isNil(first) || isNil(second))) return null;
  if (!Array.isArray(first)) {
    throw new CommandError(
      codes[0],
      `both operands of ${name} must be arrays. First argument is of type: ${typeLabel(first)}`,
    );
  }
  if (!Array.isArray(second)) {
    throw new CommandError(
      codes[1],
      `both operands of ${name} must be arrays. Second argument is of type: ${typeLabel(second)}`,
    );
  }
  return [first, second];
}

export const expressionOverrides: Record<string, ExpressionOperator> = {
  $eq: comparison('$eq', (order) => order === 0),
  $ne: comparison('$ne', (order) => order !== 0),
  $gt: comparison('$gt', (order) => order > 0),
  $gte: comparison('$gte', (order) => order >= 0),
  $lt: comparison('$lt', (order) => order < 0),
  $lte: comparison('$lte', (order) => order <= 0),
  $cmp: comparison('$cmp', (order) => Math.sign(order)),
  $in: (obj, expr, options) => {
    const [item, array] = twoArguments('$in', obj, expr, options);
    if (!Array.isArray(array)) {
      throw new CommandError(
        'Location40081',
        `$in requires an array as a second argument, found: ${typeLabel(array)}`,
      );
    }
    return array.some((value) => equal(value, item));
  },
  $indexOfArray: (obj, expr, options) => {
    if (!Array.isArray(expr) || expr.length < 2 || expr.length > 4) {
      throw new CommandError(
        'Location28667',
        `Expression $indexOfArray takes at least 2 arguments, and at most 4, but ${Array.isArray(expr) ? expr.length : 1} were passed in.`,
      );
    }
    const [array, search, start, end] = evalExpr(obj, expr, options as never) as Any[];
    if (isNil(array)) return null;
    if (!Array.isArray(array)) {
      throw new CommandError(
        'Location40090',
        `$indexOfArray requires an array as a first argument, found: ${typeLabel(array)}`,
      );
    }
    const from = start === undefined ? 0 : Number(start);
    const to = end === undefined ? array.length : Number(end);
    if (!Number.isInteger(from) || from < 0) {
      throw new CommandError(
        'Location40097',
        `$indexOfArray requires an integral starting index, found a value of type: ${typeLabel(start)}, with value: ${String(start)}`,
      );
    }
    if (!Number.isInteger(to) || to < 0) {
      throw new CommandError(
        'Location40097',
        `$indexOfArray requires an integral ending index, found a value of type: ${typeLabel(end)}, with value: ${String(end)}`,
      );
    }
    for (let i = from; i < Math.min(to, array.length); i++) if (equal(array[i], search)) return i;
    return -1;
  },
  $setUnion: (obj, expr, options) => {
    const sets = setArguments('$setUnion', 'Location17043', obj, expr, options);
    return sets && distinctValues(sets.flat());
  },
  $setIntersection: (obj, expr, options) => {
    const sets = setArguments('$setIntersection', 'Location17047', obj, expr, options);
    if (!sets) return null;
    if (sets.length === 0) return [];
    const others = sets.slice(1).map(keySet);
    return distinctValues(sets[0]).filter((value) =>
      others.every((set) => set.has(valueKey(value))),
    );
  },
  $setDifference: (obj, expr, options) => {
    const sets = twoSets(
      '$setDifference',
      ['Location17048', 'Location17049'],
      obj,
      expr,
      options,
      true,
    );
    if (!sets) return null;
    const removed = keySet(sets[1]);
    return distinctValues(sets[0]).filter((value) => !removed.has(valueKey(value)));
  },
  $setEquals: (obj, expr, options) => {
    if (!Array.isArray(expr) || expr.length < 2) {
      throw new CommandError(
        'Location17045',
        `$setEquals needs at least two arguments had: ${Array.isArray(expr) ? expr.length : 1}`,
      );
    }
    const sets = setArguments('$setEquals', 'Location17044', obj, expr, options) ?? [];
    const first = keySet(sets[0]);
    return sets.every((set) => {
      const keys = keySet(set);
      return keys.size === first.size && [...keys].every((key) => first.has(key));
    });
  },
  $setIsSubset: (obj, expr, options) => {
    const sets = twoSets(
      '$setIsSubset',
      ['Location17046', 'Location17310'],
      obj,
      expr,
      options,
      false,
    );
    const superset = keySet(sets?.[1] ?? []);
    return (sets?.[0] ?? []).every((value) => superset.has(valueKey(value)));
  },
  /** `$group`'s key as a string that is equal exactly when mongod's group keys are equal. */
  $_engineGroupKey: (obj, expr, options) => valueKey(evalExpr(obj, expr, options as never) ?? null),
};

type AccumulatorOperator = (collection: Any[], expr: Any, options: Options) => Any;
const mingoAccumulators = accumulatorOperators as unknown as Record<string, AccumulatorOperator>;

/** `$max`/`$min` (accumulators, and expressions, which mingo runs through them): BSON order, nulls skipped. */
function extreme(sign: 1 | -1): AccumulatorOperator {
  return (collection, expr, options) => {
    let best: Any = null;
    for (const value of mingoAccumulators.$push(collection, expr, options) as Any[]) {
      if (isNil(value)) continue;
      if (best === null || compareBson(value, best) * sign > 0) best = value;
    }
    return best;
  };
}

export const accumulatorOverrides: Record<string, AccumulatorOperator> = {
  $addToSet: (collection, expr, options) =>
    distinctValues(mingoAccumulators.$push(collection, expr, options) as Any[]),
  $max: extreme(1),
  $min: extreme(-1),
};

type LazyIterator = ReturnType<typeof Lazy>;
type PipelineOperator = (collection: LazyIterator, expr: Any, options: Options) => LazyIterator;
const mingoPipeline = pipelineOperators as unknown as Record<string, PipelineOperator>;

/** A field name no stage can produce, holding a group's key value while mingo groups by its hash. */
const GROUP_VALUE = '\u0000engineGroupValue';

/**
 * mingo groups by its order-insensitive hash; grouping instead by `valueKey` of the key (a
 * string, which mingo compares exactly) and restoring the key's value from the group's first
 * document gives mongod's groups, and the same `_id` mongod reports.
 */
const group: PipelineOperator = (collection, expr, options) => {
  if (!isPlainObject(expr) || !('_id' in expr)) {
    return mingoPipeline.$group(collection, expr, options);
  }
  const { _id: id, ...fields } = expr;
  const grouped = mingoPipeline.$group(
    collection,
    { _id: { $_engineGroupKey: id }, [GROUP_VALUE]: { $first: id }, ...fields },
    options,
  );
  return grouped.map((doc: Document) => {
    const { _id: _key, [GROUP_VALUE]: value, ...rest } = doc;
    return { _id: value ?? null, ...rest };
  });
};

function sortedBy(collection: LazyIterator, compare: (a: Document, b: Document) => number) {
  return collection.transform((items: Any[]) => Lazy((items as Document[]).slice().sort(compare)));
}

/**
 * `$bucket` as mongod defines it (DocumentSourceBucket desugars it): a `$group` on the bucket's
 * lower bound, or `default`, then a sort by `_id`; only buckets holding documents are output
 * (mingo also output empty ones), bounds compare in BSON order, and a value out of range with
 * no `default` is an error.
 */
const bucket: PipelineOperator = (collection, expr, options) => {
  if (!isPlainObject(expr)) {
    throw new CommandError(
      'Location40201',
      `Argument to $bucket stage must be an object, but found type: ${typeLabel(expr)}.`,
    );
  }
  for (const key of Object.keys(expr)) {
    if (!['groupBy', 'boundaries', 'default', 'output'].includes(key)) {
      throw new CommandError('Location40197', `Unrecognized option to $bucket: ${key}.`);
    }
  }
  const { groupBy, boundaries, output } = expr;
  if (groupBy === undefined || boundaries === undefined) {
    throw new CommandError(
      'Location40198',
      "$bucket requires 'groupBy' and 'boundaries' to be specified.",
    );
  }
  if (!Array.isArray(boundaries) || boundaries.length < 2) {
    throw new CommandError(
      'Location40192',
      `The $bucket 'boundaries' field must be an array with at least 2 values, but found ${Array.isArray(boundaries) ? boundaries.length : 0} value(s).`,
    );
  }
  for (let i = 1; i < boundaries.length; i++) {
    const [lower, upper] = [boundaries[i - 1], boundaries[i]];
    if (bsonRank(lower) !== bsonRank(upper)) {
      throw new CommandError(
        'Location40193',
        `All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types ${typeLabel(lower)} and ${typeLabel(upper)}.`,
      );
    }
    if (compareBson(lower, upper) >= 0) {
      throw new CommandError(
        'Location40194',
        `The 'boundaries' option to $bucket must be sorted in ascending order, but elements ${i - 1} and ${i} are not in ascending order (${formatValue(lower)} is not less than ${formatValue(upper)}).`,
      );
    }
  }
  const hasDefault = 'default' in expr;
  const fallback = expr.default;
  if (
    hasDefault &&
    bsonRank(fallback) === bsonRank(boundaries[0]) &&
    compareBson(fallback, boundaries[0]) >= 0 &&
    compareBson(fallback, boundaries[boundaries.length - 1]) < 0
  ) {
    throw new CommandError(
      'Location40199',
      "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.",
    );
  }
  const branches = boundaries.slice(0, -1).map((lower, i) => ({
    case: {
      $and: [
        { $gte: [groupBy, { $literal: lower }] },
        { $lt: [groupBy, { $literal: boundaries[i + 1] }] },
      ],
    },
    then: { $literal: lower },
  }));
  const key = hasDefault
    ? { $switch: { branches, default: { $literal: fallback } } }
    : { $switch: { branches } };
  const fields = isPlainObject(output) ? output : { count: { $sum: 1 } };
  return sortedBy(group(collection, { _id: key, ...fields }, options), (a, b) =>
    compareBson(a._id, b._id),
  );
};

/**
 * `$lookup` with `localField`/`foreignField` matches as mongod's `{foreignField: {$in: local
 * values}}` does: BSON equality (mingo's hash ignored field order), a local array matching by
 * its elements, a missing local field as null. The foreign documents are indexed once.
 */
const lookup: PipelineOperator = (collection, expr, options) => {
  if (
    !isPlainObject(expr) ||
    typeof expr.localField !== 'string' ||
    typeof expr.foreignField !== 'string' ||
    typeof expr.from !== 'string'
  ) {
    return mingoPipeline.$lookup(collection, expr, options);
  }
  const { localField, foreignField, from, as, pipeline, ...rest } = expr;
  const resolver = (options as { collectionResolver?: (name: string) => Document[] })
    .collectionResolver;
  const foreign = resolver?.(from) ?? [];
  const byKey = new Map<string, number[]>();
  const nullish: number[] = [];
  const foreignParts = foreignField.split('.');
  foreign.forEach((doc, position) => {
    const values: PathValue[] = [];
    pathValues(doc, foreignParts, 0, values);
    if (matchesNull(values)) nullish.push(position);
    const keys = new Set<string>();
    for (const value of present(values)) {
      for (const candidate of candidates(value)) keys.add(valueKey(candidate));
    }
    for (const key of keys) {
      const list = byKey.get(key);
      if (list) list.push(position);
      else byKey.set(key, [position]);
    }
  });
  const localParts = localField.split('.');
  const matchesOf = (doc: Document): Document[] => {
    const values: PathValue[] = [];
    pathValues(doc, localParts, 0, values);
    const positions = new Set<number>();
    for (const value of values) {
      const locals = value === MISSING ? [null] : Array.isArray(value) ? value : [value];
      for (const local of locals) {
        for (const position of isNil(local) ? nullish : (byKey.get(valueKey(local)) ?? [])) {
          positions.add(position);
        }
      }
    }
    return [...positions].sort((a, b) => a - b).map((position) => foreign[position]);
  };
  const asField = String(as);
  if (!Array.isArray(pipeline) || pipeline.length === 0) {
    return collection.map((doc: Document) => withField(doc, asField, matchesOf(doc)));
  }
  return collection.map((doc: Document) => {
    const joined = mingoPipeline.$lookup(
      Lazy([doc]),
      { ...rest, from: matchesOf(doc), pipeline, as: asField },
      options,
    );
    return joined.next().value as Document;
  });
};

function withField(doc: Document, path: string, value: Any): Document {
  if (!path.includes('.')) return { ...doc, [path]: value };
  const copy = cloneDocument(doc);
  setPath(copy, path, value);
  return copy;
}

/**
 * mongod's `$project` output order: `_id` first, then the included fields in the order of
 * the input document, then computed fields in the order of the specification (mingo put
 * fields in specification order and `_id` last). Nested inclusions are ordered the same way.
 */
function projectionTree(spec: Document): Document {
  const tree: Document = {};
  for (const [path, value] of Object.entries(spec)) {
    const parts = path.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainObject(node[part])) node[part] = {};
      node = node[part] as Document;
    }
    const last = parts[parts.length - 1];
    node[last] =
      isPlainObject(value) && !Object.keys(value).some((key) => key.startsWith('$'))
        ? {
            ...(isPlainObject(node[last]) ? (node[last] as Document) : {}),
            ...projectionTree(value),
          }
        : value;
  }
  return tree;
}

function isInclusion(value: Any): boolean {
  return (
    value === true ||
    (typeof value === 'number' && value !== 0) ||
    bsonRank(value) === BsonRank.Number
  );
}

function inProjectionOrder(output: Any, input: Any, tree: Document): Any {
  if (Array.isArray(output) && Array.isArray(input) && output.length === input.length) {
    return output.map((element, i) => inProjectionOrder(element, input[i], tree));
  }
  if (!isPlainObject(output) || !isPlainObject(input)) return output;
  const ordered: Document = {};
  if ('_id' in output) ordered._id = output._id;
  for (const key of Object.keys(input)) {
    if (key === '_id' || !(key in output)) continue;
    const spec = tree[key];
    if (isPlainObject(spec) && !Object.keys(spec).some((k) => k.startsWith('$'))) {
      ordered[key] = inProjectionOrder(output[key], input[key], spec);
    } else if (isInclusion(spec)) {
      ordered[key] = output[key];
    }
  }
  for (const key of Object.keys(tree)) {
    if (key in output && !(key in ordered)) ordered[key] = output[key];
  }
  for (const key of Object.keys(output)) if (!(key in ordered)) ordered[key] = output[key];
  return ordered;
}

function isExclusionOnly(spec: Document): boolean {
  return Object.entries(spec).every(
    ([key, value]) => value === false || value === 0 || (key === '_id' && !isInclusion(value)),
  );
}

const project: PipelineOperator = (collection, expr, options) => {
  if (!isPlainObject(expr) || isExclusionOnly(expr)) {
    return mingoPipeline.$project(collection, expr, options);
  }
  const tree = projectionTree(expr);
  const inputs: Document[] = [];
  const tapped = collection.map((doc: Document) => {
    inputs.push(doc);
    return doc;
  });
  return mingoPipeline
    .$project(tapped, expr, options)
    .map((doc: Document) => inProjectionOrder(doc, inputs.shift(), tree) as Document);
};

/**
 * The count of `$skip` or `$limit` as mongod parses it (parseIntegerElementToNonNegativeLong):
 * an integral number (2.0 is 2), not negative, and for `$limit` not zero. mingo sliced with
 * whatever it got, so `$skip: -1` returned the last document and `$limit: -1` all but one.
 */
export function stageCount(stage: '$skip' | '$limit', value: Any): number {
  const code = stage === '$skip' ? 'Location15956' : 'Location15958';
  const shown = `${stage}: ${formatValue(value)}`;
  let reason: string | undefined;
  if (!numericKind(value)) reason = `Expected a number in: ${shown}`;
  else if (!Number.isInteger(toNumber(value))) reason = `Expected an integer: ${shown}`;
  else if (toNumber(value) < 0) reason = `Expected a non-negative number in: ${shown}`;
  if (reason) throw new CommandError(code, `invalid argument to ${stage} stage: ${reason}`);
  const count = toNumber(value);
  if (stage === '$limit' && count === 0) {
    throw new CommandError(code, 'the limit must be positive');
  }
  return count;
}

/**
 * `$sample` as mongod does it: `size` distinct documents (all of them, shuffled, when there
 * are fewer). mingo drew with replacement, so documents repeated, and looped forever (until
 * the process ran out of memory) on a negative or fractional size.
 */
const sample: PipelineOperator = (collection, expr) => {
  if (!isPlainObject(expr)) {
    throw new CommandError('Location28745', 'the $sample stage specification must be an object');
  }
  for (const key of Object.keys(expr)) {
    if (key !== 'size') {
      throw new CommandError('Location28748', `unrecognized option to $sample: ${key}`);
    }
  }
  if (!('size' in expr)) {
    throw new CommandError('Location28749', '$sample stage must specify a size');
  }
  if (!numericKind(expr.size)) {
    throw new CommandError('Location28746', 'size argument to $sample must be a number');
  }
  const size = Math.trunc(toNumber(expr.size));
  if (size < 0) {
    throw new CommandError('Location28747', 'size argument to $sample must not be negative');
  }
  return collection.transform((items: Any[]) => {
    const pool = items.slice();
    const count = Math.min(size, pool.length);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return Lazy(pool.slice(0, count));
  });
};

/** `$unwind`'s path must be a `$`-prefixed string (mingo unwound nothing for `'a'`). */
const unwind: PipelineOperator = (collection, expr, options) => {
  const path = isPlainObject(expr) ? expr.path : expr;
  if (typeof path !== 'string') {
    throw new CommandError(
      'Location28808',
      `expected a string as the path for $unwind stage, got ${typeLabel(path)}`,
    );
  }
  if (!path.startsWith('$')) {
    throw new CommandError(
      'Location28818',
      `path option to $unwind stage should be prefixed with a '$': ${path}`,
    );
  }
  return mingoPipeline.$unwind(collection, expr, options);
};

export const pipelineOverrides: Record<string, PipelineOperator> = {
  $unwind: unwind,
  $sample: sample,
  $skip: (collection, expr) => collection.drop(stageCount('$skip', expr)),
  $limit: (collection, expr) => collection.take(stageCount('$limit', expr)),
  $group: group,
  $bucket: bucket,
  $lookup: lookup,
  $project: project,
  /** mongod's desugaring: `$group` by the expression counting, then `count` descending. */
  $sortByCount: (collection, expr, options) =>
    sortedBy(group(collection, { _id: expr, count: { $sum: 1 } }, options), (a, b) =>
      compareBson(b.count, a.count),
    ),
  /** Inside `$facet` and `$lookup` pipelines too, sorts are mongod's (the engine's own sort). */
  $sort: (collection, expr, options) => {
    if (!isPlainObject(expr) || Object.values(expr).some((direction) => isPlainObject(direction))) {
      return mingoPipeline.$sort(collection, expr, options);
    }
    const collation = (options as { collation?: Record<string, unknown> }).collation;
    return collection.transform((items: Any[]) =>
      Lazy(sortDocuments(items as Document[], parseSortSpec(expr), collation)),
    );
  },
};

export const ENGINE_CONTEXT = Context.init({
  accumulator: { ...accumulatorOperators, ...accumulatorOverrides } as never,
  expression: { ...expressionOperators, ...expressionOverrides } as never,
  pipeline: { ...pipelineOperators, ...pipelineOverrides } as never,
  projection: projectionOperators as never,
  query: { ...queryOperators, ...queryOverrides } as never,
  window: windowOperators as never,
});

type QueryOptions = ConstructorParameters<typeof BaseQuery>[1];
type AggregatorOptions = ConstructorParameters<typeof BaseAggregator>[1];

/** mingo's Query with the engine's operators (mingo's own `Query` would keep its defaults first). */
export function engineQuery(condition: Document, options: QueryOptions = {}): BaseQuery {
  return new BaseQuery(condition, { ...options, context: ENGINE_CONTEXT });
}

export function engineAggregator(
  pipeline: Document[],
  options: AggregatorOptions = {},
): BaseAggregator {
  return new BaseAggregator(pipeline, { ...options, context: ENGINE_CONTEXT });
}
