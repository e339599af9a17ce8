import { bearer, createTestApp, createUser, TestApp } from '../support/app';

/** Issue 11 finding 5: token responses lacked `Cache-Control: no-store` (RFC 6749 §5.1). */
describe('Cache-Control: no-store on tokens and session data (issue 11, e2e)', () => {
  let t: TestApp;
  const PASSWORD = 'a-long-password-for-no-store';

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'alice', password: PASSWORD });
  });
  afterAll(() => t.close());

  it('is on every answer that carries a token, session data or a session', async () => {
    const loginRes = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: PASSWORD });
    expect(loginRes.status).toBe(201);
    const answers = [loginRes];
    const { accessToken, refreshToken } = loginRes.body;
    const refreshed = await t.http().post('/auth/refresh').send({ refreshToken });
    answers.push(refreshed);
    const auth = bearer(refreshed.body.accessToken ?? accessToken);
    answers.push(
      await t.http().post('/auth/reauth').set('Authorization', auth).send({ password: PASSWORD }),
    );
    const fresh = bearer(answers[2].body.accessToken);
    answers.push(
      await t.http().put('/sessions/current/data').set('Authorization', fresh).send({ a: 1 }),
      await t.http().patch('/sessions/current/data').set('Authorization', fresh).send({ b: 2 }),
      await t.http().get('/sessions/current/data').set('Authorization', fresh),
      await t.http().get('/sessions/current').set('Authorization', fresh),
      await t.http().get('/sessions').set('Authorization', fresh),
    );
    for (const res of answers) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });
});
