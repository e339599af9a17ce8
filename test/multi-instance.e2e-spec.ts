import {
  bearer,
  createTwoInstances,
  createUser,
  login,
  TestApp,
  type TwoInstances,
} from './support/app';

/** Two instances of the service on one database, as behind a load balancer. */
describe('several instances (e2e)', () => {
  let both: TwoInstances;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    both = await createTwoInstances({ SESSION_CACHE_TTL_MS: '5000' });
    ({ a, b } = both);
    await createUser(a, { username: 'alice', password: 'alice-password' });
  });
  afterAll(() => both?.close());

  it('answers concurrent refreshes on both instances with one identical pair', async () => {
    const s = await login(a, 'alice', 'alice-password');
    const answers = await Promise.all(
      [a, b, a, b, a, b, a, b].map((t) =>
        t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((r) => r.body.refreshToken)).size).toBe(1);
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    const next = await b
      .http()
      .post('/auth/refresh')
      .send({ refreshToken: answers[0].body.refreshToken });
    expect(next.status).toBe(200);
  });

  it('ends a session at once on the instance that ended it, and on the others within the cache lifetime', async () => {
    const s = await login(a, 'alice', 'alice-password');
    const auth = bearer(s.accessToken);
    await b.http().get('/sessions').set('Authorization', auth).expect(200); // now cached on b
    await a.http().post('/auth/logout').set('Authorization', auth).expect(204);
    expect((await a.http().get('/sessions').set('Authorization', auth)).body.code).toBe(
      'SESSION_ENDED',
    );
    // b may still honour it from its cache, but never beyond SESSION_CACHE_TTL_MS.
    b.clock.advance(5000);
    const later = await b.http().get('/sessions').set('Authorization', auth);
    expect(later.status).toBe(401);
    expect(later.body.code).toBe('SESSION_ENDED');
  });
});
