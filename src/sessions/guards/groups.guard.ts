import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden, unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import { GROUPS_KEY } from '../decorators/require-groups.decorator';
import type { AuthenticatedRequest } from '../session-context';

/**
 * `@RequireGroups(...)`: the session (not merely the user) must have been authenticated
 * against every listed group, at login or reauth (403 GROUP_FORBIDDEN).
 */
@Injectable()
export class GroupsGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const groups = this.reflector.getAllAndOverride<string[] | undefined>(GROUPS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!groups?.length) return true;
    const session = context.switchToHttp().getRequest<AuthenticatedRequest>().auth?.session;
    if (!session) throw unauthorized(ErrorCode.TOKEN_MISSING, 'A bearer access token is required');
    const missing = groups.filter((g) => !session.groups.includes(g));
    if (missing.length) {
      throw forbidden(
        `This session is not authenticated for: ${missing.join(', ')}`,
        ErrorCode.GROUP_FORBIDDEN,
      );
    }
    return true;
  }
}
