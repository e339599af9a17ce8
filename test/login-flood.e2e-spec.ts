import { createHmac } from 'node:crypto';
import { createTestApp, createUser, login, TEST_ENV, TestApp } from './support/app';

const PASSWORD = 'correct horse battery staple';

/**
 * Issue 12, finding 2 (argon2 flood): junk logins with random usernames each cost a full argon2
 * verification. With one slot and one waiting place, a burst of them is refused at once with
 * 429 RATE_LIMITED and Retry-After instead of queueing unbounded work; a valid login after the
 * burst goes through.
 */
describe('bounded password hashing under a junk-login flood (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '1',
      // The production cost, so that a burst's requests overlap the hashes they wait for.
      PASSWORD_HASH_MEMORY_KIB: '19456',
      PASSWORD_HASH_TIME_COST: '2',
    });
    await createUser(t, { username: 'ann', password: PASSWORD });
  });
  afterAll(() => t?.close());

  it('refuses what does not fit at once, answers the rest, and stays usable', async () => {
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        t
          .http()
          .post('/auth/login')
          .send({ username: `junk-${i}-${Math.random()}`, password: 'not-the-password-1' }),
      ),
    );
    const refused = burst.filter((r) => r.status === 429);
    const answered = burst.filter((r) => r.status === 401);
    expect(refused.length + answered.length).toBe(burst.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'RATE_LIMITED',
        message: expect.any(String),
      });
      expect(r.headers['retry-after']).toBe('1');
    }
    for (const r of answered) expect(r.body.code).toBe('INVALID_CREDENTIALS');
    // Nothing was left queued behind the burst.
    const ok = await login(t, 'ann', PASSWORD);
    expect(ok.session.userId).toBeDefined();
  }, 60_000);
});

/**
 * Issue 12, finding 2, the other half: the bound protects the process, but alone it refuses a
 * legitimate user's login as readily as the junk. A device that signed the user in before
 * presents its `X-Device-Token` and is checked in the trusted lane, ahead of the flood.
 */
/** Runs `during` while `workers` clients send junk logins to `app` back to back. */
async function underJunkFlood<T>(app: TestApp, during: () => Promise<T>, workers = 8): Promise<T> {
  let flooding = true;
  let refusedJunk = 0;
  const floods = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; flooding; i++) {
      const res = await app
        .http()
        .post('/auth/login')
        .send({ username: `junk-${w}-${i}`, password: 'not-the-password-1' });
      if (outcome(res) === 'busy') refusedJunk++;
    }
  });
  try {
    // Saturated: the flood's own logins are being refused.
    while (refusedJunk === 0) await new Promise((r) => setTimeout(r, 10));
    return await during();
  } finally {
    flooding = false;
    await Promise.all(floods);
  }
}

/** `in`: signed in; `busy`: refused by the hashing bound (not by a rate limit). */
function outcome(res: { status: number; body: { message?: string } }): string {
  if (res.status === 201) return 'in';
  if (res.status === 429 && /being checked right now/.test(res.body.message ?? '')) return 'busy';
  return `${res.status}`;
}

/** Settings that make the hashing bound easy to fill: one slot, one waiting place per lane. */
const FLOODABLE = {
  PASSWORD_HASH_CONCURRENCY: '1',
  PASSWORD_HASH_QUEUE: '1',
  // Hashes slow enough that the one waiting place is taken again long before it frees.
  PASSWORD_HASH_MEMORY_KIB: '19456',
  PASSWORD_HASH_TIME_COST: '4',
  // The flood is thousands of logins from one address: only the hashing bound may refuse.
  LOGIN_IP_RATE_LIMIT: '1000000000',
};

describe('a returning device signs in during a junk-login flood (e2e)', () => {
  let t: TestApp;
  let annDevice: string;
  let bobDevice: string;
  beforeAll(async () => {
    t = await createTestApp(FLOODABLE);
    await createUser(t, { username: 'ann', password: PASSWORD });
    await createUser(t, { username: 'bob', password: PASSWORD });
    const first = await t.http().post('/auth/login').send({ username: 'ann', password: PASSWORD });
    annDevice = first.headers['x-device-token'];
    bobDevice = (await t.http().post('/auth/login').send({ username: 'bob', password: PASSWORD }))
      .headers['x-device-token'];
  }, 60_000);
  afterAll(() => t?.close());

  const underFlood = <T>(during: () => Promise<T>) => underJunkFlood(t, during);

  async function attempt(username: string, deviceToken?: string): Promise<string> {
    const req = t.http().post('/auth/login');
    if (deviceToken) req.set('X-Device-Token', deviceToken);
    return outcome(await req.send({ username, password: PASSWORD }));
  }

  it('a successful login hands the device a token; a failed one does not', async () => {
    expect(annDevice).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const [issuedAt] = annDevice.split('.');
    expect(Number.parseInt(issuedAt, 36)).toBe(Math.floor(t.clock.nowMs() / 1000));
    // Made as the tests below make theirs: what they forge differs from it only where they say.
    expect(forgedWith(TEST_ENV.JWT_SECRET, issuedAt)).toBe(annDevice);
    const wrong = await t.http().post('/auth/login').send({ username: 'ann', password: 'nope-1' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['x-device-token']).toBeUndefined();
  });

  it('lets every login of a returning device through while logins without one are refused', async () => {
    const { returning, newDevice } = await underFlood(async () => {
      const returning: string[] = [];
      const newDevice: string[] = [];
      for (let i = 0; i < 5; i++) {
        returning.push(await attempt('ann', annDevice));
        newDevice.push(await attempt('ann'));
      }
      return { returning, newDevice };
    });
    expect(returning).toEqual(['in', 'in', 'in', 'in', 'in']);
    // The control: the same valid login without the token met the flood.
    expect(newDevice).toContain('busy');
  }, 60_000);

  // Had any of these been trusted, all five of its attempts would have gone through: the trusted
  // lane is empty here, so only the flood's lane can refuse.
  it.each([
    ['another user’s token', () => bobDevice],
    ['a token with a flipped signature bit', () => flipLastBit(annDevice)],
    ['a token whose date was moved', () => movedBySecond(annDevice)],
    [
      'a token made with another secret',
      () => forgedWith('not-the-secret-of-this-service-at-all', annDevice.split('.')[0]),
    ],
    ['garbage', () => 'x'.repeat(5000)],
  ])(
    'treats %s as no token at all',
    async (_what, token) => {
      const statuses = await underFlood(async () => {
        const seen: string[] = [];
        for (let i = 0; i < 5; i++) seen.push(await attempt('ann', token()));
        return seen;
      });
      expect(statuses).toContain('busy');
    },
    60_000,
  );

  it('distrusts a token older than TRUSTED_DEVICE_MAX_AGE_SECONDS', async () => {
    const now = Math.floor(t.clock.nowMs() / 1000);
    const days181 = (now - 181 * 24 * 3600).toString(36);
    const statuses = await underFlood(async () => {
      const seen: string[] = [];
      for (let i = 0; i < 5; i++)
        seen.push(await attempt('ann', forgedWith(TEST_ENV.JWT_SECRET, days181)));
      return seen;
    });
    expect(statuses).toContain('busy');
    // The same token made now, with the service's secret, is trusted: the age alone refused it.
    const fresh = forgedWith(TEST_ENV.JWT_SECRET, now.toString(36));
    expect(await underFlood(() => attempt('ann', fresh))).toBe('in');
  }, 60_000);
});

describe('trusted devices in the cookie transport, and turned off (e2e)', () => {
  let cookieApp: TestApp;
  let offApp: TestApp;
  beforeAll(async () => {
    // One after the other: an app reads its settings from process.env while it is created.
    cookieApp = await createTestApp({ ...FLOODABLE, TOKEN_TRANSPORT: 'cookie' });
    offApp = await createTestApp({ TRUSTED_DEVICE_MAX_AGE_SECONDS: '0' });
    await createUser(cookieApp, { username: 'ann', password: PASSWORD });
    await createUser(offApp, { username: 'ann', password: PASSWORD });
  }, 60_000);
  afterAll(() => Promise.all([cookieApp?.close(), offApp?.close()]));

  it('keeps the token in an HttpOnly, SameSite=Strict cookie, which a later login presents', async () => {
    const first = await cookieApp
      .http()
      .post('/auth/login')
      .send({ username: 'ann', password: PASSWORD });
    expect(first.status).toBe(201);
    const line = (first.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('device_token='),
    );
    expect(line).toBeDefined();
    // Cookie mode keeps every token away from scripts: no response header either.
    expect(first.headers['x-device-token']).toBeUndefined();
    expect(line).toMatch(/; Max-Age=15552000; Path=\/auth; HttpOnly; SameSite=Strict/);
    const cookie = line!.split(';')[0];

    const outcomes = await underJunkFlood(cookieApp, async () => {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await cookieApp
          .http()
          .post('/auth/login')
          .set('Cookie', cookie)
          .send({ username: 'ann', password: PASSWORD });
        seen.push(outcome(res));
      }
      return seen;
    });
    expect(outcomes).toEqual(['in', 'in', 'in']);
  }, 60_000);

  it('hands out no token when TRUSTED_DEVICE_MAX_AGE_SECONDS is 0', async () => {
    const res = await offApp
      .http()
      .post('/auth/login')
      .send({ username: 'ann', password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.headers['x-device-token']).toBeUndefined();
  });
});

describe('one account’s device token cannot crowd the trusted lane (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Three attempts per IP and username, and clients that each come from an address of their own.
    t = await createTestApp({ ...FLOODABLE, LOGIN_RATE_LIMIT: '3', TRUST_PROXY: '1' });
    await createUser(t, { username: 'ann', password: PASSWORD });
  }, 60_000);
  afterAll(() => t?.close());

  it('trusts a username’s token for LOGIN_RATE_LIMIT logins per window, then treats it as none', async () => {
    const first = await t
      .http()
      .post('/auth/login')
      .set('X-Forwarded-For', '10.9.0.1')
      .send({ username: 'ann', password: PASSWORD });
    const token = first.headers['x-device-token'];
    const outcomes = await underJunkFlood(t, async () => {
      const seen: string[] = [];
      // Each from a fresh address, so the per-IP limit never applies: only the lane budget.
      for (let i = 0; i < 8; i++) {
        const res = await t
          .http()
          .post('/auth/login')
          .set('X-Forwarded-For', `10.9.1.${i}`)
          .set('X-Device-Token', token)
          .send({ username: 'ann', password: PASSWORD });
        seen.push(outcome(res));
      }
      return seen;
    });
    // The login that got the token counted nothing (it had none): three trusted uses remain.
    expect(outcomes.slice(0, 3)).toEqual(['in', 'in', 'in']);
    expect(outcomes.slice(3)).toContain('busy');
    // A new window restores the budget.
    t.clock.advance(61_000);
    expect(
      await underJunkFlood(t, async () =>
        outcome(
          await t
            .http()
            .post('/auth/login')
            .set('X-Forwarded-For', '10.9.2.1')
            .set('X-Device-Token', token)
            .send({ username: 'ann', password: PASSWORD }),
        ),
      ),
    ).toBe('in');
  }, 60_000);
});

function movedBySecond(token: string): string {
  const [issuedAt, mac] = token.split('.');
  return `${(parseInt(issuedAt, 36) - 1).toString(36)}.${mac}`;
}

function flipLastBit(token: string): string {
  const [issuedAt, mac] = token.split('.');
  const bytes = Buffer.from(mac, 'base64url');
  bytes[bytes.length - 1] ^= 1;
  return `${issuedAt}.${bytes.toString('base64url')}`;
}

/** A device token for ann made as the service makes them (see src/sessions/device-trust.ts). */
function forgedWith(secret: string, issuedAt: string) {
  const key = createHmac('sha256', secret).update('nest-sessions/device/v1').digest();
  const mac = createHmac('sha256', key).update(`3:ann:${issuedAt}`).digest('base64url');
  return `${issuedAt}.${mac}`;
}
