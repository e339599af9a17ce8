import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens bound to one session: `<nonce>.<HMAC(key, sid "." nonce)>`, where the key is
 * derived from the access-token secret. The server keeps nothing per token, yet a token minted
 * for one session is worthless for any other (a planted cookie, another tab's account), and one
 * forged without the secret fails (OWASP's "signed double-submit cookie").
 */
const NONCE_BYTES = 18;
const TOKEN = /^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/;

function keyFor(secret: string): Buffer {
  // A key of its own, so a CSRF MAC can never be replayed as any other MAC made with the secret.
  return createHmac('sha256', secret).update('nest-sessions/csrf/v1').digest();
}

function mac(secret: string, sid: string, nonce: string): Buffer {
  return createHmac('sha256', keyFor(secret)).update(`${sid}.${nonce}`).digest();
}

/** A fresh token for session `sid`, signed with the first (signing) secret. */
export function signCsrfToken(sid: string, secret: string): string {
  const nonce = randomBytes(NONCE_BYTES).toString('base64url');
  return `${nonce}.${mac(secret, sid, nonce).toString('base64url')}`;
}

/** Whether `token` was made for session `sid` with any of the secrets (rotation). */
export function verifyCsrfToken(token: string, sid: string, secrets: readonly string[]): boolean {
  const parts = TOKEN.exec(token);
  if (!parts) return false;
  const given = Buffer.from(parts[2], 'base64url');
  return secrets.some((secret) => timingSafeEqual(given, mac(secret, sid, parts[1])));
}

/** Constant-time equality of two strings of any length. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
