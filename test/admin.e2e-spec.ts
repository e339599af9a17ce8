import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Query, Types } from 'mongoose';
import { parseCsvRecords } from './support/csv';
import { createTestApp, createUser, login, TestApp } from './support/app';
import { startTestDatabase } from './support/database';

const PASSWORD = 'correct horse battery staple';

describe('Admin API (e2e)', () => {
  let t: TestApp;
  let admin: string;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  /** A request as the admin signed in for the current test (re-read at call time). */
  const asAdmin = (method: 'get' | 'post' | 'patch' | 'delete' | 'put', path: string) =>
    t.http()[method](path).set(auth(admin));
  const sessions = () => t.connection.collection('sessions');
  const stateOf = async (id: string) =>
    sessions().findOne({ _id: new Types.ObjectId(id) }, { projection: { state: 1, endReason: 1 } });
  const activeIdsOf = async (username: string) =>
    (await sessions().find({ username, state: 'active' }).toArray())
      .map((s) => String(s._id))
      .sort();
  /** A user with `n` sessions (logins), oldest first. */
  async function userWithSessions(username: string, n: number, roles: string[] = []) {
    const { id } = await createUser(t, { username, password: PASSWORD, roles });
    const logins = [];
    for (let i = 0; i < n; i++) {
      logins.push(await login(t, username, PASSWORD, { label: `device ${i}` }));
      t.clock.advance(1000);
    }
    return { id, logins, ids: logins.map((l) => String(l.session.id)) };
  }

  beforeEach(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    admin = (await login(t, 'root', PASSWORD)).accessToken;
  });
  afterEach(() => t.close());

  describe('access', () => {
    const routes: [string, string, object?][] = [
      ['get', '/admin/sessions'],
      ['get', '/admin/sessions?format=csv'],
      ['post', '/admin/sessions/validate', { username: 'bob' }],
      ['post', '/admin/sessions/invalidate', { username: 'bob' }],
      ['post', '/admin/sessions/validate-all'],
      ['post', '/admin/sessions/invalidate-all'],
      ['post', '/admin/users', { username: 'mallory2', password: PASSWORD }],
    ];

    it('answers 403 FORBIDDEN to a signed-in non-admin on every admin route, changing nothing', async () => {
      const bob = await userWithSessions('bob', 2);
      for (const [method, path, body] of routes) {
        const req = (t.http() as any)[method](path).set(auth(bob.logins[0].accessToken));
        const res = await (body ? req.send(body) : req);
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 403,
          code: 'FORBIDDEN',
        });
      }
      expect(await activeIdsOf('bob')).toEqual([...bob.ids].sort());
      expect(await t.connection.collection('users').countDocuments({ username: 'mallory2' })).toBe(
        0,
      );
    });

    it('answers 401 without a token', async () => {
      for (const [method, path, body] of routes) {
        const req = (t.http() as any)[method](path);
        const res = await (body ? req.send(body) : req);
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 401,
          code: 'TOKEN_MISSING',
        });
      }
    });
  });

  describe('GET /admin/sessions', () => {
    it('lists every session newest first with its username, and filters by state and user', async () => {
      const alice = await userWithSessions('alice', 3);
      const bob = await userWithSessions('bob', 1);
      await t.http().post('/auth/logout').set(auth(alice.logins[0].accessToken)).expect(204);
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'alice', sessionId: alice.ids[1] })
        .expect(200);

      const all = await asAdmin('get', '/admin/sessions').expect(200);
      expect(all.headers['content-type']).toMatch(/^application\/json/);
      const byId = new Map(all.body.map((s: any) => [s.id, s]));
      expect(all.body).toHaveLength(5); // alice x3, bob, root
      const createdAt = all.body.map((s: any) => s.createdAt);
      expect(createdAt).toEqual([...createdAt].sort().reverse());
      expect(byId.get(alice.ids[0])).toMatchObject({
        username: 'alice',
        userId: alice.id,
        state: 'ended',
        endReason: 'logout',
        label: 'device 0',
        current: false,
      });
      expect(byId.get(alice.ids[1])).toMatchObject({ state: 'expired', endReason: 'admin' });
      expect(byId.get(bob.ids[0])).toMatchObject({ username: 'bob', state: 'active' });
      // `current` marks the admin's own session only
      const rootIds = await activeIdsOf('root');
      expect(all.body.filter((s: any) => s.current).map((s: any) => s.id)).toEqual(rootIds);
      for (const s of all.body) {
        expect(Object.keys(s).sort()).toEqual(
          [
            'id',
            'userId',
            'username',
            'groups',
            'ip',
            'userAgent',
            'label',
            'createdAt',
            'lastSeenAt',
            'expiresAt',
            'expiredAt',
            'endReason',
            'state',
            'current',
          ].sort(),
        );
      }

      const ids = async (query: string) =>
        (await asAdmin('get', `/admin/sessions?${query}`).expect(200)).body.map((s: any) => s.id);
      expect(await ids('state=active&user=alice')).toEqual([alice.ids[2]]);
      expect(await ids('state=expired')).toEqual([alice.ids[1]]);
      expect(await ids('state=ended')).toEqual([alice.ids[0]]);
      expect(await ids('state=all&user=alice')).toEqual([...alice.ids].reverse());
      expect(await ids('user=bob')).toEqual(bob.ids);
      expect(await ids('user=nobody')).toEqual([]);
      expect((await ids('state=active')).sort()).toEqual(
        [alice.ids[2], bob.ids[0], ...(await activeIdsOf('root'))].sort(),
      );
    });

    it('lists a stored-active session past its idle deadline as expired', async () => {
      const alice = await userWithSessions('alice', 1);
      t.clock.advance(31 * 60 * 1000);
      admin = (await login(t, 'root', PASSWORD)).accessToken;
      const res = await asAdmin('get', '/admin/sessions?user=alice').expect(200);
      expect(res.body).toEqual([
        expect.objectContaining({ id: alice.ids[0], state: 'expired', endReason: 'idle_timeout' }),
      ]);
      const active = await asAdmin('get', '/admin/sessions?user=alice&state=active').expect(200);
      expect(active.body).toEqual([]);
    });

    it('exports CSV as an RFC 4180 attachment with quoting and formula cells neutralised', async () => {
      await createUser(t, { username: 'eve', password: PASSWORD });
      const evil = await login(t, 'eve', PASSWORD, {
        label: '=HYPERLINK("http://evil.example","click"), with "quotes"\nand a newline',
        userAgent: '@SUM(1+1) agent',
      });
      const plain = await login(t, 'eve', PASSWORD, { label: 'plain, with comma' });

      const res = await asAdmin('get', '/admin/sessions?format=csv&user=eve').expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename="sessions-[0-9T-]+Z\.csv"$/,
      );
      const text: string = res.text;
      expect(text.split('\r\n')[0]).toBe(
        'id,userId,username,state,endReason,groups,ip,userAgent,label,createdAt,lastSeenAt,expiresAt,expiredAt',
      );
      expect(text).toContain(
        `"'=HYPERLINK(""http://evil.example"",""click""), with ""quotes""\nand a newline"`,
      );
      const rows = parseCsvRecords(text);
      expect(rows.map((r) => r.id)).toEqual([plain.session.id, evil.session.id]);
      expect(rows[1]).toMatchObject({
        username: 'eve',
        state: 'active',
        endReason: '',
        label: `'=HYPERLINK("http://evil.example","click"), with "quotes"\nand a newline`,
        userAgent: "'@SUM(1+1) agent",
        expiredAt: '',
      });
      expect(rows[0].label).toBe('plain, with comma');
      expect(new Date(rows[0].createdAt).toISOString()).toBe(rows[0].createdAt);
    });

    it('writes only the header row when nothing matches', async () => {
      const res = await asAdmin('get', '/admin/sessions?format=csv&user=nobody').expect(200);
      expect(parseCsvRecords(res.text)).toEqual([]);
      expect(res.text.startsWith('id,userId,username,')).toBe(true);
    });

    it('stops reading the database when the client goes away mid-export', async () => {
      const userId = new Types.ObjectId();
      const now = t.clock.nowMs();
      const docs = Array.from({ length: 20_000 }, (_, i) => ({
        userId,
        username: 'bulk',
        groups: [],
        ip: null,
        userAgent: 'x'.repeat(200),
        label: null,
        state: 'active',
        createdAt: new Date(now - i * 1000),
        lastSeenAt: new Date(now),
        expiresAt: new Date(now + 86400_000),
        expiredAt: null,
        endReason: null,
        refreshHash: String(i),
        refreshHistory: [],
        rotatedAt: null,
        data: {},
      }));
      await sessions().insertMany(docs);
      // Watch (not replace) the cursors queries open, to see the export's close.
      const closed: Promise<unknown>[] = [];
      let read = 0;
      const open = Query.prototype.cursor;
      const spy = jest.spyOn(Query.prototype, 'cursor').mockImplementation(function (
        this: Query<unknown, unknown>,
        ...args: Parameters<typeof open>
      ) {
        const cursor = open.apply(this, args);
        closed.push(new Promise((resolve) => cursor.once('close', resolve)));
        const next = cursor.next.bind(cursor);
        cursor.next = async () => {
          const doc = await next();
          if (doc) read++;
          return doc;
        };
        return cursor;
      });
      await t.app.listen(0, '127.0.0.1');
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = get(
          `http://127.0.0.1:${port}/admin/sessions?user=bulk`,
          { headers: auth(admin) },
          (res) => {
            expect(res.statusCode).toBe(200);
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
      });
      spy.mockRestore();
      expect(closed).toHaveLength(1);
      await closed[0]; // the export's cursor is closed (the test times out otherwise)
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(docs.length / 2);
    });

    it.each(['state=bogus', 'format=xml', 'user=', 'unknown=1', 'user=a&user=b', 'user[$ne]=x'])(
      'refuses %s with 400 VALIDATION_FAILED',
      async (query) => {
        const res = await asAdmin('get', `/admin/sessions?${query}`).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      },
    );
  });

  describe('POST /admin/sessions/validate', () => {
    it('keeps the named session, expires the others as superseded, and enforces it at once', async () => {
      const alice = await userWithSessions('alice', 3);
      const res = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(200);
      expect(res.body).toEqual({ validated: alice.ids[0], expired: 2, errors: [] });
      expect(await activeIdsOf('alice')).toEqual([alice.ids[0]]);
      expect(await stateOf(alice.ids[1])).toMatchObject({
        state: 'expired',
        endReason: 'superseded',
      });

      await t.http().get('/sessions').set(auth(alice.logins[0].accessToken)).expect(200);
      const refused = await t
        .http()
        .get('/sessions')
        .set(auth(alice.logins[2].accessToken))
        .expect(401);
      expect(refused.body.code).toBe('SESSION_EXPIRED');
    });

    it("without sessionId keeps the user's latest session", async () => {
      const alice = await userWithSessions('alice', 3);
      const res = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice' })
        .expect(200);
      expect(res.body).toEqual({ validated: alice.ids[2], expired: 2, errors: [] });
      expect(await activeIdsOf('alice')).toEqual([alice.ids[2]]);
    });

    it('revives a session an admin invalidated, and one that was superseded', async () => {
      const alice = await userWithSessions('alice', 2);
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'alice' })
        .expect(200, { invalidated: 2, errors: [] });
      await t.http().get('/sessions').set(auth(alice.logins[0].accessToken)).expect(401);

      const res = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(200);
      expect(res.body).toEqual({ validated: alice.ids[0], expired: 0, errors: [] });
      expect(await stateOf(alice.ids[0])).toMatchObject({ state: 'active', endReason: null });
      await t.http().get('/sessions').set(auth(alice.logins[0].accessToken)).expect(200);

      await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[1] })
        .expect(200, { validated: alice.ids[1], expired: 1, errors: [] });
      await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(200, { validated: alice.ids[0], expired: 1, errors: [] });
      expect(await activeIdsOf('alice')).toEqual([alice.ids[0]]);
    });

    it('refuses with 409 a session that was signed out or is past its absolute expiry', async () => {
      const alice = await userWithSessions('alice', 2);
      await t.http().post('/auth/logout').set(auth(alice.logins[1].accessToken)).expect(204);
      const loggedOut = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[1] })
        .expect(409);
      expect(loggedOut.body.code).toBe('CONFLICT');
      expect(await activeIdsOf('alice')).toEqual([alice.ids[0]]);

      t.clock.advance(7 * 24 * 3600 * 1000 + 1000);
      admin = (await login(t, 'root', PASSWORD)).accessToken;
      const old = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(409);
      expect(old.body.code).toBe('CONFLICT');
      const none = await asAdmin('post', '/admin/sessions/validate')
        .send({ username: 'alice' })
        .expect(409);
      expect(none.body.code).toBe('CONFLICT');
    });

    it('answers 404 for an unknown user, another user’s session and a user without sessions', async () => {
      const alice = await userWithSessions('alice', 1);
      await userWithSessions('bob', 0);
      for (const body of [
        { username: 'nobody' },
        { username: 'bob', sessionId: alice.ids[0] },
        { username: 'alice', sessionId: new Types.ObjectId().toHexString() },
        { username: 'bob' },
      ]) {
        const res = await asAdmin('post', '/admin/sessions/validate').send(body);
        expect({ body, status: res.status, code: res.body.code }).toEqual({
          body,
          status: 404,
          code: 'NOT_FOUND',
        });
      }
      expect(await activeIdsOf('alice')).toEqual(alice.ids);
    });

    it.each([
      [{}],
      [{ username: 'alice', sessionId: 'not-an-id' }],
      [{ username: 'alice', extra: true }],
      [{ username: 7 }],
      [{ username: { $ne: null } }],
    ])('refuses body %j with 400', async (body) => {
      const res = await asAdmin('post', '/admin/sessions/validate').send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('refuses a distribute value that is not true or false with 400', async () => {
      const alice = await userWithSessions('alice', 2);
      for (const op of ['validate', 'invalidate']) {
        const res = await asAdmin('post', `/admin/sessions/${op}?distribute=yes`)
          .send({ username: 'alice' })
          .expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      expect(await activeIdsOf('alice')).toEqual([...alice.ids].sort());
    });

    it('leaves exactly one active session when two validations race for the same user', async () => {
      const alice = await userWithSessions('alice', 4);
      for (let i = 0; i < 10; i++) {
        const [a, b] = [alice.ids[i % 4], alice.ids[(i + 1) % 4]];
        const [ra, rb] = await Promise.all([
          asAdmin('post', '/admin/sessions/validate').send({ username: 'alice', sessionId: a }),
          asAdmin('post', '/admin/sessions/validate').send({ username: 'alice', sessionId: b }),
        ]);
        expect([ra.status, rb.status]).toEqual([200, 200]);
        const active = await activeIdsOf('alice');
        expect(active).toHaveLength(1);
        expect([a, b]).toContain(active[0]);
      }
    });
  });

  describe('POST /admin/sessions/invalidate', () => {
    it('expires one session with endReason admin, refused at once', async () => {
      const alice = await userWithSessions('alice', 2);
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(200, { invalidated: 1, errors: [] });
      const doc = await sessions().findOne({ _id: new Types.ObjectId(alice.ids[0]) });
      expect(doc).toMatchObject({ state: 'expired', endReason: 'admin' });
      expect(doc!.expiredAt).toEqual(t.clock.now());
      expect(await activeIdsOf('alice')).toEqual([alice.ids[1]]);
      const refused = await t
        .http()
        .get('/sessions')
        .set(auth(alice.logins[0].accessToken))
        .expect(401);
      expect(refused.body.code).toBe('SESSION_EXPIRED');
      // invalidating it again changes nothing
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'alice', sessionId: alice.ids[0] })
        .expect(200, { invalidated: 0, errors: [] });
    });

    it("expires all of a user's sessions and no one else's", async () => {
      const alice = await userWithSessions('alice', 3);
      const bob = await userWithSessions('bob', 1);
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'alice' })
        .expect(200, { invalidated: 3, errors: [] });
      expect(await activeIdsOf('alice')).toEqual([]);
      expect(await activeIdsOf('bob')).toEqual(bob.ids);
      for (const l of alice.logins) {
        await t.http().get('/sessions').set(auth(l.accessToken)).expect(401);
      }
    });

    it('answers 404 for an unknown user or another user’s session', async () => {
      const alice = await userWithSessions('alice', 1);
      await userWithSessions('bob', 1);
      await asAdmin('post', '/admin/sessions/invalidate').send({ username: 'nobody' }).expect(404);
      await asAdmin('post', '/admin/sessions/invalidate')
        .send({ username: 'bob', sessionId: alice.ids[0] })
        .expect(404);
      expect(await activeIdsOf('alice')).toEqual(alice.ids);
    });
  });

  describe('validate-all and invalidate-all', () => {
    it("validate-all keeps each user's latest active session", async () => {
      const alice = await userWithSessions('alice', 3);
      const bob = await userWithSessions('bob', 2);
      const carol = await userWithSessions('carol', 1);
      const rootIds = await activeIdsOf('root');
      const res = await asAdmin('post', '/admin/sessions/validate-all').expect(200);
      expect(res.body).toEqual({ users: 4, expired: 3 });
      expect(await activeIdsOf('alice')).toEqual([alice.ids[2]]);
      expect(await activeIdsOf('bob')).toEqual([bob.ids[1]]);
      expect(await activeIdsOf('carol')).toEqual(carol.ids);
      expect(await activeIdsOf('root')).toEqual(rootIds);
      expect(await stateOf(alice.ids[0])).toMatchObject({
        state: 'expired',
        endReason: 'superseded',
      });
      await t.http().get('/sessions').set(auth(bob.logins[0].accessToken)).expect(401);
      await t.http().get('/sessions').set(auth(bob.logins[1].accessToken)).expect(200);
    });

    it('invalidate-all expires every active session, including the caller’s', async () => {
      await userWithSessions('alice', 2);
      await userWithSessions('bob', 1);
      const res = await asAdmin('post', '/admin/sessions/invalidate-all').expect(200);
      expect(res.body).toEqual({ invalidated: 4 });
      expect(await sessions().countDocuments({ state: 'active' })).toBe(0);
      expect(await sessions().countDocuments({ endReason: 'admin' })).toBe(4);
      await asAdmin('get', '/admin/sessions').expect(401);
    });
  });

  describe('POST /admin/users', () => {
    it('creates a user who can log in, and refuses a taken name with 409', async () => {
      const res = await asAdmin('post', '/admin/users')
        .send({ username: 'dave', password: PASSWORD, roles: ['admin'], groups: ['ops'] })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        username: 'dave',
        roles: ['admin'],
        groups: ['ops'],
      });
      const stored = await t.connection.collection('users').findOne({ username: 'dave' });
      expect(String(stored!._id)).toBe(res.body.id);
      expect(stored!.passwordHash).not.toContain(PASSWORD);
      await login(t, 'dave', PASSWORD, { groups: ['ops'] });

      const taken = await asAdmin('post', '/admin/users')
        .send({ username: 'dave', password: 'another one, long enough' })
        .expect(409);
      expect(taken.body.code).toBe('CONFLICT');

      const plain = await asAdmin('post', '/admin/users')
        .send({ username: 'erin', password: PASSWORD })
        .expect(201);
      expect(plain.body).toMatchObject({ username: 'erin', roles: [], groups: [] });
    });

    it.each([
      [{ username: 'x' }],
      [{ password: 'x' }],
      [{ username: 'x', password: 'y', roles: 'admin' }],
      [{ username: 'x', password: 'y', isAdmin: true }],
    ])('refuses %j with 400', async (body) => {
      const res = await asAdmin('post', '/admin/users').send(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('several instances on one database', () => {
    it('another instance refuses an invalidated session once its cache entry lapses', async () => {
      const db = await startTestDatabase();
      const cacheTtlMs = 5000;
      const env = { SESSION_CACHE_TTL_MS: String(cacheTtlMs) };
      const a = await createTestApp(env, { db });
      const b = await createTestApp(env, { db });
      try {
        await createUser(a, { username: 'root', password: PASSWORD, roles: ['admin'] });
        await createUser(a, { username: 'alice', password: PASSWORD });
        const rootToken = (await login(a, 'root', PASSWORD)).accessToken;
        const alice = await login(b, 'alice', PASSWORD);
        // b has now seen (and cached) alice's live session
        await b.http().get('/sessions').set(auth(alice.accessToken)).expect(200);

        await a
          .http()
          .post('/admin/sessions/invalidate')
          .set(auth(rootToken))
          .send({ username: 'alice' })
          .expect(200, { invalidated: 1, errors: [] });
        await a.http().get('/sessions').set(auth(alice.accessToken)).expect(401);

        b.clock.advance(cacheTtlMs);
        const refused = await b.http().get('/sessions').set(auth(alice.accessToken)).expect(401);
        expect(refused.body.code).toBe('SESSION_EXPIRED');
      } finally {
        await a.close();
        await b.close();
        await db.stop();
      }
    });
  });
});
