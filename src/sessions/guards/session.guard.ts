import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { unauthorized } from '../../common/api.exception';
import { Clock } from '../../common/clock';
import { ErrorCode } from '../../common/error-codes';
import { ALLOW_EXPIRED_KEY } from '../decorators/allow-expired-session.decorator';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { runWaterfall } from '../hooks';
import type { AuthenticatedRequest } from '../session-context';
import { SESSION_MODULE_OPTIONS, SessionModuleOptions } from '../session-module.options';
import { SessionsService } from '../sessions.service';
import { TokenService } from '../token.service';
import { bearerToken } from './bearer-token';

/**
 * Deny by default: every route needs a valid access token whose session is live, unless marked
 * `@Public()`. `@AllowExpiredSession()` also lets an expired (never an ended) session through.
 * Puts `{ user, session }` on `request.auth` (after the `onRequest` hooks).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    @Inject(SESSION_MODULE_OPTIONS) private readonly options: SessionModuleOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    // Deny by default everywhere: a non-HTTP handler (RPC, WebSocket) carries no bearer header
    // this guard could check, so it must be marked @Public() and authenticate itself.
    if (context.getType() !== 'http') return false;

    const request = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(request);
    if (!token) throw unauthorized(ErrorCode.TOKEN_MISSING, 'A bearer access token is required');
    const secret = await this.tokens.secretFor(request);
    const claims = this.tokens.verifyAccess(token, secret, this.clock.nowMs());
    const allowExpired =
      this.reflector.getAllAndOverride<boolean>(ALLOW_EXPIRED_KEY, targets) === true;
    const auth = await this.sessions.authenticate(claims, allowExpired);
    (request as AuthenticatedRequest).auth = await runWaterfall(
      this.options.hooks?.onRequest,
      auth,
      request,
    );
    return true;
  }
}
