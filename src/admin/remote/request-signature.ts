import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signing time, in whole Unix seconds. */
export const SIGNATURE_TIMESTAMP_HEADER = 'x-signature-timestamp';
/** Header carrying the lowercase hex HMAC-SHA256 of the canonical request. */
export const SIGNATURE_HEADER = 'x-signature';

export interface SignedParts {
  method: string;
  /** Request path without the query string, e.g. `/remote/sessions/validate`. */
  path: string;
  /** Unix time in whole seconds, as sent in the timestamp header. */
  timestamp: string;
  /** The raw request body, byte for byte as sent. */
  body: Buffer | string;
}

/** `METHOD \n PATH \n TIMESTAMP \n BODY`, the exact bytes both sides feed into the HMAC. */
function canonical(parts: SignedParts): Buffer {
  const head = `${parts.method.toUpperCase()}\n${parts.path}\n${parts.timestamp}\n`;
  const body = typeof parts.body === 'string' ? Buffer.from(parts.body, 'utf8') : parts.body;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Lowercase hex HMAC-SHA256 of the canonical request under the shared secret. */
export function signRequest(secret: string, parts: SignedParts): string {
  return createHmac('sha256', secret).update(canonical(parts)).digest('hex');
}

export type SignatureCheck =
  { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/**
 * Checks a presented signature: well-formed, within `maxSkewSeconds` of `nowMs` either way, and
 * equal to the expected HMAC (compared in constant time, so timing reveals nothing about how
 * many leading characters matched). Replay is not this function's concern: see ReplayCache.
 */
export function verifyRequestSignature(
  secret: string,
  parts: Omit<SignedParts, 'timestamp'> & { timestamp: string | undefined },
  signature: string | undefined,
  nowMs: number,
  maxSkewSeconds: number,
): SignatureCheck {
  if (!signature || !parts.timestamp) return { ok: false, reason: 'missing' };
  if (!HEX_SHA256.test(signature) || !UNIX_SECONDS.test(parts.timestamp)) {
    return { ok: false, reason: 'malformed' };
  }
  const skew = Math.abs(nowMs / 1000 - Number(parts.timestamp));
  if (skew > maxSkewSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(
    signRequest(secret, { ...parts, timestamp: parts.timestamp }),
    'hex',
  );
  const presented = Buffer.from(signature, 'hex');
  // Both are 32 bytes here (the regex above fixed the length), as timingSafeEqual requires.
  return timingSafeEqual(expected, presented) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** The headers a caller sends: timestamp from `nowMs`, signature over the given request. */
export function signatureHeaders(
  secret: string,
  request: { method: string; path: string; body: string },
  nowMs: number,
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'X-Signature-Timestamp': timestamp,
    'X-Signature': signRequest(secret, { ...request, timestamp }),
  };
}
