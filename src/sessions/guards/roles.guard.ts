import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { forbidden, unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import { ROLES_KEY } from '../decorators/roles.decorator';
import type { AuthenticatedRequest } from '../session-context';

/** `@Roles(...)`: the user needs at least one of them (403 FORBIDDEN). Runs after SessionGuard. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles?.length) return true;
    const user = context.switchToHttp().getRequest<AuthenticatedRequest>().auth?.user;
    if (!user) throw unauthorized(ErrorCode.TOKEN_MISSING, 'A bearer access token is required');
    if (!roles.some((role) => user.roles.includes(role))) {
      throw forbidden(`This needs one of the roles: ${roles.join(', ')}`);
    }
    return true;
  }
}
