import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { RateLimitedException, unauthorized } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import { ALLOW_EXPIRED_KEY } from '../decorators/allow-expired-session.decorator';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { runWaterfall } from '../hooks';
import type { AuthenticatedRequest } from '../session-context';
import { tokenInvalid } from '../session-errors';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';
import { SessionCheckService } from '../session-check.service';
import { AccessClaims, TokenService } from '../token.service';
import { TokenTransport } from '../transport/token-transport.service';
import { BadTokenLimiter } from './bad-token.limiter';

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
    private readonly limiter: BadTokenLimiter,
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
    const claims = await this.verify(request, credential.token, secrets);
    // Before the session is looked up: a forged cross-site request costs no database work.
    this.transport.assertCsrf(request, credential, claims.sid, secrets);
    const auth = await this.check.authenticate(
      claims,
      flags.allowExpired,
      this.settings.connectionInfo(request).ip,
    );
    const hooks = this.settings.hooks.onRequest;
    (request as AuthenticatedRequest).auth = hooks
      ? await runWaterfall(hooks, auth, request)
      : auth;
    return true;
  }

  /**
   * The token's claims. A token this instance issued or verified before passes on its expiry
   * alone; any other is verified, unless its sender's IP is blocked for sending forged tokens
   * (429 RATE_LIMITED then, without verifying: a blocked address cannot test guessed secrets).
   * A failed token counts against the IP only when we did not sign it.
   */
  private async verify(
    request: Request,
    token: string,
    secrets: readonly string[],
  ): Promise<AccessClaims> {
    const nowMs = this.settings.clock.nowMs();
    const known = this.tokens.remembered(token, secrets, nowMs);
    if (known) return known;
    const ip = this.settings.connectionInfo(request).ip ?? '';
    const wait = this.limiter.blockedFor(ip);
    if (wait !== null) throw tooManyForged(wait);
    const verdict = this.tokens.inspect(token, secrets, nowMs);
    if (verdict.claims) return verdict.claims;
    if (!verdict.genuine) {
      const blocked = await this.limiter.countForged(ip);
      if (blocked !== null) throw tooManyForged(blocked);
    }
    throw tokenInvalid();
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

const tooManyForged = (retryAfterSeconds: number) =>
  new RateLimitedException('Too many invalid access tokens, try again later', retryAfterSeconds);
