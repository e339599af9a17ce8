import { Inject, Injectable } from '@nestjs/common';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { Request } from 'express';
import { forbidden } from '../../common/api.exception';
import { ErrorCode } from '../../common/error-codes';
import type { TokenResponse } from '../dto/token-response.dto';
import { SESSION_SETTINGS, SessionSettings } from '../session-module.options';
import { signCsrfToken, sameString, verifyCsrfToken } from './csrf-token';
import { appendSetCookie, HeaderWritable, setHeader } from './set-cookie';

/** The access token of a request and where it was found. */
export interface Credential {
  token: string;
  /** `header`: the bearer header (or your `transport.accessToken`); `cookie`: the access cookie. */
  via: 'header' | 'cookie';
}

/** A token answer as sent: in `cookie` mode without the tokens, with the CSRF token in cookie modes. */
export type TokenAnswer = Omit<TokenResponse, 'accessToken' | 'refreshToken'> &
  Partial<Pick<TokenResponse, 'accessToken' | 'refreshToken'>> & { csrfToken?: string };

/** Methods that must not change state (RFC 9110 §9.2.1): no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const CSRF_HEADER = 'x-csrf-token';
const DEVICE_HEADER = 'x-device-token';

/**
 * Where tokens travel (`transport.tokens`): reads the access and refresh tokens off a request,
 * checks the CSRF token of cookie-authenticated requests, and writes or clears the cookies on
 * a response of either HTTP platform. Header mode leaves cookies alone entirely: they are
 * neither read nor written.
 */
@Injectable()
export class TokenTransport {
  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  get mode(): SessionSettings['transport']['mode'] {
    return this.settings.transport.mode;
  }

  /** Whether token answers set cookies (modes `cookie` and `both`). */
  get usesCookies(): boolean {
    return this.mode !== 'header';
  }

  /**
   * The bearer header wins: when it (or your `transport.accessToken`) yields a token, that is
   * the credential, and no cookie is looked at. Only without one does the access cookie count.
   */
  credential(request: Request): Credential | null {
    const header = this.settings.accessToken(request);
    if (header) return { token: header, via: 'header' };
    if (!this.usesCookies) return null;
    const cookie = this.cookie(request, this.settings.transport.cookies.names.access);
    return cookie ? { token: cookie, via: 'cookie' } : null;
  }

  /** The refresh cookie's token, or null (always null in header mode). */
  refreshToken(request: Request): string | null {
    if (!this.usesCookies) return null;
    return this.cookie(request, this.settings.transport.cookies.names.refresh);
  }

  /**
   * 403 CSRF_FAILED unless a state-changing request authenticated by the access cookie carries
   * the CSRF cookie's value in `X-CSRF-Token`, and that value was minted for session `sid`.
   * A request with a bearer header needs nothing: a cross-site page cannot set that header.
   */
  assertCsrf(request: Request, credential: Credential, sid: string, secrets: readonly string[]) {
    if (credential.via !== 'cookie' || SAFE_METHODS.has(request.method)) return;
    const header = request.headers[CSRF_HEADER];
    const cookie = this.cookie(request, this.settings.transport.cookies.names.csrf);
    if (typeof header !== 'string' || header.length === 0) {
      throw forbidden('This request needs the X-CSRF-Token header', ErrorCode.CSRF_FAILED);
    }
    if (!cookie || !sameString(header, cookie) || !verifyCsrfToken(header, sid, secrets)) {
      throw forbidden('The X-CSRF-Token header does not match this session', ErrorCode.CSRF_FAILED);
    }
  }

  /**
   * Login CSRF: a cross-site page must not sign a browser in (or rotate its cookies). Browsers
   * mark such requests `Sec-Fetch-Site: cross-site`; in `cookie` mode they are refused, in
   * `both` mode answered without cookies (see `answer`). Call before creating the session.
   */
  assertNotCrossSite(request: Request): void {
    if (this.mode === 'cookie' && isCrossSite(request)) {
      throw forbidden(
        'Cookie sign-in is only accepted from the same site (Sec-Fetch-Site: cross-site)',
        ErrorCode.CSRF_FAILED,
      );
    }
  }

  /**
   * The answer of login, refresh, reauth (and any route of yours that issues tokens): in the
   * cookie modes it sets the access, refresh and CSRF cookies on `response` and adds
   * `csrfToken` to the body; in `cookie` mode the tokens leave the body. `secret` signs the
   * CSRF token (the request's first secret, as for the access token).
   */
  answer(
    request: Request,
    response: HeaderWritable,
    body: TokenResponse,
    secret: string,
    options: { allowCrossSite?: boolean } = {},
  ): TokenAnswer {
    if (!this.usesCookies || (isCrossSite(request) && !options.allowCrossSite)) return body;
    const csrfToken = signCsrfToken(body.session.id, secret);
    const now = this.settings.clock.nowMs();
    const sessionSeconds = Math.max(
      0,
      Math.floor((Date.parse(body.session.expiresAt) - now) / 1000),
    );
    appendSetCookie(response, [
      this.serialize('access', body.accessToken, body.expiresIn),
      this.serialize('refresh', body.refreshToken, sessionSeconds),
      this.serialize('csrf', csrfToken, sessionSeconds),
    ]);
    if (this.mode === 'both') return { ...body, csrfToken };
    const { accessToken: _a, refreshToken: _r, ...rest } = body;
    return { ...rest, csrfToken };
  }

  /** Expires the three cookies (logout); nothing in header mode. */
  clear(response: HeaderWritable): void {
    if (!this.usesCookies) return;
    appendSetCookie(response, [
      this.serialize('access', '', 0),
      this.serialize('refresh', '', 0),
      this.serialize('csrf', '', 0),
    ]);
  }

  /**
   * The trusted-device token a login presents: the `X-Device-Token` header, else (cookie
   * modes) the device cookie.
   */
  deviceToken(request: Request): string | null {
    const header = request.headers?.[DEVICE_HEADER];
    if (typeof header === 'string' && header.length > 0) return header;
    if (!this.usesCookies) return null;
    return this.cookie(request, this.settings.transport.cookies.names.device);
  }

  /**
   * Hands a device its trusted-device token: the response header (not in `cookie` mode, which
   * keeps tokens away from scripts), and the cookie in the cookie modes unless the request is
   * cross-site (no cookies for those, as in `answer`).
   */
  rememberDevice(
    request: Request,
    response: HeaderWritable,
    token: string,
    maxAgeSeconds: number,
  ): void {
    if (this.mode !== 'cookie') setHeader(response, DEVICE_HEADER, token);
    if (this.usesCookies && !isCrossSite(request)) {
      appendSetCookie(response, [this.serialize('device', token, maxAgeSeconds)]);
    }
  }

  /** The CSRF cookie's name, for pages that read it (`document.cookie`). */
  get csrfCookieName(): string {
    return this.settings.transport.cookies.names.csrf;
  }

  private serialize(
    kind: 'access' | 'refresh' | 'csrf' | 'device',
    value: string,
    maxAge: number,
  ): string {
    const { secure, sameSite, refreshPath, names } = this.settings.transport.cookies;
    return serializeCookie(names[kind], value, {
      // The CSRF cookie is read by the page's script; the tokens never are.
      httpOnly: kind !== 'csrf',
      secure,
      // Only the auth routes ever need the refresh token (refresh) and the device token (login),
      // and only from a script of the site itself: Strict, and scoped to their path.
      sameSite: kind === 'refresh' || kind === 'device' ? 'strict' : sameSite,
      path: kind === 'refresh' || kind === 'device' ? refreshPath : '/',
      maxAge,
      ...(maxAge === 0 ? { expires: new Date(0) } : {}),
    });
  }

  private cookie(request: Request, name: string): string | null {
    const header = request.headers?.cookie;
    if (typeof header !== 'string' || header.length === 0) return null;
    const value = parseCookies(header)[name];
    return value ? value : null;
  }
}

function isCrossSite(request: Request): boolean {
  return request.headers?.['sec-fetch-site'] === 'cross-site';
}
