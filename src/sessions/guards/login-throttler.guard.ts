import { Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import type { AuthContext } from '../session-context';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';

/**
 * `loginRateLimit` attempts per window per client IP and username (case-insensitive), for
 * login and reauth. Keying on both means one attacker cannot lock a user out from everywhere,
 * and one IP cannot try many passwords for one user.
 */
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
    return `${this.settings.connectionInfo(request).ip ?? ''}|${username.trim().toLowerCase()}`;
  }
}
