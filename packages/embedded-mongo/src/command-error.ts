import type { Document } from 'bson';

/** The mongod error codes this engine answers with, by their `codeName`. */
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Overflow: 15,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  DollarPrefixedFieldName: 52,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CannotCreateIndex: 67,
  InvalidLength: 277,
  NoQueryExecutionPlans: 291,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  /** mongod's name for an unknown field in a command (its IDL parser). */
  Location40415: 40415,
  /** mongod's names for a pipeline stage with several fields, and an unknown stage. */
  Location40323: 40323,
  Location40324: 40324,
  InvalidPipelineOperator: 168,
  /** mongod's name for the error an OP_MSG without `$db` gets. */
  Location40571: 40571,
  // Change streams and the journal.
  Unauthorized: 13,
  AuthenticationFailed: 18,
  MechanismUnavailable: 334,
  WriteConcernFailed: 64,
  InvalidResumeToken: 260,
  ChangeStreamHistoryLost: 286,
  /** "The $changeStream stage is only supported on replica sets". */
  Location40573: 40573,
  /** `$expr`, `$where`, `$text`, `$jsonSchema` where mongod's parser bans them (`$pull`). */
  QueryFeatureNotAllowed: 224,
  /** Aggregation expressions: wrong number of arguments; a non-array where one is needed. */
  Location16020: 16020,
  Location28667: 28667,
  Location40081: 40081,
  Location40090: 40090,
  Location40097: 40097,
  Location17043: 17043,
  Location17044: 17044,
  Location17045: 17045,
  Location17046: 17046,
  Location17047: 17047,
  Location17048: 17048,
  Location17049: 17049,
  Location17310: 17310,
  /** `$bucket` options. */
  Location40192: 40192,
  Location40193: 40193,
  Location40194: 40194,
  Location40197: 40197,
  Location40198: 40198,
  Location40199: 40199,
  Location40201: 40201,
  /** `$skip`, `$limit` and `$sample` arguments. */
  Location15956: 15956,
  Location15958: 15958,
  Location28745: 28745,
  Location28746: 28746,
  Location28747: 28747,
  Location28748: 28748,
  Location28749: 28749,
  /** `$unwind` path. */
  Location28808: 28808,
  Location28818: 28818,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

/** An error that becomes an `{ ok: 0, errmsg, code, codeName }` reply (or a write error). */
export class CommandError extends Error {
  readonly code: number;

  constructor(
    readonly codeName: ErrorCodeName,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
    this.code = ErrorCode[codeName];
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** The shape of one entry of a write command's `writeErrors`. */
  toWriteError(index: number): Document {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}
