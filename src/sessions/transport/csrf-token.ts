import { timingSafeEqual } from 'node:crypto';
import { purposeMac } from '../purpose-mac';

/**
 * CSRF tokens bound to one session: `HMAC-SHA256(K, sid)`, base64url, where K is derived from
 * the access-token secret. The server keeps nothing per token, yet a token made for one session
 * is worthless for any other (a planted cookie, another account's sign-in), and none can be made
 * without the secret (OWASP's "signed double-submit cookie").
 *
 * One token per session, the same after every refresh: a tab or a front end that kept the
 * token from an earlier answer stays in step with the cookie another tab's refresh rewrote.
 * A fresh random part per answer would add nothing, as every token of a session would have to
 * stay valid for that session anyway.
 */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const mac = (secret: string, sid: string) => purposeMac(secret, 'nest-sessions/csrf/v1', sid);

/** The CSRF token of session `sid`, signed with the first (signing) secret. */
export function signCsrfToken(sid: string, secret: string): string {
  return mac(secret, sid).toString('base64url');
}

/** Whether `token` is session `sid`'s under any of the secrets (rotation). */
export function verifyCsrfToken(token: string, sid: string, secrets: readonly string[]): boolean {
  if (!TOKEN.test(token)) return false;
  const given = Buffer.from(token, 'base64url');
  return secrets.some((secret) => timingSafeEqual(given, mac(secret, sid)));
}

/** Constant-time equality of two strings of any length. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
