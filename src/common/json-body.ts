import { hasLoneSurrogate } from './unicode';

/**
 * How deeply any JSON request body may nest (objects and arrays). The deepest body the contract
 * takes is session data (8 levels inside the body); DTO bodies are 3 at most. Past a few
 * thousand levels class-transformer, which walks bodies recursively, overflows the stack.
 */
export const MAX_JSON_BODY_DEPTH = 32;

/**
 * A body nested deeper than the limit. A SyntaxError, so body-parser reports it as a parse
 * failure (400), and a class of its own so the error filter can say what was wrong: body-parser
 * strips an error's own properties but keeps the object, so `instanceof` still holds.
 */
export class BodyTooDeepError extends SyntaxError {}
BodyTooDeepError.prototype.name = 'BodyTooDeepError';

/**
 * JSON.parse reviver for request bodies, run before any route, pipe or class-transformer:
 * refuses a lone surrogate in any key or string, and nesting deeper than `maxDepth`.
 *
 * JSON.parse calls a reviver bottom-up (children before their parent), so each container's
 * depth is one more than its deepest child's, read from a WeakMap: every value is looked at
 * once by its parent, linear in the body's size.
 */
export function jsonBodyReviver(maxDepth = MAX_JSON_BODY_DEPTH) {
  const depths = new WeakMap<object, number>();
  return function revive(this: unknown, key: string, value: unknown): unknown {
    if (hasLoneSurrogate(key) || (typeof value === 'string' && hasLoneSurrogate(value))) {
      // body-parser reports any parse failure as entity.parse.failed: 400 VALIDATION_FAILED.
      throw new SyntaxError('The request body holds text that is not valid Unicode');
    }
    if (typeof value !== 'object' || value === null) return value;
    let deepest = 0;
    for (const child of Object.values(value)) {
      if (typeof child === 'object' && child !== null) {
        deepest = Math.max(deepest, depths.get(child) ?? 1);
      }
    }
    if (deepest + 1 > maxDepth) {
      throw new BodyTooDeepError(`The request body is nested deeper than ${maxDepth} levels`);
    }
    depths.set(value, deepest + 1);
    return value;
  };
}
