/**
 * Half of a UTF-16 surrogate pair on its own (JSON may write one as "\ud800"). It has no UTF-8
 * form, so the database driver stores U+FFFD in its place: what was kept would differ from what
 * the client sent and was answered.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);

/**
 * JSON.parse reviver for request bodies: refuses a body with a lone surrogate in any key or
 * string, before any route runs.
 */
export function refuseLoneSurrogates(this: unknown, key: string, value: unknown): unknown {
  if (hasLoneSurrogate(key) || (typeof value === 'string' && hasLoneSurrogate(value))) {
    // body-parser reports any parse failure as entity.parse.failed: 400 VALIDATION_FAILED.
    throw new SyntaxError('The request body holds text that is not valid Unicode');
  }
  return value;
}
