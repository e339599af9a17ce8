import { parseSetCookie } from 'cookie';
import type { Request } from 'express';
import { ManualClock } from '../../common/clock';
import type { TokenResponse } from '../dto/token-response.dto';
import { resolveSessionOptions, SessionModuleOptions } from '../session-module.options';
import { TokenTransport } from './token-transport.service';

const SECRET = 'transport-spec-secret-0123456789-0123456789';
const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));

function transport(options: SessionModuleOptions['transport']) {
  return new TokenTransport(
    resolveSessionOptions({ secrets: [SECRET], clock, transport: options }),
  );
}

const body = {
  accessToken: 'access.jwt',
  refreshToken: 'opaque',
  tokenType: 'Bearer',
  expiresIn: 900,
  session: { id: 'sid-1', expiresAt: '2030-01-02T00:00:00.000Z' },
} as unknown as TokenResponse;

function answer(t: TokenTransport, headers: Record<string, string> = {}) {
  const lines: string[] = [];
  const result = t.answer(
    { headers } as Request,
    { append: (_n, v) => lines.push(...v) },
    body,
    SECRET,
  );
  return {
    result,
    cookies: Object.fromEntries(lines.map((l) => [parseSetCookie(l).name, parseSetCookie(l)])),
  };
}

describe('TokenTransport', () => {
  it('defaults to Secure cookies with __Host-/__Secure- names, refresh Strict on /auth', () => {
    const { cookies } = answer(transport({ tokens: 'cookie' }));
    expect(Object.keys(cookies).sort()).toEqual([
      '__Host-access_token',
      '__Host-csrf_token',
      '__Secure-refresh_token',
    ]);
    expect(cookies['__Host-access_token']).toMatchObject({
      secure: true,
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
      maxAge: 900,
    });
    expect(cookies['__Secure-refresh_token']).toMatchObject({
      secure: true,
      httpOnly: true,
      path: '/auth',
      sameSite: 'strict',
      maxAge: 86400,
    });
    expect(cookies['__Host-csrf_token']).toMatchObject({
      secure: true,
      path: '/',
      sameSite: 'lax',
    });
    expect(cookies['__Host-csrf_token'].httpOnly).toBeFalsy();
    // __Host- cookies must have no Domain, else browsers drop them.
    for (const c of Object.values(cookies)) expect(c.domain).toBeUndefined();
  });

  it('honours sameSite strict and a refresh path', () => {
    const { cookies } = answer(
      transport({
        tokens: 'both',
        cookies: { secure: false, sameSite: 'strict', refreshPath: '/api/auth' },
      }),
    );
    expect(cookies.access_token).toMatchObject({ sameSite: 'strict', path: '/' });
    expect(cookies.refresh_token).toMatchObject({ path: '/api/auth' });
  });

  it('leaves the tokens out of the body in cookie mode only, and adds the CSRF token', () => {
    const cookieMode = answer(transport({ tokens: 'cookie' })).result;
    expect(cookieMode).not.toHaveProperty('accessToken');
    expect(cookieMode).not.toHaveProperty('refreshToken');
    expect(cookieMode.csrfToken).toEqual(expect.any(String));
    const both = answer(transport({ tokens: 'both' })).result;
    expect(both).toMatchObject({ accessToken: 'access.jwt', refreshToken: 'opaque' });
    expect(answer(transport({ tokens: 'header' })).result).toBe(body);
  });

  it('reads the bearer header before the cookie, and cookies not at all in header mode', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as Request;
    const both = transport({ tokens: 'both', cookies: { secure: false } });
    expect(both.credential(req({ cookie: 'access_token=c' }))).toEqual({
      token: 'c',
      via: 'cookie',
    });
    expect(both.credential(req({ cookie: 'access_token=c', authorization: 'Bearer h' }))).toEqual({
      token: 'h',
      via: 'header',
    });
    const header = transport({ tokens: 'header' });
    expect(header.credential(req({ cookie: 'access_token=c; __Host-access_token=c' }))).toBeNull();
    expect(header.refreshToken(req({ cookie: 'refresh_token=r' }))).toBeNull();
  });

  it('rejects bad transport options at start-up', () => {
    expect(() => transport({ tokens: 'cookies' as never })).toThrow(/transport.tokens/);
    expect(() => transport({ cookies: { sameSite: 'none' as never } })).toThrow(/sameSite/);
    expect(() => transport({ cookies: { refreshPath: 'auth' } })).toThrow(/refreshPath/);
  });
});
