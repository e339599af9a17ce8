import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { TokenResponse } from './dto/token-response.dto';
import { runWaterfall } from './hooks';
import type { AuthUser } from './session-context';
import {
  SESSION_SETTINGS,
  SessionSettings,
  UpsertSessionErrorContext,
} from './session-module.options';
import { IssueContext, SessionsService } from './sessions.service';
import { TokenService } from './token.service';
import { TokenAnswer, TokenTransport } from './transport/token-transport.service';
import type { HeaderWritable } from './transport/set-cookie';

export interface SignInOptions {
  /**
   * Set the cookies also on a request the browser marks `Sec-Fetch-Site: cross-site`. By
   * default such a request is refused in `cookie` mode and gets no cookies in `both` mode (login
   * CSRF). An OAuth/OIDC callback is a cross-site navigation by design: pass true there, once
   * your strategy has checked the `state` parameter it bound to this browser, which is the
   * callback's login-CSRF defence.
   */
  allowCrossSite?: boolean;
}

/**
 * Everything around issuing tokens over HTTP, in one place for the module's routes and yours:
 * the request's facts for the service (client address, signing secret), the
 * `onUpsertSessionError` and `onRefreshTokens` hooks, and the transport (cookies and the CSRF
 * token in the cookie modes, tokens left out of the body in `cookie` mode).
 *
 * A route of your own that authenticates someone another way (SSO, API key: any passport
 * strategy) ends with `signIn.login(req, res, user)`, and gets the same answer as
 * `POST /auth/login`.
 */
@Injectable()
export class SessionSignIn {
  constructor(
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly transport: TokenTransport,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  /** A new session for `user`, whom your code has already authenticated. */
  login(
    request: Request,
    response: HeaderWritable,
    user: AuthUser,
    input: { groups?: string[]; label?: string } = {},
    options: SignInOptions = {},
  ): Promise<TokenAnswer> {
    return this.issue(
      request,
      response,
      'login',
      (client) => this.sessions.login(user, input, client),
      options,
    );
  }

  /**
   * Runs one token-issuing operation for `request` and shapes its answer: use it for any route
   * that hands out tokens (the module's login, refresh and reauth go through it).
   */
  async issue(
    request: Request,
    response: HeaderWritable,
    operation: UpsertSessionErrorContext['operation'],
    run: (client: IssueContext) => Promise<TokenResponse>,
    options: SignInOptions = {},
  ): Promise<TokenAnswer> {
    if (!options.allowCrossSite) this.transport.assertNotCrossSite(request);
    const { ip, userAgent } = this.settings.connectionInfo(request);
    const [secret] = await this.tokens.secretsFor(request);
    const hooks = this.settings.hooks;
    const issued = await run({
      secret,
      ip,
      userAgent,
      onWriteError: (error) =>
        runWaterfall(hooks.onUpsertSessionError, error, { operation, request }),
    });
    const body = await runWaterfall(hooks.onRefreshTokens, issued, request);
    return this.transport.answer(request, response, body, secret, options);
  }
}
