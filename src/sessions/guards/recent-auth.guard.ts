import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import type { AuthenticatedRequest } from '../session-context';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';

export const RECENT_AUTH_KEY = 'sessions:recent-auth';

/** What `@RequireRecentAuth` stores: the age limit, or null for the module's setting. */
export interface RecentAuthRequirement {
  maxAgeSeconds: number | null;
}

/**
 * `@RequireRecentAuth()`: the session's last password proof must be recent enough. Reads what
 * the session guard put on the request, so it costs no database read.
 */
@Injectable()
export class RecentAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const requirement = this.reflector.getAllAndOverride<RecentAuthRequirement | undefined>(
      RECENT_AUTH_KEY,
      [context.getHandler(), context.getClass()],
    );
    if (!requirement) return true;
    const session = context.switchToHttp().getRequest<AuthenticatedRequest>().auth?.session;
    // Without a session there is nothing to be recent about: the session guard was not applied.
    if (!session) throw unauthorized(ErrorCode.TOKEN_MISSING, 'A bearer access token is required');
    const maxAgeSeconds = requirement.maxAgeSeconds ?? this.settings.recentAuthMaxAgeSeconds;
    const ageMs = this.settings.clock.nowMs() - session.authenticatedAt.getTime();
    if (ageMs > maxAgeSeconds * 1000) {
      throw unauthorized(
        ErrorCode.REAUTH_REQUIRED,
        `This action needs a password proof from the last ${maxAgeSeconds} seconds: call POST /auth/reauth`,
      );
    }
    return true;
  }
}
