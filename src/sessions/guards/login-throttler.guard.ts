import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { getConnectionInfo } from '../connection-info';
import type { AuthContext } from '../session-context';

/**
 * LOGIN_RATE_LIMIT attempts per minute per client IP and username (case-insensitive), for
 * login and reauth. Keying on both means one attacker cannot lock a user out from everywhere,
 * and one IP cannot try many passwords for one user.
 */
@Injectable()
export class LoginThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Request & { auth?: AuthContext };
    const body = request.body as { username?: unknown } | undefined;
    const username =
      typeof body?.username === 'string' ? body.username : (request.auth?.user.username ?? '');
    return `${getConnectionInfo(request).ip ?? ''}|${username.trim().toLowerCase()}`;
  }
}
