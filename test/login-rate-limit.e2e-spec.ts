import { createTestApp, createUser, TestApp } from './support/app';
import { startTestDatabase, TestDatabase } from './support/database';

const PASSWORD = 'correct horse battery staple';

/**
 * Issue 12, finding 2 (password spraying; limits per instance). Attacked over HTTP: one IP
 * trying one password against many usernames, and attempts spread over two instances on one
 * database. Client IPs come from X-Forwarded-For behind one trusted proxy hop.
 */
describe('login rate limits (e2e)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const env = { LOGIN_RATE_LIMIT: '3', LOGIN_IP_RATE_LIMIT: '5', TRUST_PROXY: '1' };

  beforeAll(async () => {
    db = await startTestDatabase();
    a = await createTestApp(env, { db });
    b = await createTestApp(env, { db });
    await createUser(a, { username: 'victim', password: PASSWORD });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.stop();
  });
  beforeEach(async () => {
    await a.connection.collection('rate_limits').deleteMany({});
  });

  const attempt = (t: TestApp, ip: string, username: string, password = 'Spring2026!') =>
    t.http().post('/auth/login').set('X-Forwarded-For', ip).send({ username, password });

  const expectLimited = (res: {
    status: number;
    body: unknown;
    headers: Record<string, string>;
  }) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'RATE_LIMITED',
      message: expect.any(String),
    });
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('retry-after-'))).toEqual([]);
  };

  it('stops one IP spraying one password over many usernames after LOGIN_IP_RATE_LIMIT', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await attempt(a, '203.0.113.7', `user${i}`);
      answers.push(res.status);
      if (i >= 5) expectLimited(res);
    }
    expect(answers.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    // The real user, from the spraying IP, waits too; from elsewhere, signs in.
    expectLimited(await attempt(a, '203.0.113.7', 'victim', PASSWORD));
    expect((await attempt(a, '198.51.100.2', 'victim', PASSWORD)).status).toBe(201);
    // Once the window and the block have passed, the IP may try again.
    // (both instances' clocks move together, as real clocks do)
    a.clock.advance(61_000);
    b.clock.advance(61_000);
    expect((await attempt(a, '203.0.113.7', 'victim', PASSWORD)).status).toBe(201);
  });

  it('counts attempts on every instance of one database together', async () => {
    expect((await attempt(a, '192.0.2.9', 'victim')).status).toBe(401);
    expect((await attempt(b, '192.0.2.9', 'victim')).status).toBe(401);
    expect((await attempt(a, '192.0.2.9', 'victim')).status).toBe(401);
    // The fourth attempt for this IP and username, wherever it lands, is refused.
    expectLimited(await attempt(b, '192.0.2.9', 'Victim', PASSWORD));
    expectLimited(await attempt(a, '192.0.2.9', 'victim', PASSWORD));
    const stored = await a.connection
      .collection('rate_limits')
      .find({}, { projection: { hits: 1, expiresAt: 1 } })
      .toArray();
    expect(stored.length).toBeGreaterThan(0);
    for (const doc of stored) expect(doc.expiresAt).toBeInstanceOf(Date);
  });

  it('spreads concurrent attempts on two instances without losing a count', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attempt(i % 2 ? a : b, '192.0.2.77', `spray${i}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });
});
