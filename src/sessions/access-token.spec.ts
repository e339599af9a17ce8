import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import {
  AccessTokenPolicy,
  accessTokenKeys,
  hasGenuineSignature,
  keyIdOf,
  signAccessToken,
  verifyAccessToken,
} from './access-token';

const SECRET_A = 'Hk3v9QzT1mWc7Rb0Ya5Nf2Lx8Jd4Ps6Ge+UoViCtE=';
const SECRET_B = 'Zt3Mw9Qa6Ve1Nc8Rk4Yh7Bp2Lx5Gs0Jd-FuTiWoHm_';
/** Never configured: what an attacker guessing or leaking the wrong secret signs with. */
const SECRET_C = 'c3JbT0Lm8Xq1Vw6Pz4Nd9Kf2Hs7Ga5Ye+RuOiEtWo=';
const KEYS = accessTokenKeys([SECRET_A, SECRET_B]);
const KID = { A: keyIdOf(SECRET_A), B: keyIdOf(SECRET_B), C: keyIdOf(SECRET_C) };
const SECRET_OF: Record<string, string> = { A: SECRET_A, B: SECRET_B, C: SECRET_C };
const POLICY: AccessTokenPolicy = {
  issuer: 'nest-sessions',
  audience: 'nest-sessions',
  ttlSeconds: 900,
  clockSkewSeconds: 30,
};
const NOW = 1_900_000_000;

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT assembled by hand (not by the library under test), signed as `signAlg` says. */
function forge(header: object, payload: unknown, secret: string, signAlg: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const hmac: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
  const signature =
    signAlg === 'none'
      ? ''
      : hmac[signAlg]
        ? createHmac(hmac[signAlg], secret).update(input).digest('base64url')
        : randomBytes(64).toString('base64url');
  return `${input}.${signature}`;
}

const claims = (over: Record<string, unknown> = {}) => ({
  sub: 'u1',
  sid: 's1',
  typ: 'access',
  iss: POLICY.issuer,
  aud: POLICY.audience,
  iat: NOW - 10,
  exp: NOW - 10 + POLICY.ttlSeconds,
  ...over,
});
const header = (over: Record<string, unknown> = {}) => ({
  alg: 'HS256',
  typ: 'JWT',
  kid: KID.A,
  ...over,
});
const verifyNow = (token: string) => verifyAccessToken(token, KEYS, NOW, POLICY);

describe('verifyAccessToken', () => {
  it('accepts what signAccessToken issues, with any key of the list, until it expires', () => {
    for (const key of KEYS) {
      const token = signAccessToken({ sub: 'u1', sid: 's1', gen: 'g1' }, key, NOW, POLICY);
      expect(verifyNow(token)).toEqual({
        sub: 'u1',
        sid: 's1',
        gen: 'g1',
        iat: NOW,
        exp: NOW + 900,
      });
      expect(verifyAccessToken(token, KEYS, NOW + 899, POLICY)).not.toBeNull();
      expect(verifyAccessToken(token, KEYS, NOW + 900, POLICY)).toBeNull();
    }
  });

  it('refuses a token once its key is removed from the list (rotation finished)', () => {
    const token = signAccessToken({ sub: 'u1', sid: 's1' }, KEYS[1], NOW, POLICY);
    expect(verifyAccessToken(token, KEYS.slice(0, 1), NOW, POLICY)).toBeNull();
  });

  // Issue 11 finding 1, each exactly as the review forged it (with the real secret).
  it.each([
    ['without exp', claims({ exp: undefined })],
    ['with exp ten years out', claims({ exp: NOW + 10 * 365 * 86400 })],
    ['with iat days in the future', claims({ iat: NOW + 3 * 86400, exp: NOW + 3 * 86400 + 900 })],
    ['without iat', claims({ iat: undefined })],
    ['without iss', claims({ iss: undefined })],
    ['for another audience', claims({ aud: 'another-service' })],
    ['of another type', claims({ typ: 'refresh' })],
  ])('refuses a correctly signed token %s', (_why, payload) => {
    expect(verifyNow(forge(header(), payload, SECRET_A, 'HS256'))).toBeNull();
  });

  it.each([
    ['alg none', header({ alg: 'none' }), 'none'],
    ['HS512', header({ alg: 'HS512' }), 'HS512'],
    ['RS256 (key confusion)', header({ alg: 'RS256' }), 'RS256'],
    ['no kid', header({ kid: undefined }), 'HS256'],
    ['an unknown kid', header({ kid: KID.C }), 'HS256'],
    ['a critical extension', header({ crit: ['b64'], b64: false }), 'HS256'],
  ])('refuses a header with %s', (_why, h, alg) => {
    expect(verifyNow(forge(h, claims(), SECRET_A, alg))).toBeNull();
  });

  it('chooses the key by kid: a token signed with B but naming A fails', () => {
    expect(verifyNow(forge(header({ kid: KID.A }), claims(), SECRET_B, 'HS256'))).toBeNull();
    expect(verifyNow(forge(header({ kid: KID.B }), claims(), SECRET_B, 'HS256'))).not.toBeNull();
  });

  it('never throws on junk', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (junk) => {
        expect(verifyNow(junk)).toBeNull();
        expect(hasGenuineSignature(junk, KEYS)).toBe(false);
      }),
    );
    expect(verifyNow('a'.repeat(10_000))).toBeNull();
    expect(hasGenuineSignature('a'.repeat(10_000), KEYS)).toBe(false);
  });

  it('tells an expired token of ours (genuine) from a forged one', () => {
    const token = signAccessToken({ sub: 'u1', sid: 's1' }, KEYS[1], NOW, POLICY);
    expect(verifyAccessToken(token, KEYS, NOW + 10_000, POLICY)).toBeNull();
    expect(hasGenuineSignature(token, KEYS)).toBe(true);
    expect(hasGenuineSignature(token, KEYS.slice(0, 1))).toBe(false);
    const other = signAccessToken(
      { sub: 'u1', sid: 's1' },
      accessTokenKeys([SECRET_C])[0],
      NOW,
      POLICY,
    );
    expect(hasGenuineSignature(other, KEYS)).toBe(false);
  });

  /**
   * The property the issue asks for: over random headers, algorithms, keys and claim sets, the
   * verifier accepts exactly the tokens that are well-formed, current and correctly signed, as
   * judged by an independent statement of the rules (`expected`).
   */
  it('accepts exactly the well-formed, current, correctly signed tokens', () => {
    const offset = fc.oneof(
      fc.integer({ min: -2000, max: 2000 }),
      fc.constantFrom(-901, -900, -899, -1, 0, 1, 29, 30, 31, 899, 900, 901, 10 * 365 * 86400),
    );
    /** Mostly `valid`, sometimes anything from `other`: keeps both sides of the rule busy. */
    const mostly = <T, U>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<U>) =>
      fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: other });
    const numberish = (valid: fc.Arbitrary<number>) =>
      mostly(valid, fc.oneof(offset, fc.constantFrom(undefined, '1900000000', 1.5, null)));
    const text = mostly(
      fc.constantFrom('u1', '6650f1f0c0ffee0000000001'),
      fc.constantFrom('', undefined, 7, ['u1']),
    );
    const arbitrary = fc.record({
      alg: mostly(
        fc.constant('HS256'),
        fc.constantFrom('HS384', 'HS512', 'none', 'RS256', 'ES256', 'hs256'),
      ),
      /** null: signed as the header says; else a signature of another kind. */
      signAs: mostly(fc.constant(null), fc.constantFrom('HS256', 'HS512', 'none', 'RS256')),
      kid: mostly(fc.constantFrom('A', 'B'), fc.constantFrom('C', undefined, 'nonsense')),
      /** null: signed with the key the kid names (C when it names none); else with this one. */
      signer: mostly(fc.constant(null), fc.constantFrom('A', 'B', 'C')),
      typHeader: mostly(fc.constantFrom('JWT', undefined), fc.constantFrom('at+jwt', 'jwt')),
      crit: mostly(fc.constant(undefined), fc.constant(['exp'])),
      sub: text,
      sid: text,
      typ: mostly(fc.constant('access'), fc.constantFrom('refresh', undefined)),
      iss: mostly(fc.constant(POLICY.issuer), fc.constantFrom('evil', undefined)),
      aud: mostly(
        fc.constant(POLICY.audience),
        fc.constantFrom('evil', undefined, [POLICY.audience]),
      ),
      iatOffset: numberish(fc.integer({ min: -1000, max: 40 })),
      lifetime: numberish(fc.integer({ min: 1, max: 920 })),
      nbf: mostly(fc.constant(undefined), offset),
      gen: mostly(fc.constantFrom(undefined, 'g1'), fc.constant(3)),
    });

    let accepted = 0;
    fc.assert(
      fc.property(arbitrary, (c) => {
        const iat = typeof c.iatOffset === 'number' ? NOW + c.iatOffset : c.iatOffset;
        const exp =
          typeof c.lifetime === 'number' && typeof iat === 'number' ? iat + c.lifetime : c.lifetime;
        const nbf = c.nbf === undefined ? undefined : NOW + c.nbf;
        const h: Record<string, unknown> = { alg: c.alg };
        if (c.kid !== undefined) h.kid = KID[c.kid as keyof typeof KID] ?? c.kid;
        if (c.typHeader !== undefined) h.typ = c.typHeader;
        if (c.crit !== undefined) h.crit = c.crit;
        const payload: Record<string, unknown> = {};
        for (const [k, v] of Object.entries({
          sub: c.sub,
          sid: c.sid,
          typ: c.typ,
          iss: c.iss,
          aud: c.aud,
          iat,
          exp,
          nbf,
          gen: c.gen,
        })) {
          if (v !== undefined) payload[k] = v;
        }
        const signAs = c.signAs ?? c.alg;
        const signer = c.signer ?? (c.kid === 'A' || c.kid === 'B' ? c.kid : 'C');
        const token = forge(h, payload, SECRET_OF[signer], signAs);

        const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
        const genuine =
          c.alg === 'HS256' &&
          signAs === 'HS256' &&
          (c.kid === 'A' || c.kid === 'B') &&
          signer === c.kid;
        // Only a token that fails this is counted against the sender's IP (SessionGuard).
        expect(hasGenuineSignature(token, KEYS)).toBe(genuine);
        const expected =
          genuine &&
          (c.typHeader === undefined || c.typHeader === 'JWT') &&
          c.crit === undefined &&
          typeof c.sub === 'string' &&
          c.sub !== '' &&
          typeof c.sid === 'string' &&
          c.sid !== '' &&
          c.typ === 'access' &&
          c.iss === POLICY.issuer &&
          c.aud === POLICY.audience &&
          (c.gen === undefined || typeof c.gen === 'string') &&
          int(iat) &&
          int(exp) &&
          exp > NOW &&
          iat <= NOW + POLICY.clockSkewSeconds &&
          exp > iat &&
          exp - iat <= POLICY.ttlSeconds &&
          (nbf === undefined || nbf <= NOW);

        const result = verifyNow(token);
        if (expected) {
          accepted++;
          expect(result).toEqual({
            sub: c.sub,
            sid: c.sid,
            iat,
            exp,
            ...(c.gen === undefined ? {} : { gen: c.gen }),
          });
        } else {
          expect(result).toBeNull();
        }
      }),
      { numRuns: 1500 },
    );
    // The generator must reach the accepting side often enough for the property to mean much.
    expect(accepted).toBeGreaterThan(150);
  });

  it('refuses every single-character change of a valid token', () => {
    const token = signAccessToken({ sub: 'u1', sid: 's1' }, KEYS[0], NOW, POLICY);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...alphabet.split('')),
        (at, char) => {
          fc.pre(token[at] !== char);
          const changed = token.slice(0, at) + char + token.slice(at + 1);
          expect(verifyNow(changed)).toBeNull();
          expect(hasGenuineSignature(changed, KEYS)).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
