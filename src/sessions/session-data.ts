import { badRequest } from '../common/api.exception';
import { hasLoneSurrogate } from '../common/unicode';

export type SessionDataObject = Record<string, unknown>;

export const MAX_SESSION_DATA_BYTES = 16 * 1024;
export const MAX_SESSION_DATA_DEPTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isPlainObject = (v: unknown): v is SessionDataObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const notUnicode = (path: string) =>
  badRequest(`Session data at "${path.slice(0, -1)}" is not valid Unicode (a lone surrogate)`);

function checkKey(key: string, path: string): void {
  if (hasLoneSurrogate(key)) throw notUnicode(`${path}${key}.`);
  if (key.startsWith('$') || key.includes('.') || FORBIDDEN_KEYS.has(key)) {
    throw badRequest(
      `Session data key "${path}${key}" is not allowed (keys may not start with "$", contain ".", or be __proto__, constructor or prototype)`,
    );
  }
}

/**
 * Depth counts containers: the data object itself is level 1. Keys are read with Object.keys,
 * which (unlike `in` or property access) sees the own `__proto__` keys JSON.parse creates.
 */
function walk(value: unknown, depth: number, path: string): void {
  // JSON.parse reads an out-of-range literal such as 1e999 as Infinity: storable in BSON, but
  // answered as null, so what was kept would differ from what every later read shows.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw badRequest(`Session data value at "${path.slice(0, -1)}" is not a finite number`);
  }
  if (typeof value === 'string' && hasLoneSurrogate(value)) throw notUnicode(path);
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_SESSION_DATA_DEPTH) {
    throw badRequest(`Session data is nested deeper than ${MAX_SESSION_DATA_DEPTH} levels`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, depth + 1, `${path}${i}.`));
    return;
  }
  for (const key of Object.keys(value)) {
    checkKey(key, path);
    walk((value as SessionDataObject)[key], depth + 1, `${path}${key}.`);
  }
}

/** Refuses (400 VALIDATION_FAILED) anything but an object within the size, depth and key rules. */
export function assertSessionData(value: unknown): asserts value is SessionDataObject {
  if (!isPlainObject(value)) throw badRequest('Session data must be a JSON object');
  walk(value, 1, '');
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_SESSION_DATA_BYTES) {
    throw badRequest(
      `Session data is ${bytes} bytes serialized; at most ${MAX_SESSION_DATA_BYTES} are allowed`,
    );
  }
}

/**
 * JSON Merge Patch (RFC 7386): objects merge recursively, a null removes the key, anything else
 * (arrays included) replaces. Returns a new object; neither input is modified.
 */
export function mergeSessionData(
  target: SessionDataObject,
  patch: SessionDataObject,
): SessionDataObject {
  const result: SessionDataObject = { ...target };
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else if (isPlainObject(value)) {
      const base = result[key];
      result[key] = mergeSessionData(isPlainObject(base) ? base : {}, value);
    } else {
      result[key] = value;
    }
  }
  return result;
}
