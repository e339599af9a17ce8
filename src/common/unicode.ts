/**
 * Half of a UTF-16 surrogate pair on its own (JSON may write one as "\ud800"). It has no UTF-8
 * form, so the database driver stores U+FFFD in its place: what was kept would differ from what
 * the client sent and was answered.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);
