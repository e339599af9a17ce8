import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Document } from 'bson';
import type { Query } from 'mingo/query';
import { engineQuery } from './mongod-operators';
import { CommandError } from '../command-error';
import { bsonTypeName, isPlainObject } from './bson-value';
import type { StoredDocument } from './document-path';

const LEVELS = ['off', 'strict', 'moderate'];
const ACTIONS = ['error', 'warn'];

/** The keywords mongod's `$jsonSchema` accepts (draft 4 plus `bsonType`, without `$ref` and `format`). */
const KEYWORDS = new Set([
  'additionalItems',
  'additionalProperties',
  'allOf',
  'anyOf',
  'bsonType',
  'dependencies',
  'description',
  'enum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'items',
  'maximum',
  'maxItems',
  'maxLength',
  'maxProperties',
  'minimum',
  'minItems',
  'minLength',
  'minProperties',
  'multipleOf',
  'not',
  'oneOf',
  'pattern',
  'patternProperties',
  'properties',
  'required',
  'title',
  'type',
  'uniqueItems',
]);
const UNSUPPORTED_KEYWORDS = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);
const JSON_TYPES: Record<string, string[]> = {
  object: ['object'],
  array: ['array'],
  number: ['number'],
  boolean: ['bool'],
  string: ['string'],
  null: ['null'],
};
const NUMBER_TYPES = ['double', 'int', 'long', 'decimal'];
const BSON_TYPES = new Set([
  'double',
  'string',
  'object',
  'array',
  'binData',
  'undefined',
  'objectId',
  'bool',
  'date',
  'null',
  'regex',
  'dbPointer',
  'javascript',
  'symbol',
  'javascriptWithScope',
  'int',
  'timestamp',
  'long',
  'decimal',
  'minKey',
  'maxKey',
  'number',
]);

/**
 * Whether a value is of a BSON type alias. The engine holds doubles and 32-bit integers alike
 * as JS numbers (bson's default decoding), so `double` accepts any number and `int` any
 * integral number within 32 bits.
 */
function hasBsonType(value: unknown, alias: string): boolean {
  switch (alias) {
    case 'number':
      return NUMBER_TYPES.some((type) => hasBsonType(value, type));
    case 'double':
      return typeof value === 'number' || bsonTypeName(value) === 'Double';
    case 'int':
      return (
        (typeof value === 'number' && Number.isInteger(value) && value === (value | 0)) ||
        bsonTypeName(value) === 'Int32'
      );
    case 'long':
      return typeof value === 'bigint' || bsonTypeName(value) === 'Long';
    case 'decimal':
      return bsonTypeName(value) === 'Decimal128';
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'undefined':
      return value === undefined;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    case 'date':
      return value instanceof Date;
    case 'regex':
      return value instanceof RegExp || bsonTypeName(value) === 'BSONRegExp';
    case 'objectId':
      return bsonTypeName(value) === 'ObjectId';
    case 'binData':
      return bsonTypeName(value) === 'Binary';
    case 'timestamp':
      return bsonTypeName(value) === 'Timestamp';
    case 'javascript':
      return bsonTypeName(value) === 'Code';
    case 'symbol':
      return bsonTypeName(value) === 'BSONSymbol';
    case 'minKey':
      return bsonTypeName(value) === 'MinKey';
    case 'maxKey':
      return bsonTypeName(value) === 'MaxKey';
  }
  return false;
}

function schemaError(message: string): CommandError {
  return new CommandError('FailedToParse', message);
}

function typeList(keyword: string, value: unknown, known: (alias: string) => boolean): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((alias) => typeof alias === 'string')) {
    throw schemaError(`$jsonSchema keyword '${keyword}' must be a string or an array of strings`);
  }
  for (const alias of list as string[]) {
    if (!known(alias)) throw new CommandError('BadValue', `Unknown type name alias: ${alias}`);
  }
  return list as string[];
}

/**
 * Checks a `$jsonSchema` against mongod's rules and turns it into the draft-07 schema ajv
 * runs: `type` and `bsonType` become one `bsonType` keyword checked on BSON values (so an
 * ObjectId or a Date is not a JSON `object`), and draft 4's boolean `exclusiveMinimum` /
 * `exclusiveMaximum` become draft 7's numbers.
 */
function toAjvSchema(schema: unknown): Document {
  if (!isPlainObject(schema)) throw schemaError('$jsonSchema must be an object');
  const out: Document = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (UNSUPPORTED_KEYWORDS.has(keyword)) {
      throw schemaError(`$jsonSchema keyword '${keyword}' is not currently supported`);
    }
    if (!KEYWORDS.has(keyword)) throw schemaError(`Unknown $jsonSchema keyword: ${keyword}`);
    switch (keyword) {
      case 'type':
        if ('bsonType' in schema) {
          throw schemaError("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
        }
        out.bsonType = typeList(keyword, value, (alias) => alias in JSON_TYPES).flatMap(
          (alias) => JSON_TYPES[alias],
        );
        break;
      case 'bsonType':
        out.bsonType = typeList(keyword, value, (alias) => BSON_TYPES.has(alias));
        break;
      case 'exclusiveMaximum':
      case 'exclusiveMinimum': {
        const bound = keyword === 'exclusiveMaximum' ? 'maximum' : 'minimum';
        if (typeof value !== 'boolean') {
          throw schemaError(`$jsonSchema keyword '${keyword}' must be a boolean`);
        }
        if (!(bound in schema)) {
          throw schemaError(
            `$jsonSchema keyword '${bound}' must be a present if ${keyword} is present`,
          );
        }
        if (value) out[keyword] = schema[bound];
        break;
      }
      case 'maximum':
      case 'minimum': {
        const exclusive = keyword === 'maximum' ? 'exclusiveMaximum' : 'exclusiveMinimum';
        if (schema[exclusive] !== true) out[keyword] = value;
        break;
      }
      case 'properties':
      case 'patternProperties':
        out[keyword] = mapValues(keyword, value, toAjvSchema);
        break;
      case 'dependencies':
        out[keyword] = mapValues(keyword, value, (dependency) =>
          Array.isArray(dependency) ? dependency : toAjvSchema(dependency),
        );
        break;
      case 'items':
        out[keyword] = Array.isArray(value) ? value.map(toAjvSchema) : toAjvSchema(value);
        break;
      case 'additionalItems':
      case 'additionalProperties':
        out[keyword] = typeof value === 'boolean' ? value : toAjvSchema(value);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (!Array.isArray(value) || value.length === 0) {
          throw schemaError(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
        }
        out[keyword] = value.map(toAjvSchema);
        break;
      case 'not':
        out[keyword] = toAjvSchema(value);
        break;
      default:
        out[keyword] = value;
    }
  }
  return out;
}

function mapValues(keyword: string, value: unknown, map: (v: unknown) => unknown): Document {
  if (!isPlainObject(value))
    throw schemaError(`$jsonSchema keyword '${keyword}' must be an object`);
  const out: Document = {};
  for (const [key, entry] of Object.entries(value)) out[key] = map(entry);
  return out;
}

let ajv: Ajv | undefined;

/** One ajv instance for the process, with mongod's `bsonType` keyword. */
function schemaCompiler(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    ajv.addKeyword({
      keyword: 'bsonType',
      errors: false,
      validate: (aliases: string[], data: unknown) =>
        aliases.some((alias) => hasBsonType(data, alias)),
    });
  }
  return ajv;
}

/** ajv's reasons, in the spirit of mongod's `schemaRulesNotSatisfied` (not its exact shape). */
function rulesNotSatisfied(errors: ErrorObject[] | null | undefined): Document[] {
  return (errors ?? []).map((error) => ({
    operatorName: error.keyword,
    path: error.instancePath,
    reason: error.message ?? 'not satisfied',
    ...(error.keyword === 'required' && {
      missingProperties: [(error.params as { missingProperty: string }).missingProperty],
    }),
  }));
}

export interface ValidationOptions {
  validator?: Document;
  validationLevel?: string;
  validationAction?: string;
}

/**
 * A collection's validator, enforced on every insert and update as mongod does: a filter
 * (with `$jsonSchema` and any query operators) the stored document must match. `strict`
 * checks every write; `moderate` lets updates of documents that already failed it through;
 * action `warn` logs instead of refusing.
 */
export class DocumentValidator {
  private lastFailure: Document[] = [];
  private readonly query: Query;

  private constructor(
    readonly options: Required<ValidationOptions>,
    private readonly warn: (message: string) => void,
  ) {
    const compiler = schemaCompiler();
    try {
      this.query = engineQuery(options.validator, {
        jsonSchemaValidator: (schema: Document) => {
          const validate: ValidateFunction = compiler.compile(toAjvSchema(schema));
          return (doc: unknown) => {
            const ok = validate(doc) as boolean;
            if (!ok) this.lastFailure = rulesNotSatisfied(validate.errors);
            return ok;
          };
        },
      } as never);
    } catch (error) {
      if (error instanceof CommandError) throw error;
      throw new CommandError('BadValue', (error as Error).message);
    }
  }

  /** Checks and compiles a collection's validation options; undefined when there is no validator. */
  static fromOptions(
    options: ValidationOptions,
    warn: (message: string) => void = (message) => console.warn(message),
  ): DocumentValidator | undefined {
    const { validator, validationLevel = 'strict', validationAction = 'error' } = options;
    if (!LEVELS.includes(validationLevel)) {
      throw new CommandError(
        'BadValue',
        `Enumeration value '${validationLevel}' for field 'validationLevel' is not a valid value.`,
      );
    }
    if (!ACTIONS.includes(validationAction)) {
      throw new CommandError(
        'BadValue',
        `Enumeration value '${validationAction}' for field 'validationAction' is not a valid value.`,
      );
    }
    if (validator === undefined || Object.keys(validator).length === 0) return undefined;
    if (!isPlainObject(validator)) {
      throw new CommandError(
        'TypeMismatch',
        "BSON field 'validator' is the wrong type, expected object",
      );
    }
    for (const operator of ['$where', '$near', '$nearSphere', '$text', '$geoNear']) {
      if (JSON.stringify(validator).includes(`"${operator}"`)) {
        throw new CommandError(
          'BadValue',
          `${operator} is not allowed inside of a document validator`,
        );
      }
    }
    return new DocumentValidator({ validator, validationLevel, validationAction }, warn);
  }

  /** Throws mongod's DocumentValidationFailure (121) when `next` may not be written. */
  check(ns: string, next: StoredDocument, previous?: StoredDocument): void {
    const { validationLevel, validationAction } = this.options;
    if (validationLevel === 'off') return;
    if (this.matches(next)) return;
    if (previous && validationLevel === 'moderate' && !this.matches(previous)) return;
    const details = {
      operatorName: '$jsonSchema' in this.options.validator ? '$jsonSchema' : '$and',
      schemaRulesNotSatisfied: this.lastFailure,
    };
    if (validationAction === 'warn') {
      this.warn(
        `[embedded-mongo] ${ns}: Document would fail validation (_id: ${String(next._id)})`,
      );
      return;
    }
    throw new CommandError('DocumentValidationFailure', 'Document failed validation', {
      errInfo: { failingDocumentId: next._id, details },
    });
  }

  private matches(doc: StoredDocument): boolean {
    this.lastFailure = [];
    try {
      return this.query.test(doc);
    } catch (error) {
      throw new CommandError('BadValue', (error as Error).message);
    }
  }
}
