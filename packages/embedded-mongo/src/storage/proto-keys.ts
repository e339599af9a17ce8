import { isPlainObject } from './bson-value';

/**
 * MongoDB stores `__proto__` as an ordinary field name; bson decodes it as an own property.
 * mingo refuses it in paths (a guard against prototype pollution) and skips it as a filter key,
 * so `{ __proto__: 1 }` matched every document. When a filter or an update names such a field,
 * the engine hands mingo copies where that key is renamed to ALIAS, a name no BSON key can have
 * (keys are NUL-terminated), and renames it back in the result.
 */
const PROTO = '__proto__';
const ALIAS = '\u0000proto';

function renamePath(path: string, from: string, to: string): string {
  if (!path.includes(from)) return path;
  return path
    .split('.')
    .map((part) => (part === from ? to : part))
    .join('.');
}

/** Whether any key of the value, or any segment of a dotted key, is `__proto__`. */
export function mentionsProto(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsProto);
  if (!isPlainObject(value)) return false;
  return Object.keys(value).some(
    (key) => key.split('.').includes(PROTO) || mentionsProto(value[key]),
  );
}

function rename<T>(value: T, from: string, to: string): T {
  if (Array.isArray(value)) return value.map((element: unknown) => rename(element, from, to)) as T;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty: plain assignment of `__proto__` would set the prototype instead.
    Object.defineProperty(out, renamePath(key, from, to), {
      value: rename(value[key], from, to),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out as T;
}

/** A copy with every `__proto__` key and path segment renamed to the alias mingo accepts. */
export function aliasProto<T>(value: T): T {
  return rename(value, PROTO, ALIAS);
}

/** The reverse of `aliasProto`: the alias becomes an own `__proto__` field again. */
export function unaliasProto<T>(value: T): T {
  return rename(value, ALIAS, PROTO);
}
