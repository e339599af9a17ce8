import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import { ApiException } from '../common/api.exception';
import * as accessToken from './access-token';
import { keyIdOf } from './access-token';
import { resolveSessionOptions } from './session-module.options';
import { TokenService } from './token.service';

const config = resolveSessionOptions({ secrets: 'default-secret', accessTokenTtlSeconds: 900 });
const nowS = 1_900_000_000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ApiException ? e.code : 'other';
  }
  return undefined;
}

describe('TokenService', () => {
  const tokens = new TokenService(config);

  it('signs HS256 access tokens with kid, sub, sid, typ, iss, aud and the given iat, verified against a clock', () => {
    const token = tokens.signAccess({ sub: 'u1', sid: 's1' }, 'k', nowS);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: keyIdOf('k') });
    expect(payload).toEqual({
      sub: 'u1',
      sid: 's1',
      typ: 'access',
      iss: 'nest-sessions',
      aud: 'nest-sessions',
      iat: nowS,
      exp: nowS + 900,
    });
    expect(tokens.verifyAccess(token, 'k', (nowS + 899) * 1000)).toEqual({ sub: 'u1', sid: 's1' });
    expect(codeOf(() => tokens.verifyAccess(token, 'k', (nowS + 900) * 1000))).toBe(
      'TOKEN_INVALID',
    );
    expect(codeOf(() => tokens.verifyAccess(token, 'other', nowS * 1000))).toBe('TOKEN_INVALID');
  });

  it('is deterministic for the same claims and iat (so a grace replay is byte-identical)', () => {
    expect(tokens.signAccess({ sub: 'u', sid: 's' }, 'k', nowS)).toBe(
      tokens.signAccess({ sub: 'u', sid: 's' }, 'k', nowS),
    );
  });

  it('refuses alg none, other algorithms and other token types', () => {
    const jwt = new JwtService();
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { sub: 'u', sid: 's', typ: 'access', iat: nowS, exp: nowS + 60 };
    const none = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
    const hs512 = jwt.sign(claims, { secret: 'k', algorithm: 'HS512' });
    const refresh = jwt.sign({ ...claims, typ: 'refresh' }, { secret: 'k' });
    const noSid = jwt.sign({ sub: 'u', typ: 'access', iat: nowS, exp: nowS + 60 }, { secret: 'k' });
    for (const t of [none, hs512, refresh, noSid, 'x.y.z', '']) {
      expect(codeOf(() => tokens.verifyAccess(t, 'k', nowS * 1000))).toBe('TOKEN_INVALID');
    }
  });

  it('makes 256-bit opaque refresh tokens and derives successors per session key, not per secret', () => {
    const a = tokens.newRefreshToken();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(tokens.newRefreshToken());
    const key = tokens.newRotationKey();
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(key).not.toBe(tokens.newRotationKey());
    expect(tokens.successorOf(a, key)).toBe(tokens.successorOf(a, key));
    expect(tokens.successorOf(a, key)).not.toBe(tokens.successorOf(a, tokens.newRotationKey()));
    expect(tokens.successorOf(a, key)).not.toBe(a);
    expect(tokens.hashRefresh(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens.sameHash(tokens.hashRefresh(a), tokens.hashRefresh(a))).toBe(true);
    expect(tokens.sameHash(tokens.hashRefresh(a), tokens.hashRefresh('b'))).toBe(false);
  });

  it('carries the session generation as gen, and returns it verified', () => {
    const gen = tokens.newGeneration();
    expect(Buffer.from(gen, 'base64url')).toHaveLength(16);
    const token = tokens.signAccess({ sub: 'u1', sid: 's1', gen }, 'k', nowS);
    expect(tokens.verifyAccess(token, 'k', nowS * 1000)).toEqual({ sub: 'u1', sid: 's1', gen });
  });

  it('takes the secret from getTokenSecret when configured', async () => {
    const custom = new TokenService(
      resolveSessionOptions({
        getTokenSecret: (req) => `t-${String(req.headers['x-tenant'])}`,
      }),
    );
    const req = { headers: { 'x-tenant': 'a' } } as unknown as Request;
    expect(await custom.secretsFor(req)).toEqual(['t-a']);
    expect(await tokens.secretsFor(req)).toEqual(['default-secret']);
  });

  it('remembers the tokens it issues: their first use costs no verification', () => {
    const own = new TokenService(config);
    const verify = jest.spyOn(accessToken, 'verifyAccessToken');
    verify.mockClear();
    const token = own.signAccess({ sub: 'u1', sid: 's1', gen: 'g' }, 'k', nowS);
    expect(own.remembered(token, 'k', nowS * 1000)).toEqual({ sub: 'u1', sid: 's1', gen: 'g' });
    expect(own.verifyAccess(token, 'k', nowS * 1000)).toEqual({ sub: 'u1', sid: 's1', gen: 'g' });
    expect(verify).not.toHaveBeenCalled();
    expect(own.remembered(token, 'other', nowS * 1000)).toBeUndefined();
    expect(codeOf(() => own.remembered(token, 'k', (nowS + 900) * 1000))).toBe('TOKEN_INVALID');
    verify.mockRestore();
  });

  it('tells a refused token of ours (genuine) from a forged one', () => {
    const own = new TokenService(config);
    const token = new TokenService(config).signAccess({ sub: 'u1', sid: 's1' }, 'k', nowS);
    expect(own.inspect(token, 'k', (nowS + 900) * 1000)).toEqual({ claims: null, genuine: true });
    expect(own.inspect(token, 'other', nowS * 1000)).toEqual({ claims: null, genuine: false });
    expect(own.inspect('x.y.z', 'k', nowS * 1000)).toEqual({ claims: null, genuine: false });
    expect(own.inspect(token, 'k', nowS * 1000)).toEqual({ claims: { sub: 'u1', sid: 's1' } });
  });

  it('verifies a token once per secret, then checks only its expiry, exactly as before', () => {
    const own = new TokenService(config);
    const verify = jest.spyOn(accessToken, 'verifyAccessToken');
    // Issued by another instance: this one has not seen it.
    const token = new TokenService(config).signAccess({ sub: 'u1', sid: 's1' }, 'k', nowS);
    verify.mockClear();
    expect(own.verifyAccess(token, 'k', nowS * 1000)).toEqual({ sub: 'u1', sid: 's1' });
    expect(own.verifyAccess(token, 'k', (nowS + 899) * 1000 + 999)).toEqual({
      sub: 'u1',
      sid: 's1',
    });
    expect(verify).toHaveBeenCalledTimes(1);
    // Another secret is a full verify (and fails); the remembered token is still refused at exp.
    expect(codeOf(() => own.verifyAccess(token, 'other', nowS * 1000))).toBe('TOKEN_INVALID');
    expect(verify).toHaveBeenCalledTimes(2);
    expect(codeOf(() => own.verifyAccess(token, 'k', (nowS + 900) * 1000))).toBe('TOKEN_INVALID');
    expect(codeOf(() => own.verifyAccess(token, 'k', (nowS + 900) * 1000))).toBe('TOKEN_INVALID');
    // A token that failed is never remembered as good.
    const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA');
    for (let i = 0; i < 2; i++) {
      expect(codeOf(() => own.verifyAccess(tampered, 'k', nowS * 1000))).toBe('TOKEN_INVALID');
    }
  });

  it('signs with the first secret and verifies with any of the list (rotation)', () => {
    const own = new TokenService(config);
    const old = own.signAccess({ sub: 'u1', sid: 's1' }, 'old', nowS);
    const current = own.signAccess({ sub: 'u1', sid: 's1' }, 'new', nowS);
    expect(own.verifyAccess(old, ['new', 'old'], nowS * 1000)).toEqual({ sub: 'u1', sid: 's1' });
    expect(own.verifyAccess(current, ['new', 'old'], nowS * 1000)).toEqual({
      sub: 'u1',
      sid: 's1',
    });
    // Once the old secret is dropped from the list, its tokens stop verifying, remembered or not.
    expect(codeOf(() => own.verifyAccess(old, ['new'], nowS * 1000))).toBe('TOKEN_INVALID');
    expect(codeOf(() => own.verifyAccess(old, ['new', 'other'], nowS * 1000))).toBe(
      'TOKEN_INVALID',
    );
  });
});
