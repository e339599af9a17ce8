import { Long, type Document } from 'bson';
import { CommandError } from '../command-error';
import { numericKind } from './bson-number';
import { compareBson, isPlainObject, toNumber } from './bson-value';
import { formatValue } from './collection-index';
import { cloneDocument } from './document-path';
import { typeLabel } from './mongod-operators';

/*
 * `$push` with modifiers and `$bit`, done by the engine as mongod does them
 * (src/mongo/db/update/push_node.cpp, pattern_cmp.cpp, bit_node.cpp). mingo sorted `$push`
 * arrays with its own order (an array value ranked by its smallest element, types in JS
 * order) and ignored dotted fields in a `$sort` pattern; its `$bit` left Long values and
 * doubles unchanged and refused a Long operand.
 */

const PUSH_CLAUSES = new Set(['$each', '$slice', '$sort', '$position']);

/** An integer clause value as mongod's `parseIntegerElementToLong` accepts it (2.0 is 2). */
function integerClause(value: unknown): number | undefined {
  if (!numericKind(value)) return undefined;
  const number = toNumber(value);
  return Number.isInteger(number) ? number : undefined;
}

type Comparator = (a: unknown, b: unknown) => number;

/** The value at a dotted path of a sort pattern field, null when missing (extractElementsBasedOnTemplate). */
function sortKeyValue(element: unknown, path: string): unknown {
  let value: unknown = element;
  for (const part of path.split('.')) {
    if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, part)) {
      value = value[part];
    } else if (Array.isArray(value) && /^\d+$/.test(part)) {
      value = value[Number(part)];
    } else {
      return null;
    }
  }
  return value === undefined ? null : value;
}

function sortComparator(sort: unknown): Comparator {
  if (isPlainObject(sort)) {
    const fields = Object.entries(sort);
    if (fields.length === 0) {
      throw new CommandError(
        'BadValue',
        'The $sort pattern is empty when it should be a set of fields.',
      );
    }
    for (const [field, direction] of fields) {
      const order = integerClause(direction);
      if (order !== 1 && order !== -1) {
        throw new CommandError('BadValue', 'The $sort element value must be either 1 or -1');
      }
      if (field.split('.').some((part) => part === '')) {
        throw new CommandError(
          'BadValue',
          `The $sort field is a dotted field but has an empty part: ${field}`,
        );
      }
    }
    return (a, b) => {
      for (const [field, direction] of fields) {
        const order = compareBson(sortKeyValue(a, field), sortKeyValue(b, field));
        if (order !== 0) return order * Number(direction);
      }
      return 0;
    };
  }
  if (numericKind(sort)) {
    const direction = toNumber(sort);
    if (direction !== 1 && direction !== -1) {
      throw new CommandError('BadValue', 'The $sort element value must be either 1 or -1');
    }
    return (a, b) => compareBson(a, b) * direction;
  }
  throw new CommandError(
    'BadValue',
    'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields',
  );
}

/** The array after `$push` of `argument` onto `current` (an array or missing). */
export function pushValues(current: unknown[] | undefined, argument: unknown): unknown[] {
  const array = [...(current ?? [])];
  if (!isPlainObject(argument) || !('$each' in argument)) {
    array.push(cloneDocument(argument));
    return array;
  }
  for (const clause of Object.keys(argument)) {
    if (!PUSH_CLAUSES.has(clause)) {
      throw new CommandError('BadValue', `Unrecognized clause in $push: ${clause}`);
    }
  }
  const each = argument.$each;
  if (!Array.isArray(each)) {
    throw new CommandError(
      'BadValue',
      `The argument to $each in $push must be an array but it was of type: ${typeLabel(each)}`,
    );
  }
  let slice: number | undefined;
  if ('$slice' in argument) {
    slice = integerClause(argument.$slice);
    if (slice === undefined) {
      throw new CommandError(
        'BadValue',
        `The value for $slice must be an integer value but was given type: ${typeLabel(argument.$slice)}`,
      );
    }
  }
  const compare = '$sort' in argument ? sortComparator(argument.$sort) : undefined;
  let position = array.length;
  if ('$position' in argument) {
    const requested = integerClause(argument.$position);
    if (requested === undefined) {
      throw new CommandError(
        'BadValue',
        `The value for $position must be an integer value, not of type: ${typeLabel(argument.$position)}`,
      );
    }
    position =
      requested < 0 ? Math.max(0, array.length + requested) : Math.min(requested, array.length);
  }
  array.splice(position, 0, ...each.map((value) => cloneDocument(value)));
  if (compare) array.sort(compare);
  if (slice !== undefined) {
    return slice >= 0 ? array.slice(0, slice) : array.slice(Math.max(0, array.length + slice));
  }
  return array;
}

const BIT_OPERATIONS = ['and', 'or', 'xor'] as const;
type BitOperation = (typeof BIT_OPERATIONS)[number];

/** mongod's `{field: value}` rendering of one `$bit` clause. */
function clauseText(name: string, value: unknown): string {
  return `{${name}: ${formatValue(value)}}`;
}

/**
 * The value after `$bit`: int32 operands and values stay int32, anything with an int64 becomes
 * int64 (mongod's SafeNum); a missing field starts from int32 0.
 */
export function bitValue(
  current: unknown,
  argument: unknown,
  idText: string,
  field: string,
): unknown {
  if (!isPlainObject(argument)) {
    throw new CommandError(
      'BadValue',
      `The $bit modifier is not compatible with a ${typeLabel(argument)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
    );
  }
  const operations: Array<[BitOperation, number | Long]> = [];
  for (const [name, operand] of Object.entries(argument as Document)) {
    if (!(BIT_OPERATIONS as readonly string[]).includes(name)) {
      throw new CommandError(
        'BadValue',
        `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: ${clauseText(name, operand)}`,
      );
    }
    const kind = numericKind(operand);
    if (kind !== 'int' && kind !== 'long') {
      throw new CommandError(
        'BadValue',
        `The $bit modifier field must be an Integer(32/64 bit); a '${typeLabel(operand)}' is not supported here: ${clauseText(name, operand)}`,
      );
    }
    operations.push([name as BitOperation, operand as number | Long]);
  }
  if (operations.length === 0) {
    throw new CommandError(
      'BadValue',
      'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}',
    );
  }
  let value: number | Long = 0;
  if (current !== undefined) {
    const kind = numericKind(current);
    if (kind !== 'int' && kind !== 'long') {
      throw new CommandError(
        'BadValue',
        `Cannot apply $bit to a value of non-integral type.${idText} has the field ${field} of non-integer type ${typeLabel(current)}`,
      );
    }
    value = current as number | Long;
  }
  for (const [name, operand] of operations) {
    if (typeof value === 'number' && typeof operand === 'number') {
      value = name === 'and' ? value & operand : name === 'or' ? value | operand : value ^ operand;
    } else {
      const a = Long.fromValue(value as never);
      const b = Long.fromValue(operand as never);
      value = name === 'and' ? a.and(b) : name === 'or' ? a.or(b) : a.xor(b);
    }
  }
  return value;
}

/**
 * mongod's checks of each `$rename` before it applies (src/mongo/db/update/rename_node.cpp,
 * update_object_node.cpp): the target must be a string and neither path dynamic; renaming
 * from or into an array element is refused (mingo moved `a.0` out and left a null, and
 * renamed nothing from `a.b` through an array), and a source path that runs through an array
 * or a scalar is not viable (28).
 */
export function checkRenames(doc: Document, renames: Document): void {
  const id = `_id: ${formatValue(doc._id)}`;
  for (const [from, to] of Object.entries(renames)) {
    if (typeof to !== 'string') {
      throw new CommandError(
        'BadValue',
        `The 'to' field for $rename must be a string: ${from}: ${formatValue(to)}`,
      );
    }
    if (/(^|\.)\$/.test(from)) {
      throw new CommandError(
        'BadValue',
        `The source field for $rename may not be dynamic: ${from}`,
      );
    }
    if (/(^|\.)\$/.test(to)) {
      throw new CommandError(
        'BadValue',
        `The destination field for $rename may not be dynamic: ${to}`,
      );
    }
    const source = existingChain(doc, from);
    if (source.notViable) {
      const { part, holderName, holder } = source.notViable;
      throw new CommandError(
        'PathNotViable',
        `cannot use the part (${part} of ${from}) to traverse the element ({${holderName}: ${formatValue(holder)}})`,
      );
    }
    if (source.chain.length !== from.split('.').length) continue;
    refuseArrayAncestor('source', from, id, source.chain.slice(0, -1));
    const target = existingChain(doc, to);
    const complete = target.chain.length === to.split('.').length;
    refuseArrayAncestor('destination', to, id, complete ? target.chain.slice(0, -1) : target.chain);
  }
}

/** Renaming from or into an element of an array is refused; the innermost array is named. */
function refuseArrayAncestor(
  side: 'source' | 'destination',
  path: string,
  id: string,
  ancestors: ChainLink[],
): void {
  const array = [...ancestors].reverse().find((link) => Array.isArray(link.value));
  if (array) {
    throw new CommandError(
      'BadValue',
      `The ${side} field cannot be an array element, '${path}' in doc with ${id} has an array field called '${array.name}'`,
    );
  }
}

interface ChainLink {
  name: string;
  value: unknown;
}

/** The elements a dotted path reaches from the root, as far as they exist (mongod's findLongestPrefix). */
function existingChain(
  doc: Document,
  path: string,
): {
  chain: ChainLink[];
  notViable?: { part: string; holderName: string; holder: unknown };
} {
  const chain: ChainLink[] = [];
  let value: unknown = doc;
  for (const part of path.split('.')) {
    let next: unknown;
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(part)) {
        return {
          chain,
          notViable: { part, holderName: chain[chain.length - 1].name, holder: value },
        };
      }
      next = value[Number(part)];
    } else if (isPlainObject(value)) {
      next = Object.prototype.hasOwnProperty.call(value, part) ? value[part] : undefined;
    } else {
      return {
        chain,
        notViable: { part, holderName: chain[chain.length - 1].name, holder: value },
      };
    }
    if (next === undefined) break;
    chain.push({ name: part, value: next });
    value = next;
  }
  return { chain };
}
