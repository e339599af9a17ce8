import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiExtension } from '../../common/openapi';
import {
  RECENT_AUTH_KEY,
  RecentAuthGuard,
  type RecentAuthRequirement,
} from '../guards/recent-auth.guard';

/**
 * Step-up: the route needs a password proof on this session (login, reauth or password change:
 * the session's `authenticatedAt`) no older than `maxAgeSeconds`, default the module's
 * `recentAuthMaxAgeSeconds`; otherwise 401 REAUTH_REQUIRED, and the client calls
 * `POST /auth/reauth` and retries. On a handler or a controller. It brings its own guard, which
 * runs after the session guard (global or class-level), so it works with `globalGuards: false`.
 */
export function RequireRecentAuth(maxAgeSeconds?: number): MethodDecorator & ClassDecorator {
  if (maxAgeSeconds !== undefined && (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0)) {
    throw new Error(
      `RequireRecentAuth: maxAgeSeconds must be an integer ≥ 0 (got ${maxAgeSeconds})`,
    );
  }
  return applyDecorators(
    SetMetadata(RECENT_AUTH_KEY, {
      maxAgeSeconds: maxAgeSeconds ?? null,
    } satisfies RecentAuthRequirement),
    UseGuards(RecentAuthGuard),
    ApiExtension('x-require-recent-auth', { maxAgeSeconds: maxAgeSeconds ?? 'module setting' }),
  );
}
