import { createHash } from 'node:crypto';
import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { RateLimitedException } from '../../common/api.exception';
import type { AuthContext } from '../session-context';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';

const ipOf = (settings: SessionSettings, req: Record<string, unknown>) =>
  settings.connectionInfo(req as unknown as Request).ip ?? '';

/**
 * The two login limits, both per window and both counted in `storage`:
 * - `login`: `limit` attempts per client IP and username (case-insensitive). Keying on both
 *   means one attacker cannot lock a user out from everywhere, and one IP cannot try many
 *   passwords for one user.
 * - `login-ip`: `ipLimit` attempts per client IP whatever the username, so one IP cannot try
 *   one password against many usernames (password spraying).
 * Headers are left to the guard: the contract names one `Retry-After`, not one per throttler.
 */
export function loginThrottlers(
  settings: SessionSettings,
  storage: ThrottlerStorage,
): ThrottlerModuleOptions {
  const ttl = settings.loginRateLimit.windowSeconds * 1000;
  return {
    storage,
    throttlers: [
      { name: 'login', ttl, limit: settings.loginRateLimit.limit, setHeaders: false },
      {
        name: 'login-ip',
        ttl,
        limit: settings.loginRateLimit.ipLimit,
        setHeaders: false,
        getTracker: (req) => ipOf(settings, req),
      },
    ],
  };
}

/** Login, reauth and password-change attempts, limited as `loginThrottlers` says; 429 with `Retry-After`. */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request & { auth?: AuthContext };
    const body = request.body as { username?: unknown } | undefined;
    const username =
      typeof body?.username === 'string' ? body.username : (request.auth?.user.username ?? '');
    return `${ipOf(this.settings, req)}|${username.trim().toLowerCase()}`;
  }

  /**
   * One count per tracker for every route this guard is on: the throttler's own key names the
   * handler, which would give login, reauth and password change a budget each, so a thief holding
   * an access token could guess the current password on top of the login attempts.
   */
  protected override generateKey(_context: ExecutionContext, suffix: string, name: string): string {
    return createHash('sha256').update(`password-attempts-${name}-${suffix}`).digest('hex');
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new RateLimitedException(
      'Too many attempts, try again later',
      Math.max(1, detail.timeToBlockExpire),
    );
  }
}
