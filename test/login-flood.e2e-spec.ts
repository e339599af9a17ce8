import { createTestApp, createUser, login, TestApp } from './support/app';

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
