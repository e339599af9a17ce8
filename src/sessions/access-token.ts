import { createHash, createHmac, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { decode, sign, verify } from 'jsonwebtoken';

/**
 * Access tokens as pure functions of (token, keys, now, policy): no Nest, no cache, no clock, so
 * the claim rules can be tested exhaustively (access-token.spec.ts, a property test) and the
 * TokenService only adds caching around them.
 *
 * A token passes only when every one of these holds (docs/security.md, "Access tokens"):
 * - three base64url parts; header `alg` exactly `HS256` (no `none`, no RS/ES/PS: no algorithm
 *   confusion), `typ` absent or `JWT`, no `crit`, and a `kid` naming one of the keys;
 * - the HMAC verifies under that key (the key is chosen by `kid`, never by trying each);
 * - `iss` and `aud` are exactly this service's strings;
 * - `exp` and `iat` are integers, `exp` is after now, `iat` is not more than the skew ahead of
 *   now, and `exp - iat` is at most the configured lifetime (no ten-year tokens, whoever
 *   signed them); `nbf`, if present, is not in the future;
 * - `typ` claim `access`, `sub` and `sid` non-empty strings, `gen` (when present) a string.
 */

export interface AccessTokenKey {
  /** The `kid` header that selects this key. */
  kid: string;
  key: KeyObject;
}

export interface AccessTokenPolicy {
  issuer: string;
  audience: string;
  /** The longest lifetime (`exp - iat`) accepted: the lifetime tokens are issued with. */
  ttlSeconds: number;
  /** How far ahead of this server's clock `iat` may be (other instances' clocks drift). */
  clockSkewSeconds: number;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  /** The session's generation when the token was issued; see SessionsService. */
  gen?: string;
  iat: number;
  exp: number;
}

/** Longer than any token this service issues by far; bounds the work done on junk. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

/**
 * The `kid` of a secret: a fingerprint naming the key without revealing anything that helps
 * guess it (SHA-256 of a secret of 80+ bits, truncated to 96 bits).
 */
export function keyIdOf(secret: string): string {
  return createHash('sha256')
    .update('nest-sessions access-token kid\0')
    .update(secret)
    .digest('base64url')
    .slice(0, 16);
}

/** The keys for a secret list: the first signs, every one verifies. */
export function accessTokenKeys(secrets: readonly string[]): AccessTokenKey[] {
  return secrets.map((secret) => ({
    kid: keyIdOf(secret),
    key: createSecretKey(Buffer.from(secret, 'utf8')),
  }));
}

export function signAccessToken(
  claims: { sub: string; sid: string; gen?: string },
  key: AccessTokenKey,
  issuedAtSeconds: number,
  policy: AccessTokenPolicy,
): string {
  const payload: Record<string, unknown> = {
    sub: claims.sub,
    sid: claims.sid,
    typ: 'access',
    iss: policy.issuer,
    aud: policy.audience,
    iat: issuedAtSeconds,
    exp: issuedAtSeconds + policy.ttlSeconds,
  };
  if (claims.gen !== undefined) payload.gen = claims.gen;
  // jsonwebtoken takes a KeyObject for HMAC; its types only name string | Buffer for some paths.
  return sign(payload, key.key as unknown as string, {
    algorithm: 'HS256',
    keyid: key.kid,
  });
}

const isInt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The claims of a token that passes every rule above, else null. Never throws. */
export function verifyAccessToken(
  token: string,
  keys: readonly AccessTokenKey[],
  nowSeconds: number,
  policy: AccessTokenPolicy,
): AccessTokenClaims | null {
  if (typeof token !== 'string' || token.length > MAX_ACCESS_TOKEN_LENGTH) return null;
  let decoded: ReturnType<typeof decode>;
  try {
    decoded = decode(token, { complete: true });
  } catch {
    return null;
  }
  if (!decoded || typeof decoded !== 'object' || typeof decoded.payload !== 'object') return null;
  const header = decoded.header as unknown as Record<string, unknown>;
  if (header.alg !== 'HS256') return null;
  if (header.typ !== undefined && header.typ !== 'JWT') return null;
  if (header.crit !== undefined) return null;
  const key = keys.find((k) => k.kid === header.kid);
  if (!key) return null;

  let payload: Record<string, unknown>;
  try {
    payload = verify(token, key.key as unknown as string, {
      algorithms: ['HS256'],
      clockTimestamp: nowSeconds,
      clockTolerance: 0,
    }) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof payload !== 'object' || payload === null) return null;
  const { sub, sid, typ, iss, aud, iat, exp, nbf, gen } = payload;
  if (iss !== policy.issuer || aud !== policy.audience || typ !== 'access') return null;
  if (!isText(sub) || !isText(sid)) return null;
  if (gen !== undefined && typeof gen !== 'string') return null;
  if (!isInt(exp) || !isInt(iat)) return null;
  if (exp <= nowSeconds) return null;
  if (iat > nowSeconds + policy.clockSkewSeconds) return null;
  if (exp <= iat || exp - iat > policy.ttlSeconds) return null;
  if (nbf !== undefined && (!isInt(nbf) || nbf > nowSeconds)) return null;
  const claims: AccessTokenClaims = { sub, sid, iat, exp };
  if (gen !== undefined) claims.gen = gen;
  return claims;
}

/**
 * Whether the token was signed by one of `keys` (HS256, the key its `kid` names), whatever its
 * claims say: an expired or otherwise refused token of ours is genuine, a token that fails
 * here is forged or garbage. Only this is rate limited per IP (SessionGuard): clients send
 * expired tokens of ours in normal use, never tokens we did not sign.
 */
export function hasGenuineSignature(token: string, keys: readonly AccessTokenKey[]): boolean {
  if (typeof token !== 'string' || token.length > MAX_ACCESS_TOKEN_LENGTH) return false;
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (typeof header !== 'object' || header === null) return false;
  const { alg, kid } = header as Record<string, unknown>;
  if (alg !== 'HS256') return false;
  const key = keys.find((k) => k.kid === kid);
  if (!key) return false;
  // Compared as text, as the verifier does: base64url has several spellings of one byte string.
  const expected = Buffer.from(
    createHmac('sha256', key.key).update(`${parts[0]}.${parts[1]}`).digest('base64url'),
  );
  const given = Buffer.from(parts[2]);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
