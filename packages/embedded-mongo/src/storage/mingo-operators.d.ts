// TypeScript's "node" module resolution does not read package.json "exports", where mingo
// publishes its operator entry points; node resolves them at run time. These are the update
// operators as mingo declares them (types/operators/update), minus its internal options type.
declare module 'mingo/operators/update' {
  type UpdateOperator = (
    expr: Record<string, unknown>,
    arrayFilters?: Record<string, unknown>[],
  ) => (obj: Record<string, unknown>) => string[];
  export const $addToSet: UpdateOperator;
  export const $bit: UpdateOperator;
  export const $currentDate: UpdateOperator;
  export const $inc: UpdateOperator;
  export const $max: UpdateOperator;
  export const $min: UpdateOperator;
  export const $mul: UpdateOperator;
  export const $pop: UpdateOperator;
  export const $pull: UpdateOperator;
  export const $pullAll: UpdateOperator;
  export const $push: UpdateOperator;
  export const $rename: UpdateOperator;
  export const $set: UpdateOperator;
  export const $unset: UpdateOperator;
}

// The raw query class and operator tables, to build a context in which an engine operator
// replaces mingo's (mingo's own `Query` merges its defaults first, and the first one wins).
declare module 'mingo/query' {
  export class Query {
    constructor(condition: Record<string, unknown>, options?: Record<string, unknown>);
    test(obj: Record<string, unknown>): boolean;
  }
}
declare module 'mingo/operators/query' {
  const operators: Record<string, unknown>;
  export = operators;
}
declare module 'mingo/operators/expression' {
  const operators: Record<string, unknown>;
  export = operators;
}
declare module 'mingo/operators/accumulator' {
  const operators: Record<string, unknown>;
  export = operators;
}
declare module 'mingo/operators/pipeline' {
  const operators: Record<string, unknown>;
  export = operators;
}
declare module 'mingo/operators/projection' {
  const operators: Record<string, unknown>;
  export = operators;
}
declare module 'mingo/operators/window' {
  const operators: Record<string, unknown>;
  export = operators;
}
