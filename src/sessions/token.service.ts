import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import {
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { unauthorized } from '../common/api.exception';
import { BoundedCache } from '../common/bounded-cache';
import { ErrorCode } from '../common/error-codes';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';

export interface AccessClaims {
  sub: string;
  sid: string;
}

/** Caching KeyObjects per secret is the point (docs/security.md: ~40x faster verify); bound it anyway. */
const MAX_CACHED_KEYS = 1000;
const KEY_TTL_MS = 60 * 60 * 1000;
/** Access tokens whose signature was checked; a client sends the same one for up to its TTL. */
const MAX_VERIFIED_TOKENS = 10_000;

interface Keys {
  signing: KeyObject;
  rotation: Buffer;
}

interface VerifiedToken {
  secret: string;
  claims: AccessClaims;
  /** `exp` in seconds: valid while the clock's second is before it, as jsonwebtoken decides. */
  exp: number;
}

const invalidToken = () =>
  unauthorized(ErrorCode.TOKEN_INVALID, 'The access token is invalid or expired');

/**
 * Access tokens (HS256 JWT: `sub` user id, `sid` session id, `typ: access`) and refresh tokens
 * (256 random bits, opaque, stored only as SHA-256). Token successors on rotation are derived,
 * not random: `next = HMAC(rotationKey, presented)`, so a token replayed inside the grace window
 * maps to the very pair the first rotation issued, on any instance, with only hashes stored.
 */
@Injectable()
export class TokenService {
  private readonly keys = new BoundedCache<string, Keys>({
    max: MAX_CACHED_KEYS,
    ttlMs: KEY_TTL_MS,
  });
  private readonly verified: BoundedCache<string, VerifiedToken>;

  constructor(
    private readonly jwt: JwtService,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {
    // A remembered token is dropped at the latest when a token issued now would have expired.
    this.verified = new BoundedCache({
      max: MAX_VERIFIED_TOKENS,
      ttlMs: settings.accessTokenTtlSeconds * 1000,
      clock: settings.clock,
    });
  }

  get accessTokenTtlSeconds(): number {
    return this.settings.accessTokenTtlSeconds;
  }

  /** The secrets for this request (the `getTokenSecret` option, else `secrets`): the first signs. */
  secretsFor(request: Request): readonly string[] | Promise<readonly string[]> {
    return this.settings.secretsFor(request);
  }

  signAccess(claims: AccessClaims, secret: string, issuedAtSeconds: number): string {
    return this.jwt.sign(
      { sub: claims.sub, sid: claims.sid, typ: 'access', iat: issuedAtSeconds },
      {
        // jsonwebtoken takes a KeyObject; @nestjs/jwt's types only name string | Buffer.
        secret: this.keysFor(secret).signing as unknown as string,
        algorithm: 'HS256',
        expiresIn: this.settings.accessTokenTtlSeconds,
      },
    );
  }

  /**
   * Verifies signature (HS256 only, so `alg: none` is refused), expiry against `nowMs`, and type.
   * A token already verified under the same secret is not verified again (HMAC, base64 and JSON
   * on every request of every client): only its expiry is checked, the same way.
   */
  verifyAccess(token: string, secrets: string | readonly string[], nowMs: number): AccessClaims {
    const candidates = typeof secrets === 'string' ? [secrets] : secrets;
    const nowS = Math.floor(nowMs / 1000);
    const known = this.verified.get(token);
    if (known !== undefined && candidates.includes(known.secret)) {
      if (nowS < known.exp) return known.claims;
      this.verified.delete(token);
      throw invalidToken();
    }
    for (const secret of candidates) {
      const payload = this.verifyWith(token, secret, nowS);
      if (payload === null) continue;
      const { sub, sid, typ, exp } = payload;
      if (typ !== 'access' || typeof sub !== 'string' || typeof sid !== 'string') {
        throw invalidToken();
      }
      const claims: AccessClaims = Object.freeze({ sub, sid });
      // Only tokens that expire are remembered (ours always do).
      if (typeof exp === 'number') this.verified.set(token, { secret, claims, exp });
      return claims;
    }
    throw invalidToken();
  }

  private verifyWith(token: string, secret: string, nowS: number): Record<string, unknown> | null {
    try {
      return this.jwt.verify<Record<string, unknown>>(token, {
        secret: this.keysFor(secret).signing as unknown as string,
        algorithms: ['HS256'],
        clockTimestamp: nowS,
      });
    } catch {
      return null;
    }
  }

  newRefreshToken(): string {
    return randomBytes(32).toString('base64url');
  }

  /** The token that replaces `presented` on rotation; the same for the same input, always. */
  successorOf(presented: string, secret: string): string {
    return createHmac('sha256', this.keysFor(secret).rotation)
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

  private keysFor(secret: string): Keys {
    let keys = this.keys.get(secret);
    if (!keys) {
      keys = {
        signing: createSecretKey(Buffer.from(secret, 'utf8')),
        rotation: Buffer.from(
          hkdfSync('sha256', secret, Buffer.alloc(0), 'nest-sessions refresh rotation', 32),
        ),
      };
      this.keys.set(secret, keys);
    }
    return keys;
  }
}
