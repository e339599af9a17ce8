import { createHmac } from 'node:crypto';
import { keyIdOf } from '../../src/sessions/access-token';
import { bearer, createTestApp, createUser, login, TEST_ENV, TestApp } from '../support/app';

/**
 * Issue 11 finding 1, the forging loop: knowing their own session id, the reviewer forged
 * tokens for the neighbouring ids (ObjectIds are sequential) and sent 646 of them in 6.4 s
 * without ever being slowed down. Bearer tokens we did not sign are now limited per IP; tokens
 * we did sign, expired ones included, never count.
 */
const PASSWORD = 'a-long-password-for-forgeries';
const LIMIT = 20;
const ACCESS_TTL_SECONDS = 900;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An access token assembled by hand, HS256 with `secret`, naming `secret`'s kid. */
function forge(claims: Record<string, unknown>, secret: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: keyIdOf(secret) })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The ObjectId `n` after `id` (the counter is the last 3 bytes). */
function neighbour(id: string, n: number): string {
  const counter = (parseInt(id.slice(18), 16) + n) % 0x1000000;
  return id.slice(0, 18) + counter.toString(16).padStart(6, '0');
}

describe('forged bearer tokens are limited per IP (issue 11 finding 1, e2e)', () => {
  let t: TestApp;
  let alice: { id: string };

  beforeAll(async () => {
    t = await createTestApp({ BAD_TOKEN_IP_RATE_LIMIT: String(LIMIT) });
    alice = await createUser(t, { username: 'alice', password: PASSWORD });
    await createUser(t, { username: 'bob', password: PASSWORD });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    // A new window, and no block left over on this instance or in the shared counter.
    t.clock.advance(120_000);
    await t.connection.collection('rate_limits').deleteMany({});
    await t.connection.collection('sessions').deleteMany({});
  });

  const current = (token: string) =>
    t.http().get('/sessions/current').set('Authorization', bearer(token));

  /** The review's loop: tokens for the sessions next to one's own, with a guessed secret. */
  function forgingLoop(ownSessionId: string, secret: string) {
    const nowS = Math.floor(t.clock.nowMs() / 1000);
    return (n: number) =>
      forge(
        {
          sub: alice.id,
          sid: neighbour(ownSessionId, n),
          typ: 'access',
          iss: 'nest-sessions',
          aud: 'nest-sessions',
          iat: nowS,
          exp: nowS + ACCESS_TTL_SECONDS,
        },
        secret,
      );
  }

  it('answers 429 RATE_LIMITED with Retry-After once an IP has sent the limit, and then verifies nothing from it', async () => {
    const own = await login(t, 'alice', PASSWORD);
    await current(own.accessToken).expect(200);
    const bobs = await login(t, 'bob', PASSWORD);
    const guessed = forgingLoop(own.session.id, 'changeme-changeme-changeme-changeme');

    for (let n = 1; n <= LIMIT; n++) {
      const res = await current(guessed(n));
      expect([n, res.status, res.body.code]).toEqual([n, 401, 'TOKEN_INVALID']);
    }
    const limited = await current(guessed(LIMIT + 1));
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // While blocked, a correct guess is not even verified: the address cannot test secrets.
    const rightSecret = forge(
      {
        sub: bobs.session.userId,
        sid: bobs.session.id,
        gen: JSON.parse(Buffer.from(bobs.accessToken.split('.')[1], 'base64url').toString()).gen,
        typ: 'access',
        iss: 'nest-sessions',
        aud: 'nest-sessions',
        iat: Math.floor(t.clock.nowMs() / 1000),
        exp: Math.floor(t.clock.nowMs() / 1000) + ACCESS_TTL_SECONDS,
      },
      TEST_ENV.JWT_SECRET,
    );
    expect((await current(rightSecret)).status).toBe(429);
    // The blocked IP's own users go on: a token already in use, and one issued now.
    await current(own.accessToken).expect(200);
    const fresh = await login(t, 'alice', PASSWORD);
    await current(fresh.accessToken).expect(200);

    // The block lasts one window; then the forgery is judged again (and refused).
    t.clock.advance((retryAfter + 1) * 1000);
    const after = await current(guessed(LIMIT + 2));
    expect([after.status, after.body.code]).toEqual([401, 'TOKEN_INVALID']);
    await current(rightSecret).expect(200); // the secret of this test app is not secret
  });

  it('never counts expired tokens of ours, however many: clients send those in normal use', async () => {
    const s = await login(t, 'alice', PASSWORD);
    t.clock.advance((ACCESS_TTL_SECONDS + 1) * 1000);
    for (let i = 0; i < 3 * LIMIT; i++) {
      const res = await current(s.accessToken);
      expect([i, res.status, res.body.code]).toEqual([i, 401, 'TOKEN_INVALID']);
    }
    // And the forged ones still have the whole budget: none was spent on the expired token.
    const guessed = forgingLoop(s.session.id, 'a-guessed-secret-that-is-long-enough-0123');
    for (let n = 1; n <= LIMIT; n++) expect((await current(guessed(n))).status).toBe(401);
    expect((await current(guessed(LIMIT + 1))).status).toBe(429);
  });

  it('counts garbage and tokens naming an unknown key, not a token of ours refused for its claims', async () => {
    const s = await login(t, 'alice', PASSWORD);
    const own = JSON.parse(Buffer.from(s.accessToken.split('.')[1], 'base64url').toString());
    // Signed with our secret but for another audience: genuine, refused, not counted.
    const otherAudience = forge({ ...own, aud: 'another-service' }, TEST_ENV.JWT_SECRET);
    for (let i = 0; i < 2 * LIMIT; i++) expect((await current(otherAudience)).status).toBe(401);
    const junk = ['x', 'a.b.c', `${s.accessToken}x`, s.accessToken.replace(/\.[^.]+$/, '.AAAA')];
    for (let n = 0; n < LIMIT; n++) expect((await current(junk[n % junk.length])).status).toBe(401);
    const res = await current('still.not.valid');
    expect([res.status, res.body.code]).toEqual([429, 'RATE_LIMITED']);
  });
});
