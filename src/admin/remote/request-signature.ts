import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header carrying the signing time, in whole Unix seconds. */
export const SIGNATURE_TIMESTAMP_HEADER = 'x-signature-timestamp';
/** Header carrying a value fresh for every request; the replay store is keyed by it. */
export const SIGNATURE_NONCE_HEADER = 'x-signature-nonce';
/** Header naming the receiver's origin as the sender has it in PEER_HOSTS. */
export const SIGNATURE_AUDIENCE_HEADER = 'x-signature-audience';
/** Header carrying the lowercase hex HMAC-SHA256 of the canonical request. */
export const SIGNATURE_HEADER = 'x-signature';

export interface SignedParts {
  method: string;
  /** The receiver's origin, `scheme://host[:port]` lowercase (see `peerOrigin`). */
  audience: string;
  /** Request path without the query string, e.g. `/remote/sessions/validate`. */
  path: string;
  /** Unix time in whole seconds, as sent in the timestamp header. */
  timestamp: string;
  /** 16 to 64 characters of `[A-Za-z0-9_-]`, fresh for every request. */
  nonce: string;
  /** The raw request body, byte for byte as sent. */
  body: Buffer | string;
}

/**
 * `METHOD \n AUDIENCE \n PATH \n TIMESTAMP \n NONCE \n BODY`, the exact bytes both sides feed into
 * the HMAC. The audience binds a signature to one receiver, so a call captured on its way to
 * one peer is refused by every other instance (the sender included); the nonce makes two calls
 * with the same body in the same second distinct, and is what the receiver remembers.
 */
function canonical(parts: SignedParts): Buffer {
  const head =
    `${parts.method.toUpperCase()}\n${parts.audience}\n${parts.path}\n` +
    `${parts.timestamp}\n${parts.nonce}\n`;
  const body = typeof parts.body === 'string' ? Buffer.from(parts.body, 'utf8') : parts.body;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Lowercase hex HMAC-SHA256 of the canonical request under the shared secret. */
export function signRequest(secret: string, parts: SignedParts): string {
  return createHmac('sha256', secret).update(canonical(parts)).digest('hex');
}

/**
 * The origin of a peer URL as both sides write it in the signature: scheme, host and port
 * (default ports dropped), lowercase, no path or trailing slash. PEER_HOSTS and PEER_SELF both
 * go through this, so `HTTP://Peer:80/` and `http://peer` name the same audience.
 */
export function peerOrigin(url: string): string {
  return new URL(url).origin.toLowerCase();
}

/** 24 URL-safe characters from 18 random bytes. */
export const newNonce = () => randomBytes(18).toString('base64url');

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'audience' | 'mismatch';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export type PresentedParts = Omit<SignedParts, 'timestamp' | 'nonce' | 'audience'> & {
  timestamp: string | undefined;
  nonce: string | undefined;
  audience: string | undefined;
};

/**
 * Checks a presented signature: all headers present and well formed, within `maxSkewSeconds`
 * of `nowMs` either way, addressed to one of `audiences` (this instance's PEER_SELF origins),
 * and equal to the HMAC under one of `secrets` (compared in constant time, so timing reveals
 * nothing about how many leading characters matched). Replay is not this function's concern:
 * see ReplayCache.
 */
export function verifyRequestSignature(
  secrets: readonly string[],
  parts: PresentedParts,
  signature: string | undefined,
  nowMs: number,
  maxSkewSeconds: number,
  audiences: readonly string[],
): SignatureCheck {
  const { timestamp, nonce, audience } = parts;
  if (!signature || !timestamp || !nonce || !audience) return { ok: false, reason: 'missing' };
  if (!HEX_SHA256.test(signature) || !UNIX_SECONDS.test(timestamp) || !NONCE_PATTERN.test(nonce)) {
    return { ok: false, reason: 'malformed' };
  }
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > maxSkewSeconds) {
    return { ok: false, reason: 'stale' };
  }
  if (!audiences.includes(audience)) return { ok: false, reason: 'audience' };
  const presented = Buffer.from(signature, 'hex');
  const full = { ...parts, timestamp, nonce, audience };
  // Every secret is tried (no early exit), so timing does not tell which one matched.
  let match = false;
  for (const secret of secrets) {
    // Both are 32 bytes (the regex above fixed the length), as timingSafeEqual requires.
    if (timingSafeEqual(Buffer.from(signRequest(secret, full), 'hex'), presented)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** The headers a caller sends to one receiver: timestamp from `nowMs`, a fresh nonce. */
export function signatureHeaders(
  secret: string,
  request: { method: string; audience: string; path: string; body: Buffer | string },
  nowMs: number,
  nonce: string = newNonce(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'X-Signature-Timestamp': timestamp,
    'X-Signature-Nonce': nonce,
    'X-Signature-Audience': request.audience,
    'X-Signature': signRequest(secret, { ...request, timestamp, nonce }),
  };
}
