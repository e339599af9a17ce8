import { Types } from 'mongoose';
import { assertErrorShape } from './support/hostile';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';

const PASSWORD = 'admin-users-password';
const NEW_PASSWORD = 'a-brand-new-password';
const REAUTH_MAX_AGE = 600;

/** GET/PUT/PATCH/DELETE /admin/users (issue 14), with @RequireRecentAuth on the changes. */
describe('admin users (e2e)', () => {
  let t: TestApp;
  let root: LoggedIn;
  const sessions = () => t.connection.collection('sessions');
  const users = () => t.connection.collection('users');
  const as = (s: LoggedIn, method: 'get' | 'put' | 'patch' | 'delete' | 'post', path: string) =>
    t.http()[method](path).set('Authorization', bearer(s.accessToken));
  const expectError = (res: { status: number; body: unknown }, status: number, code: string) => {
    expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
      status,
      code,
    });
    assertErrorShape(`${status} ${code}`, res.status, res.body);
  };
  const statesOf = async (username: string) =>
    (await sessions().find({ username }).toArray()).map((s) => [s.state, s.endReason]);

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_REAUTH_MAX_AGE_SECONDS: String(REAUTH_MAX_AGE) });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await users().deleteMany({});
    await sessions().deleteMany({});
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    await createUser(t, { username: 'root2', password: PASSWORD, roles: ['admin'] });
    for (const name of ['carol', 'alice', 'bob', 'dave']) {
      await createUser(t, { username: name, password: PASSWORD, groups: ['staff'] });
    }
    root = await login(t, 'root', PASSWORD);
  });

  describe('GET /admin/users', () => {
    it('lists users by name, a bounded page at a time, after a name', async () => {
      const first = await as(root, 'get', '/admin/users?limit=2').expect(200);
      expect(first.body.map((u: any) => u.username)).toEqual(['alice', 'bob']);
      expect(Object.keys(first.body[0]).sort()).toEqual(
        ['disabledAt', 'groups', 'id', 'roles', 'username'].sort(),
      );
      expect(first.body[0]).toMatchObject({ roles: [], groups: ['staff'], disabledAt: null });
      const next = await as(root, 'get', '/admin/users?limit=2&after=bob').expect(200);
      expect(next.body.map((u: any) => u.username)).toEqual(['carol', 'dave']);
      const rest = await as(root, 'get', '/admin/users?after=dave').expect(200);
      expect(rest.body.map((u: any) => u.username)).toEqual(['root', 'root2']);
      expect((await as(root, 'get', '/admin/users?after=root2').expect(200)).body).toEqual([]);
      // After a name that does not exist: still by name.
      const between = await as(root, 'get', '/admin/users?limit=1&after=b').expect(200);
      expect(between.body.map((u: any) => u.username)).toEqual(['bob']);
      expect(JSON.stringify(rest.body)).not.toMatch(/argon2|passwordHash/);
    });

    it('defaults to 50 and refuses a limit out of 1..200 or a hostile query with 400', async () => {
      for (let i = 0; i < 55; i++) {
        await users().insertOne({
          username: `bulk-${String(i).padStart(2, '0')}`,
          passwordHash: 'x',
          roles: [],
          groups: [],
        });
      }
      expect((await as(root, 'get', '/admin/users').expect(200)).body).toHaveLength(50);
      expect((await as(root, 'get', '/admin/users?limit=200').expect(200)).body).toHaveLength(61);
      for (const query of [
        'limit=0',
        'limit=201',
        'limit=-1',
        'limit=1.5',
        'limit=abc',
        'limit=1&limit=2',
        'limit=99999999999999999999',
        'after=',
        'after[]=a',
        'after[$gt]=',
        `after=${'a'.repeat(201)}`,
        'sort=-username',
      ]) {
        expectError(await as(root, 'get', `/admin/users?${query}`), 400, 'VALIDATION_FAILED');
      }
    });
  });

  describe('PUT /admin/users/:username/password', () => {
    it('sets the password and ends every session of the user (password_changed)', async () => {
      const a1 = await login(t, 'alice', PASSWORD);
      const a2 = await login(t, 'alice', PASSWORD);
      await as(root, 'post', '/admin/sessions/invalidate')
        .send({ username: 'alice', sessionId: a2.session.id })
        .expect(200);
      const bob = await login(t, 'bob', PASSWORD);

      const res = await as(root, 'put', '/admin/users/alice/password')
        .send({ newPassword: NEW_PASSWORD })
        .expect(200);
      // The expired one ends too: nothing an admin could revive stays behind.
      expect(res.body).toEqual({ ended: 2 });
      expect(await statesOf('alice')).toEqual([
        ['ended', 'password_changed'],
        ['ended', 'password_changed'],
      ]);
      expectError(await as(a1, 'get', '/sessions/current'), 401, 'SESSION_ENDED');
      expectError(
        await t.http().post('/auth/refresh').send({ refreshToken: a1.refreshToken }),
        401,
        'SESSION_ENDED',
      );
      expectError(
        await t.http().post('/auth/login').send({ username: 'alice', password: PASSWORD }),
        401,
        'INVALID_CREDENTIALS',
      );
      await login(t, 'alice', NEW_PASSWORD);
      // Nobody else's sessions moved.
      await as(bob, 'get', '/sessions/current').expect(200);
    });

    it('may reset the calling admin too, ending their own session as well', async () => {
      const res = await as(root, 'put', '/admin/users/root/password')
        .send({ newPassword: NEW_PASSWORD })
        .expect(200);
      expect(res.body).toEqual({ ended: 1 });
      expectError(await as(root, 'get', '/sessions/current'), 401, 'SESSION_ENDED');
    });

    it('refuses a password against the policy, hostile bodies and unknown users, changing nothing', async () => {
      const alice = await login(t, 'alice', PASSWORD);
      const before = await users().findOne({ username: 'alice' });
      for (const body of [
        { newPassword: 'short-11chr' },
        { newPassword: 'alice' },
        { newPassword: 'x'.repeat(1025) },
        { newPassword: 123456789012345 },
        { newPassword: ['a-brand-new-password'] },
        { newPassword: { $ne: null } },
        { newPassword: null },
        {},
        { newPassword: NEW_PASSWORD, roles: ['admin'] },
        { password: NEW_PASSWORD },
      ]) {
        expectError(
          await as(root, 'put', '/admin/users/alice/password').send(body),
          400,
          'VALIDATION_FAILED',
        );
      }
      // The policy's "not equal to the username", with a name of the policy's length.
      await createUser(t, { username: 'twelve-chars', password: PASSWORD });
      expectError(
        await as(root, 'put', '/admin/users/twelve-chars/password').send({
          newPassword: 'twelve-chars',
        }),
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        await as(root, 'put', '/admin/users/nobody/password').send({ newPassword: NEW_PASSWORD }),
        404,
        'NOT_FOUND',
      );
      expectError(
        await as(root, 'put', `/admin/users/${'a'.repeat(201)}/password`).send({
          newPassword: NEW_PASSWORD,
        }),
        400,
        'VALIDATION_FAILED',
      );
      expect(await users().findOne({ username: 'alice' })).toEqual(before);
      await as(alice, 'get', '/sessions/current').expect(200);
    });
  });

  describe('DELETE /admin/users/:username', () => {
    it('removes the user and ends every session of theirs', async () => {
      const a1 = await login(t, 'alice', PASSWORD);
      await login(t, 'alice', PASSWORD);
      await as(root, 'delete', '/admin/users/alice').expect(204);
      expect(await users().findOne({ username: 'alice' })).toBeNull();
      expect(await statesOf('alice')).toEqual([
        ['ended', 'admin'],
        ['ended', 'admin'],
      ]);
      expect((await sessions().findOne({ _id: new Types.ObjectId(a1.session.id) }))?.data).toEqual(
        {},
      );
      expectError(await as(a1, 'get', '/sessions/current'), 401, 'SESSION_ENDED');
      // Refresh asks for the user first (issue 11): a user that no longer exists has no session.
      expectError(
        await t.http().post('/auth/refresh').send({ refreshToken: a1.refreshToken }),
        401,
        'SESSION_EXPIRED',
      );
      expectError(
        await t.http().post('/auth/login').send({ username: 'alice', password: PASSWORD }),
        401,
        'INVALID_CREDENTIALS',
      );
      expectError(await as(root, 'delete', '/admin/users/alice'), 404, 'NOT_FOUND');
      // The name is free again.
      await as(root, 'post', '/admin/users')
        .send({ username: 'alice', password: NEW_PASSWORD })
        .expect(201);
    });

    it('refuses an admin removing themself (409), so the last admin cannot vanish', async () => {
      expectError(await as(root, 'delete', '/admin/users/root'), 409, 'CONFLICT');
      expect(await users().findOne({ username: 'root' })).not.toBeNull();
      await as(root, 'get', '/sessions/current').expect(200);
      // Another admin may remove them.
      const other = await login(t, 'root2', PASSWORD);
      await as(other, 'delete', '/admin/users/root').expect(204);
      expectError(await as(root, 'get', '/sessions/current'), 401, 'SESSION_ENDED');
    });
  });

  describe('PATCH /admin/users/:username (disable, an extension)', () => {
    it('disables: every session ends and sign-in is refused, until enabled again', async () => {
      const a1 = await login(t, 'alice', PASSWORD);
      const res = await as(root, 'patch', '/admin/users/alice')
        .send({ disabled: true })
        .expect(200);
      expect(res.body).toMatchObject({
        username: 'alice',
        disabledAt: t.clock.now().toISOString(),
      });
      expect(await statesOf('alice')).toEqual([['ended', 'admin']]);
      expectError(await as(a1, 'get', '/sessions/current'), 401, 'SESSION_ENDED');
      // The same answer as a wrong password: a disabled account is not advertised.
      expectError(
        await t.http().post('/auth/login').send({ username: 'alice', password: PASSWORD }),
        401,
        'INVALID_CREDENTIALS',
      );
      const listed = await as(root, 'get', '/admin/users?limit=1').expect(200);
      expect(listed.body[0]).toMatchObject({ username: 'alice', disabledAt: res.body.disabledAt });

      // Disabling again keeps the first time.
      t.clock.advance(1000);
      const again = await as(root, 'patch', '/admin/users/alice')
        .send({ disabled: true })
        .expect(200);
      expect(again.body.disabledAt).toBe(res.body.disabledAt);

      const enabled = await as(root, 'patch', '/admin/users/alice')
        .send({ disabled: false })
        .expect(200);
      expect(enabled.body.disabledAt).toBeNull();
      await login(t, 'alice', PASSWORD);
    });

    it('refuses oneself, unknown users and hostile bodies', async () => {
      expectError(
        await as(root, 'patch', '/admin/users/root').send({ disabled: true }),
        409,
        'CONFLICT',
      );
      expectError(
        await as(root, 'patch', '/admin/users/nobody').send({ disabled: true }),
        404,
        'NOT_FOUND',
      );
      for (const body of [
        {},
        { disabled: 'true' },
        { disabled: 1 },
        { disabled: null },
        { disabled: true, roles: ['admin'] },
        { roles: ['admin'] },
        { username: 'mallory' },
      ]) {
        expectError(
          await as(root, 'patch', '/admin/users/alice').send(body),
          400,
          'VALIDATION_FAILED',
        );
      }
      expect((await users().findOne({ username: 'alice' }))?.disabledAt ?? null).toBeNull();
    });
  });

  describe('who may', () => {
    it('answers 403 to a non-admin and 401 without a token on every user route, changing nothing', async () => {
      const alice = await login(t, 'alice', PASSWORD);
      const before = await users().find().sort({ username: 1 }).toArray();
      const calls: [
        method: 'get' | 'put' | 'patch' | 'delete' | 'post',
        path: string,
        body?: object,
      ][] = [
        ['get', '/admin/users'],
        ['post', '/admin/users', { username: 'mallory', password: NEW_PASSWORD, roles: ['admin'] }],
        ['put', '/admin/users/bob/password', { newPassword: NEW_PASSWORD }],
        ['put', '/admin/users/alice/password', { newPassword: NEW_PASSWORD }],
        ['patch', '/admin/users/bob', { disabled: true }],
        ['delete', '/admin/users/bob'],
      ];
      for (const [method, path, body] of calls) {
        expectError(await as(alice, method, path).send(body), 403, 'FORBIDDEN');
        expectError(await t.http()[method](path).send(body), 401, 'TOKEN_MISSING');
      }
      expect(await users().find().sort({ username: 1 }).toArray()).toEqual(before);
    });

    it('needs a password proof within ADMIN_REAUTH_MAX_AGE_SECONDS on every change, not on the listing', async () => {
      const bob = await login(t, 'bob', PASSWORD);
      t.clock.advance(REAUTH_MAX_AGE * 1000);
      // Exactly at the limit: still recent.
      await as(root, 'patch', '/admin/users/carol').send({ disabled: false }).expect(200);

      t.clock.advance(1000);
      // A refresh is not a password proof.
      const refreshed = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: root.refreshToken })
        .expect(200);
      const stale: LoggedIn = refreshed.body;
      const changes: [method: 'put' | 'patch' | 'delete' | 'post', path: string, body?: object][] =
        [
          [
            'post',
            '/admin/users',
            { username: 'mallory', password: NEW_PASSWORD, roles: ['admin'] },
          ],
          ['put', '/admin/users/bob/password', { newPassword: NEW_PASSWORD }],
          ['patch', '/admin/users/bob', { disabled: true }],
          ['delete', '/admin/users/bob'],
        ];
      const before = await users().find().sort({ username: 1 }).toArray();
      for (const [method, path, body] of changes) {
        expectError(await as(stale, method, path).send(body), 401, 'REAUTH_REQUIRED');
      }
      expect(await users().find().sort({ username: 1 }).toArray()).toEqual(before);
      await as(bob, 'get', '/sessions/current').expect(200);
      await as(stale, 'get', '/admin/users').expect(200);

      const reauthed = await as(stale, 'post', '/auth/reauth')
        .send({ password: PASSWORD })
        .expect(200);
      const fresh: LoggedIn = reauthed.body;
      await as(fresh, 'patch', '/admin/users/bob').send({ disabled: true }).expect(200);
      await as(fresh, 'delete', '/admin/users/bob').expect(204);
    });
  });
});
