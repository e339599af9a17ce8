import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BoundedCache } from '../common/bounded-cache';
import {
  AccessTokenKey,
  AccessTokenPolicy,
  accessTokenKeys,
  hasGenuineSignature,
  signAccessToken,
  verifyAccessToken,
} from './access-token';
import { tokenInvalid } from './session-errors';
import { SESSION_SETTINGS, SessionSettings, TokenSecrets } from './session-module.options';

export interface AccessClaims {
  sub: string;
  sid: string;
  /** The session's generation the token was issued under; absent on tokens from before it. */
  gen?: string;
}

/** Caching KeyObjects per secret is the point (docs/security.md: ~40x faster verify); bound it anyway. */
const MAX_CACHED_KEYS = 1000;
const KEY_TTL_MS = 60 * 60 * 1000;
/** Access tokens whose signature was checked; a client sends the same one for up to its TTL. */
const MAX_VERIFIED_TOKENS = 10_000;

interface KeySet {
  all: AccessTokenKey[];
  signing: AccessTokenKey;
}

interface VerifiedToken {
  keys: KeySet;
  claims: AccessClaims;
  /** `exp` in seconds: valid while the clock's second is before it. */
  exp: number;
}

const invalidToken = tokenInvalid;

/**
 * Access tokens (HS256 JWT: `sub` user id, `sid` session id, `gen` session generation, `typ:
 * access`, `iss`, `aud`, `iat`, `exp`, header `kid`; the rules are in access-token.ts) and
 * refresh tokens (256 random bits, opaque, stored only as SHA-256). Token successors on
 * rotation are derived, not random: `next = HMAC(session.rotationKey, presented)`, so a token
 * replayed inside the grace window maps to the very pair the first rotation issued, on any
 * instance, with only hashes stored. The rotation key is the session's own random key, kept
 * only in the database: JWT_SECRET has no part in it (docs/security.md, "What a leaked
 * JWT_SECRET gives an attacker").
 */
@Injectable()
export class TokenService {
  private readonly keys = new BoundedCache<string, KeySet>({
    max: MAX_CACHED_KEYS,
    ttlMs: KEY_TTL_MS,
  });
  private readonly verified: BoundedCache<string, VerifiedToken>;
  private readonly policy: AccessTokenPolicy;

  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {
    // A remembered token is dropped at the latest when a token issued now would have expired.
    this.verified = new BoundedCache({
      max: MAX_VERIFIED_TOKENS,
      ttlMs: settings.accessTokenTtlSeconds * 1000,
      clock: settings.clock,
    });
    this.policy = {
      issuer: settings.tokenClaims.issuer,
      audience: settings.tokenClaims.audience,
      ttlSeconds: settings.accessTokenTtlSeconds,
      clockSkewSeconds: settings.tokenClaims.clockSkewSeconds,
    };
  }

  get accessTokenTtlSeconds(): number {
    return this.settings.accessTokenTtlSeconds;
  }

  /** The secrets for this request (the `getTokenSecret` option, else `secrets`): the first signs. */
  secretsFor(request: Request): readonly string[] | Promise<readonly string[]> {
    return this.settings.secretsFor(request);
  }

  /**
   * Signs an access token. It is remembered as verified at once: this instance knows it is
   * genuine, so its first use costs no verification and is never held up by a limit on
   * forged tokens from the client's IP (SessionGuard).
   */
  signAccess(claims: AccessClaims, secrets: TokenSecrets, issuedAtSeconds: number): string {
    const keys = this.keysFor(secrets);
    const token = signAccessToken(
      { sub: claims.sub, sid: claims.sid, gen: claims.gen },
      keys.signing,
      issuedAtSeconds,
      this.policy,
    );
    this.verified.set(token, {
      keys,
      claims: frozenClaims(claims),
      exp: issuedAtSeconds + this.policy.ttlSeconds,
    });
    return token;
  }

  /**
   * Verifies the token by the rules of access-token.ts against `nowMs`; TOKEN_INVALID when it
   * fails. A token already verified under the same keys is not verified again (HMAC, base64
   * and JSON on every request of every client): only its expiry is checked, the same way.
   */
  verifyAccess(token: string, secrets: TokenSecrets, nowMs: number): AccessClaims {
    const known = this.remembered(token, secrets, nowMs);
    if (known) return known;
    const verdict = this.inspect(token, secrets, nowMs);
    if (!verdict.claims) throw invalidToken();
    return verdict.claims;
  }

  /**
   * The claims of a token verified (or issued) earlier under the same keys, when it has not
   * expired; TOKEN_INVALID when it has; undefined when it is not remembered.
   */
  remembered(token: string, secrets: TokenSecrets, nowMs: number): AccessClaims | undefined {
    const known = this.verified.get(token);
    if (known === undefined || known.keys !== this.keysFor(secrets)) return undefined;
    if (Math.floor(nowMs / 1000) < known.exp) return known.claims;
    this.verified.delete(token);
    throw invalidToken();
  }

  /**
   * Verifies the token by the rules of access-token.ts and remembers it when it passes. When
   * it does not, `genuine` says whether it was at least signed with one of the keys (an
   * expired token of ours) rather than forged or garbage.
   */
  inspect(
    token: string,
    secrets: TokenSecrets,
    nowMs: number,
  ): { claims: AccessClaims } | { claims: null; genuine: boolean } {
    const keys = this.keysFor(secrets);
    const verified = verifyAccessToken(token, keys.all, Math.floor(nowMs / 1000), this.policy);
    if (!verified) return { claims: null, genuine: hasGenuineSignature(token, keys.all) };
    const claims = frozenClaims(verified);
    this.verified.set(token, { keys, claims, exp: verified.exp });
    return { claims };
  }

  newRefreshToken(): string {
    return randomBytes(32).toString('base64url');
  }

  /** A session's rotation key: 256 random bits, stored with the session and nowhere else. */
  newRotationKey(): string {
    return randomBytes(32).toString('base64url');
  }

  /** A session generation: 128 random bits, so a forger cannot guess the current one. */
  newGeneration(): string {
    return randomBytes(16).toString('base64url');
  }

  /**
   * The token that replaces `presented` on rotation; the same for the same input, always.
   * Domain-separated so the key serves this one purpose.
   */
  successorOf(presented: string, rotationKey: string): string {
    return createHmac('sha256', Buffer.from(rotationKey, 'base64url'))
      .update('nest-sessions refresh successor\0')
      .update(presented)
      .digest('base64url');
  }

  hashRefresh(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** Constant-time comparison of two hex hashes. */
  sameHash(a: string, b: string): boolean {
    const x = Buffer.from(a, 'hex');
    const y = Buffer.from(b, 'hex');
    return x.length === y.length && timingSafeEqual(x, y);
  }

  private keysFor(secrets: TokenSecrets): KeySet {
    const list = typeof secrets === 'string' ? [secrets] : secrets;
    if (!list.length) throw new Error('No access-token secret for this request');
    const id = list.join('\0');
    let keys = this.keys.get(id);
    if (!keys) {
      const all = accessTokenKeys(list);
      keys = { all, signing: all[0] };
      this.keys.set(id, keys);
    }
    return keys;
  }
}

/** The claims a guard sees: exactly sub, sid and (when present) gen, frozen. */
function frozenClaims(claims: AccessClaims): AccessClaims {
  return Object.freeze(
    claims.gen === undefined
      ? { sub: claims.sub, sid: claims.sid }
      : { sub: claims.sub, sid: claims.sid, gen: claims.gen },
  );
}
