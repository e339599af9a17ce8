import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import { ALLOW_EXPIRED_KEY } from '../decorators/allow-expired-session.decorator';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { runWaterfall } from '../hooks';
import type { AuthenticatedRequest } from '../session-context';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';
import { SessionCheckService } from '../session-check.service';
import { TokenService } from '../token.service';
import { TokenTransport } from '../transport/token-transport.service';

interface RouteFlags {
  isPublic: boolean;
  allowExpired: boolean;
}

/**
 * Deny by default: every route needs a valid access token whose session is live, unless marked
 * `@Public()`. `@AllowExpiredSession()` also lets an expired (never an ended) session through.
 * Puts `{ user, session }` on `request.auth` (after the `onRequest` hooks).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  /** Per handler, then class: decorator metadata is fixed once the app is built. */
  private readonly flags = new WeakMap<object, WeakMap<object, RouteFlags>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly check: SessionCheckService,
    private readonly transport: TokenTransport,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const flags = this.flagsOf(context);
    if (flags.isPublic) return true;
    // Deny by default everywhere: a non-HTTP handler (RPC, WebSocket) carries no bearer header
    // this guard could check, so it must be marked @Public() and authenticate itself.
    if (context.getType() !== 'http') return false;

    const request = context.switchToHttp().getRequest<Request>();
    const credential = this.transport.credential(request);
    if (!credential) {
      throw unauthorized(ErrorCode.TOKEN_MISSING, 'A bearer access token is required');
    }
    const pending = this.tokens.secretsFor(request);
    const secrets = pending instanceof Promise ? await pending : pending;
    const claims = this.tokens.verifyAccess(credential.token, secrets, this.settings.clock.nowMs());
    // Before the session is looked up: a forged cross-site request costs no database work.
    this.transport.assertCsrf(request, credential, claims.sid, secrets);
    const auth = await this.check.authenticate(claims, flags.allowExpired);
    const hooks = this.settings.hooks.onRequest;
    (request as AuthenticatedRequest).auth = hooks
      ? await runWaterfall(hooks, auth, request)
      : auth;
    return true;
  }

  private flagsOf(context: ExecutionContext): RouteFlags {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.flags.get(handler);
    if (!byClass) this.flags.set(handler, (byClass = new WeakMap()));
    let flags = byClass.get(cls);
    if (!flags) {
      const targets = [handler, cls];
      flags = {
        isPublic: !!this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets),
        allowExpired:
          this.reflector.getAllAndOverride<boolean>(ALLOW_EXPIRED_KEY, targets) === true,
      };
      byClass.set(cls, flags);
    }
    return flags;
  }
}
