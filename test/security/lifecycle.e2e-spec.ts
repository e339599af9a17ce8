import { ObjectId } from 'mongodb';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from '../support/app';

/**
 * Issue 11 finding 2 ("sign-out that ends nothing") and the data part of finding 5, as the
 * review ran them: a stolen device's session is expired (admin invalidation), the user signs
 * it out, and an admin `validate` tries to bring it back. Ending is final now.
 */
const PASSWORD = 'a-long-password-for-lifecycle';

describe('ending sessions is final (issue 11, e2e)', () => {
  let t: TestApp;
  let admin: LoggedIn;

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    await createUser(t, { username: 'alice', password: PASSWORD });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.connection.collection('sessions').deleteMany({});
    admin = await login(t, 'root', PASSWORD);
  });

  const asAdmin = (path: string, body: object) =>
    t.http().post(path).set('Authorization', bearer(admin.accessToken)).send(body);
  const stored = (id: string) =>
    t.connection.collection('sessions').findOne({ _id: new ObjectId(id) });

  /** Alice on her own device, and on a device that was stolen, the latter then invalidated. */
  async function stolenAndExpired(): Promise<{ own: LoggedIn; stolen: LoggedIn }> {
    const own = await login(t, 'alice', PASSWORD, { label: 'own' });
    const stolen = await login(t, 'alice', PASSWORD, { label: 'stolen' });
    await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', bearer(stolen.accessToken))
      .send({ cart: ['secret item'] })
      .expect(200);
    await asAdmin('/admin/sessions/invalidate', {
      username: 'alice',
      sessionId: stolen.session.id,
    }).expect(200);
    expect(await stored(stolen.session.id)).toMatchObject({ state: 'expired', endReason: 'admin' });
    return { own, stolen };
  }

  /** The review's last step: can the admin revive it, and does its refresh token work again? */
  async function cannotBeRevived(stolen: LoggedIn): Promise<void> {
    const revive = await asAdmin('/admin/sessions/validate', {
      username: 'alice',
      sessionId: stolen.session.id,
    });
    expect(revive.status).toBe(409);
    expect(revive.body.code).toBe('CONFLICT');
    const refreshed = await t
      .http()
      .post('/auth/refresh')
      .send({ refreshToken: stolen.refreshToken });
    expect(refreshed.status).toBe(401);
    const doc = await stored(stolen.session.id);
    expect(doc).toMatchObject({ state: 'ended', endReason: 'logout', data: {} });
  }

  it('DELETE /sessions/:id ends an expired session for good', async () => {
    const { own, stolen } = await stolenAndExpired();
    await t
      .http()
      .delete(`/sessions/${stolen.session.id}`)
      .set('Authorization', bearer(own.accessToken))
      .expect(204);
    await cannotBeRevived(stolen);
  });

  it('DELETE /sessions?scope=others ends expired sessions too', async () => {
    const { own, stolen } = await stolenAndExpired();
    const res = await t
      .http()
      .delete('/sessions?scope=others')
      .set('Authorization', bearer(own.accessToken))
      .expect(200);
    expect(res.body).toEqual({ ended: 1 });
    await cannotBeRevived(stolen);
    // The caller's own session is untouched.
    await t
      .http()
      .get('/sessions/current')
      .set('Authorization', bearer(own.accessToken))
      .expect(200);
  });

  it('POST /auth/logout on an expired session ends it (admin invalidate, then the user logs out)', async () => {
    const { stolen } = await stolenAndExpired();
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(stolen.accessToken))
      .expect(204);
    await cannotBeRevived(stolen);
  });

  it('erases the data of a session when it is signed out (finding 5)', async () => {
    const mine = await login(t, 'alice', PASSWORD);
    await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', bearer(mine.accessToken))
      .send({ note: 'private' })
      .expect(200);
    await t.http().post('/auth/logout').set('Authorization', bearer(mine.accessToken)).expect(204);
    expect(await stored(mine.session.id)).toMatchObject({ state: 'ended', data: {} });
  });
});
