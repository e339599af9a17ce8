import { createApiClient, type ApiClient } from './support/api-client';
import { createTestApp, createUser, TestApp } from './support/app';

/**
 * The auth and own-session routes driven through the typed client (openapi-fetch on the types
 * generated from the app's OpenAPI document) against the app listening on a real port. Every
 * response is also checked against the document: a status it does not list, or a body that
 * does not match its schema, fails the request.
 */
describe('auth and own sessions through the typed client (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;
  let document: object;
  let users = 0;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as object;
  });
  afterAll(() => t.close());

  const anonymous = (): ApiClient => createApiClient(baseUrl, document);
  // The document types the tokens as optional (TOKEN_TRANSPORT=cookie leaves them out of the
  // body); this app runs in header mode, where a token answer without one is a failure.
  const as = (accessToken: string | undefined): ApiClient => {
    if (!accessToken) throw new Error('the answer carried no access token');
    return createApiClient(baseUrl, document, accessToken);
  };

  /** A fresh user per test, so tests share no sessions. */
  async function newUser(groups: string[] = []) {
    const username = `client-user-${++users}`;
    const password = `${username}-password`;
    await createUser(t, { username, password, groups });
    return { username, password };
  }

  async function logIn(user: { username: string; password: string }, label?: string) {
    const { data, error } = await anonymous().POST('/auth/login', {
      body: { ...user, ...(label ? { label } : {}) },
    });
    if (!data) throw new Error(`login failed: ${JSON.stringify(error)}`);
    return data;
  }

  describe('auth', () => {
    it('logs in with a new session for this device, and knows it as the current one', async () => {
      const user = await newUser(['staff']);
      const { data, response } = await anonymous().POST('/auth/login', {
        body: { ...user, groups: ['staff'], label: 'laptop' },
      });
      expect(response.status).toBe(201);
      expect(data).toMatchObject({
        tokenType: 'Bearer',
        expiresIn: 900,
        session: { state: 'active', current: true, label: 'laptop', groups: ['staff'] },
      });

      const current = await as(data!.accessToken).GET('/sessions/current');
      expect(current.data).toMatchObject({
        id: data!.session.id,
        valid: true,
        user: { username: user.username, groups: ['staff'] },
      });
    });

    it('answers an unknown user and a wrong password with the same 401', async () => {
      const user = await newUser();
      const wrong = await anonymous().POST('/auth/login', {
        body: { username: user.username, password: 'not-the-password' },
      });
      const unknown = await anonymous().POST('/auth/login', {
        body: { username: 'nobody-at-all', password: 'not-the-password' },
      });
      for (const { error, response } of [wrong, unknown]) {
        expect(response.status).toBe(401);
        expect(error).toMatchObject({ statusCode: 401, code: 'INVALID_CREDENTIALS' });
      }
      expect(wrong.error?.message).toBe(unknown.error?.message);
    });

    it('refuses a group the user is not in with 403 GROUP_FORBIDDEN', async () => {
      const user = await newUser(['staff']);
      const { error, response } = await anonymous().POST('/auth/login', {
        body: { ...user, groups: ['finance'] },
      });
      expect(response.status).toBe(403);
      expect(error?.code).toBe('GROUP_FORBIDDEN');
    });

    it('refuses a body with an unknown field with 400 VALIDATION_FAILED', async () => {
      const user = await newUser();
      const { error, response } = await anonymous().POST('/auth/login', {
        // What the types forbid, sent anyway: the server must refuse it too.
        body: { ...user, admin: true } as never,
      });
      expect(response.status).toBe(400);
      expect(error?.code).toBe('VALIDATION_FAILED');
    });

    it('rotates the refresh token, and revokes the session when a replaced one comes back', async () => {
      const first = await logIn(await newUser());
      const rotated = await anonymous().POST('/auth/refresh', {
        body: { refreshToken: first.refreshToken },
      });
      expect(rotated.response.status).toBe(200);
      expect(rotated.data?.session.id).toBe(first.session.id);
      expect(rotated.data?.refreshToken).not.toBe(first.refreshToken);

      t.clock.advance(11_000); // past REFRESH_REUSE_GRACE_SECONDS (10)
      const reused = await anonymous().POST('/auth/refresh', {
        body: { refreshToken: first.refreshToken },
      });
      expect(reused.response.status).toBe(401);
      expect(reused.error?.code).toBe('REFRESH_TOKEN_REUSED');

      const after = await as(rotated.data!.accessToken).GET('/sessions/current');
      expect(after.response.status).toBe(401);
      expect(after.error?.code).toBe('SESSION_ENDED');
    });

    it('answers an unknown refresh token with 401 REFRESH_TOKEN_INVALID', async () => {
      const { error, response } = await anonymous().POST('/auth/refresh', {
        body: { refreshToken: 'not-a-token-this-service-issued' },
      });
      expect(response.status).toBe(401);
      expect(error?.code).toBe('REFRESH_TOKEN_INVALID');
    });

    it('reauth keeps the session id and hands out fresh tokens', async () => {
      const user = await newUser();
      const session = await logIn(user);
      const { data, response } = await as(session.accessToken).POST('/auth/reauth', {
        body: { password: user.password },
      });
      expect(response.status).toBe(200);
      expect(data?.session.id).toBe(session.session.id);
      expect(data?.refreshToken).not.toBe(session.refreshToken);

      const wrong = await as(data!.accessToken).POST('/auth/reauth', {
        body: { password: 'not-the-password' },
      });
      expect(wrong.response.status).toBe(401);
      expect(wrong.error?.code).toBe('INVALID_CREDENTIALS');
    });

    it('logout ends the session; its token is refused afterwards', async () => {
      const session = await logIn(await newUser());
      const client = as(session.accessToken);
      const { response } = await client.POST('/auth/logout');
      expect(response.status).toBe(204);
      const after = await client.GET('/sessions/current');
      expect(after.response.status).toBe(401);
      expect(after.error?.code).toBe('SESSION_ENDED');
    });

    it('needs a token on protected routes (401 TOKEN_MISSING)', async () => {
      const { error, response } = await anonymous().GET('/sessions');
      expect(response.status).toBe(401);
      expect(error?.code).toBe('TOKEN_MISSING');
    });
  });

  describe('own sessions', () => {
    it('lists, labels, reads and ends another of my sessions', async () => {
      const user = await newUser();
      const laptop = await logIn(user, 'laptop');
      const phone = await logIn(user, 'phone');
      const me = as(laptop.accessToken);

      const list = await me.GET('/sessions');
      expect(list.data?.map((s) => [s.id, s.current])).toEqual([
        [phone.session.id, false],
        [laptop.session.id, true],
      ]);

      const path = { id: phone.session.id };
      const labelled = await me.PATCH('/sessions/{id}', {
        params: { path },
        body: { label: 'old phone' },
      });
      expect(labelled.data).toMatchObject({ id: phone.session.id, label: 'old phone' });
      expect((await me.GET('/sessions/{id}', { params: { path } })).data?.label).toBe('old phone');

      const ended = await me.DELETE('/sessions/{id}', { params: { path } });
      expect(ended.response.status).toBe(204);
      const history = await me.GET('/sessions', { params: { query: { state: 'ended' } } });
      expect(history.data).toEqual([
        expect.objectContaining({ id: phone.session.id, state: 'ended', endReason: 'logout' }),
      ]);
      const phoneNow = await as(phone.accessToken).GET('/sessions/current');
      expect(phoneNow.error?.code).toBe('SESSION_ENDED');
    });

    it('ends every other session of mine, keeping the current one', async () => {
      const user = await newUser();
      const keep = await logIn(user);
      await logIn(user);
      await logIn(user);
      const { data } = await as(keep.accessToken).DELETE('/sessions', {
        params: { query: { scope: 'others' } },
      });
      expect(data).toEqual({ ended: 2 });
      const active = await as(keep.accessToken).GET('/sessions');
      expect(active.data?.map((s) => s.id)).toEqual([keep.session.id]);
    });

    it("answers 404 NOT_FOUND for another user's session, whatever the verb", async () => {
      const mine = await logIn(await newUser());
      const theirs = await logIn(await newUser());
      const me = as(mine.accessToken);
      const path = { id: theirs.session.id };
      const answers = [
        await me.GET('/sessions/{id}', { params: { path } }),
        await me.PATCH('/sessions/{id}', { params: { path }, body: { label: 'x' } }),
        await me.DELETE('/sessions/{id}', { params: { path } }),
      ];
      for (const { error, response } of answers) {
        expect(response.status).toBe(404);
        expect(error?.code).toBe('NOT_FOUND');
      }
      const still = await as(theirs.accessToken).GET('/sessions/current');
      expect(still.data).toMatchObject({ valid: true, label: null });
    });

    it('keeps data per session: replace, merge (null removes a key), read', async () => {
      const user = await newUser();
      const one = as((await logIn(user)).accessToken);
      const other = as((await logIn(user)).accessToken);

      expect((await one.GET('/sessions/current/data')).data).toEqual({});
      await one.PUT('/sessions/current/data', { body: { theme: 'dark', cart: { a: 1 } } });
      const merged = await one.PATCH('/sessions/current/data', {
        body: { theme: null, cart: { b: 2 } },
      });
      expect(merged.data).toEqual({ cart: { a: 1, b: 2 } });
      expect((await one.GET('/sessions/current/data')).data).toEqual({ cart: { a: 1, b: 2 } });
      expect((await other.GET('/sessions/current/data')).data).toEqual({});

      const refused = await one.PATCH('/sessions/current/data', { body: { $where: 'x' } });
      expect(refused.response.status).toBe(400);
      expect(refused.error?.code).toBe('VALIDATION_FAILED');
    });
  });
});
