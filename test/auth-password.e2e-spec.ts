import { Types } from 'mongoose';
import { assertErrorShape } from './support/hostile';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';

const PASSWORD = 'current-password-1';
const NEW_PASSWORD = 'the-next-password-2';

/** POST /auth/password (issue 14): the caller's own password change. */
describe('POST /auth/password (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');
  const byId = (id: string) => sessions().findOne({ _id: new Types.ObjectId(id) });
  const change = (s: LoggedIn, body: object) =>
    t.http().post('/auth/password').set('Authorization', bearer(s.accessToken)).send(body);
  const get = (s: LoggedIn, path: string) =>
    t.http().get(path).set('Authorization', bearer(s.accessToken));
  const expectError = (res: { status: number; body: unknown }, status: number, code: string) => {
    expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
      status,
      code,
    });
    assertErrorShape(`${status} ${code}`, res.status, res.body);
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.connection.collection('users').deleteMany({});
    await sessions().deleteMany({});
    await createUser(t, { username: 'alice', password: PASSWORD });
    await createUser(t, { username: 'bob', password: PASSWORD });
  });

  it('keeps the session with fresh tokens and ends every other session of the user', async () => {
    const here = await login(t, 'alice', PASSWORD, { label: 'here' });
    const phone = await login(t, 'alice', PASSWORD, { label: 'phone' });
    const laptop = await login(t, 'alice', PASSWORD, { label: 'laptop' });
    const bob = await login(t, 'bob', PASSWORD);
    t.clock.advance(60_000);

    const res = await change(here, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(res.body.session).toMatchObject({
      id: here.session.id,
      state: 'active',
      current: true,
      authenticatedAt: t.clock.now().toISOString(),
    });
    expect(res.body.accessToken).not.toBe(here.accessToken);
    expect(res.body.refreshToken).not.toBe(here.refreshToken);

    for (const other of [phone, laptop]) {
      expect(await byId(other.session.id)).toMatchObject({
        state: 'ended',
        endReason: 'password_changed',
        data: {},
      });
      expectError(await get(other, '/sessions/current'), 401, 'SESSION_ENDED');
      expectError(
        await t.http().post('/auth/refresh').send({ refreshToken: other.refreshToken }),
        401,
        'SESSION_ENDED',
      );
    }
    // The current session's earlier tokens are dead; the new ones work.
    expectError(await get(here, '/sessions/current'), 401, 'TOKEN_INVALID');
    expectError(
      await t.http().post('/auth/refresh').send({ refreshToken: here.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    const fresh: LoggedIn = res.body;
    await get(fresh, '/sessions/current').expect(200);
    await t.http().post('/auth/refresh').send({ refreshToken: fresh.refreshToken }).expect(200);
    // Another user is untouched.
    await get(bob, '/sessions/current').expect(200);

    expectError(
      await t.http().post('/auth/login').send({ username: 'alice', password: PASSWORD }),
      401,
      'INVALID_CREDENTIALS',
    );
    await login(t, 'alice', NEW_PASSWORD);
  });

  it('answers INVALID_CREDENTIALS to a wrong current password, changing nothing', async () => {
    const here = await login(t, 'alice', PASSWORD);
    const other = await login(t, 'alice', PASSWORD);
    const user = await t.connection.collection('users').findOne({ username: 'alice' });
    expectError(
      await change(here, { currentPassword: 'not-the-password', newPassword: NEW_PASSWORD }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await t.connection.collection('users').findOne({ username: 'alice' })).toEqual(user);
    await get(here, '/sessions/current').expect(200);
    await get(other, '/sessions/current').expect(200);
    // The session is not punished for it: a wrong guess is not a sign-out.
    expect((await byId(here.session.id))?.state).toBe('active');
  });

  it('refuses a new password against the policy and hostile bodies with 400, changing nothing', async () => {
    const here = await login(t, 'alice', PASSWORD);
    await createUser(t, { username: 'twelve-chars', password: PASSWORD });
    const twelve = await login(t, 'twelve-chars', PASSWORD);
    const before = await t.connection.collection('users').find().toArray();
    for (const body of [
      { currentPassword: PASSWORD, newPassword: 'short-11chr' },
      { currentPassword: PASSWORD, newPassword: 'x'.repeat(1025) },
      { currentPassword: PASSWORD, newPassword: 1234567890123 },
      { currentPassword: PASSWORD, newPassword: { $gt: '' } },
      { currentPassword: PASSWORD },
      { newPassword: NEW_PASSWORD },
      { currentPassword: 'x'.repeat(1025), newPassword: NEW_PASSWORD },
      { currentPassword: ['a'], newPassword: NEW_PASSWORD },
      // Another user's password cannot be aimed at: no field names one.
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, username: 'bob' },
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, userId: 'x' },
      [],
    ]) {
      expectError(await change(here, body), 400, 'VALIDATION_FAILED');
    }
    expectError(
      await change(twelve, { currentPassword: PASSWORD, newPassword: 'twelve-chars' }),
      400,
      'VALIDATION_FAILED',
    );
    const huge = await t
      .http()
      .post('/auth/password')
      .set('Authorization', bearer(here.accessToken))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ currentPassword: PASSWORD, newPassword: 'y'.repeat(200_000) }));
    expect([400, 413]).toContain(huge.status);
    assertErrorShape('huge body', huge.status, huge.body);
    expect(await t.connection.collection('users').find().toArray()).toEqual(before);
    await get(here, '/sessions/current').expect(200);
  });

  it('needs a live session of the caller: no token, a forged one or an expired session are refused', async () => {
    expectError(
      await t
        .http()
        .post('/auth/password')
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
      401,
      'TOKEN_MISSING',
    );
    const here = await login(t, 'alice', PASSWORD);
    expectError(
      await t
        .http()
        .post('/auth/password')
        .set('Authorization', bearer(`${here.accessToken}x`))
        .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
      401,
      'TOKEN_INVALID',
    );
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    const root = await login(t, 'root', PASSWORD);
    await t
      .http()
      .post('/admin/sessions/invalidate')
      .set('Authorization', bearer(root.accessToken))
      .send({ username: 'alice', sessionId: here.session.id })
      .expect(200);
    expectError(
      await change(here, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
      401,
      'SESSION_EXPIRED',
    );
    await login(t, 'alice', PASSWORD);
  });

  it('is rate limited like login (per IP and user), with Retry-After', async () => {
    // An app of its own: the limit counts every login, reauth and password attempt.
    const limited = await createTestApp({ LOGIN_RATE_LIMIT: '3' }, { db: t.db });
    try {
      await limited.connection.collection('rate_limits').deleteMany({});
      const here = await login(limited, 'alice', PASSWORD);
      const users = () => limited.connection.collection('users');
      const before = await users().findOne({ username: 'alice' });
      const attempt = (currentPassword: string) =>
        limited
          .http()
          .post('/auth/password')
          .set('Authorization', bearer(here.accessToken))
          .send({ currentPassword, newPassword: NEW_PASSWORD });
      for (const guess of ['wrong-guess-one', 'wrong-guess-two']) {
        expectError(await attempt(guess), 401, 'INVALID_CREDENTIALS');
      }
      const res = await attempt(PASSWORD);
      expectError(res, 429, 'RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Refused before the password was looked at: it did not change.
      expect(await users().findOne({ username: 'alice' })).toEqual(before);
      // Per user: another user from the same address is not held back.
      await login(limited, 'bob', PASSWORD);
    } finally {
      await limited.app.close();
    }
  });
});
