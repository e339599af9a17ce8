import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';

const MINUTE = 60_000;

describe('own sessions (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');
  const byId = (id: string) => sessions().findOne({ _id: new Types.ObjectId(id) });
  const get = (s: LoggedIn, path: string) =>
    t.http().get(path).set('Authorization', bearer(s.accessToken));

  beforeAll(async () => {
    t = await createTestApp({
      SESSION_IDLE_TIMEOUT_SECONDS: '1800',
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: '7200',
    });
    for (const name of ['alice', 'bob', 'carol', 'dan', 'erin']) {
      await createUser(t, { username: name, password: `${name}-password` });
    }
  });
  afterAll(() => t.close());

  describe('GET /sessions', () => {
    it('lists only the caller’s active sessions, newest first, marking the current one', async () => {
      const a1 = await login(t, 'alice', 'alice-password', { label: 'one' });
      t.clock.advance(1000);
      const a2 = await login(t, 'alice', 'alice-password', { label: 'two' });
      t.clock.advance(1000);
      const a3 = await login(t, 'alice', 'alice-password', { label: 'three' });
      await login(t, 'bob', 'bob-password');
      await t.http().post('/auth/logout').set('Authorization', bearer(a1.accessToken));

      const res = await get(a2, '/sessions');
      expect(res.status).toBe(200);
      expect(res.body.map((s: { id: string }) => s.id)).toEqual([a3.session.id, a2.session.id]);
      expect(res.body.map((s: { current: boolean }) => s.current)).toEqual([false, true]);
      expect(Object.keys(res.body[0]).sort()).toEqual(
        [
          'createdAt',
          'current',
          'endReason',
          'expiredAt',
          'expiresAt',
          'groups',
          'id',
          'ip',
          'label',
          'lastSeenAt',
          'state',
          'userAgent',
          'userId',
        ].sort(),
      );

      const ended = await get(a2, '/sessions?state=ended');
      expect(ended.body.map((s: { id: string }) => s.id)).toEqual([a1.session.id]);
      expect(ended.body[0]).toMatchObject({ state: 'ended', endReason: 'logout' });
      const all = await get(a2, '/sessions?state=all');
      expect(all.body).toHaveLength(3);
      const bad = await get(a2, '/sessions?state=bogus');
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /sessions/current', () => {
    it('shows the session with valid: true and the user', async () => {
      const s = await login(t, 'carol', 'carol-password');
      const res = await get(s, '/sessions/current');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: s.session.id,
        current: true,
        valid: true,
        state: 'active',
        user: { username: 'carol', roles: [], groups: [] },
      });
      expect(Object.keys(res.body.user).sort()).toEqual(['groups', 'id', 'roles', 'username']);
    });

    /** The session collection operations the app issues while `fn` runs. */
    const sessionQueries = async (fn: () => Promise<unknown>): Promise<string[]> => {
      const seen: string[] = [];
      t.connection.set('debug', (collection: string, method: string) => {
        if (collection === 'sessions') seen.push(method);
      });
      try {
        await fn();
      } finally {
        t.connection.set('debug', false);
      }
      return seen;
    };

    it('answers from the session cache with the full view and reads no session document', async () => {
      const s = await login(t, 'carol', 'carol-password', { label: 'laptop', userAgent: 'ua/1' });
      const first = await get(s, '/sessions/current');
      expect(first.status).toBe(200); // the guard has cached the session now
      let res: Awaited<ReturnType<typeof get>> | undefined;
      expect(await sessionQueries(async () => (res = await get(s, '/sessions/current')))).toEqual(
        [],
      );
      const stored = await byId(s.session.id);
      const { valid, user, ...view } = res!.body;
      expect({ valid, user: user.username }).toEqual({ valid: true, user: 'carol' });
      // Exactly the contract's Session view, equal to the one login returned and to the store.
      expect(view).toEqual({ ...s.session, current: true });
      expect(view).toMatchObject({
        label: 'laptop',
        userAgent: 'ua/1',
        ip: stored!.ip,
        lastSeenAt: stored!.lastSeenAt.toISOString(),
        expiresAt: stored!.expiresAt.toISOString(),
        expiredAt: null,
        endReason: null,
      });
      // GET /sessions/:id of the current session is the same view, also without a read.
      let byPath: Awaited<ReturnType<typeof get>> | undefined;
      expect(
        await sessionQueries(async () => (byPath = await get(s, `/sessions/${s.session.id}`))),
      ).toEqual([]);
      expect(byPath!.body).toEqual(view);
    });

    it('shows a new label of the current session at once (the cached view is dropped)', async () => {
      const s = await login(t, 'carol', 'carol-password');
      expect((await get(s, '/sessions/current')).body.label).toBeNull(); // cached
      const patched = await t
        .http()
        .patch(`/sessions/${s.session.id}`)
        .set('Authorization', bearer(s.accessToken))
        .send({ label: 'renamed' });
      expect(patched.status).toBe(200);
      expect((await get(s, '/sessions/current')).body).toMatchObject({ label: 'renamed' });
      expect((await get(s, `/sessions/${s.session.id}`)).body).toMatchObject({ label: 'renamed' });
      expect(await byId(s.session.id)).toMatchObject({ label: 'renamed' });
    });

    it('shows lastSeenAt as written once the lazy-write interval has passed', async () => {
      const s = await login(t, 'carol', 'carol-password');
      await get(s, '/sessions/current');
      t.clock.advance(2 * MINUTE);
      const res = await get(s, '/sessions/current');
      const stored = await byId(s.session.id);
      expect(res.body.lastSeenAt).toBe(t.clock.now().toISOString());
      expect(stored!.lastSeenAt.toISOString()).toBe(res.body.lastSeenAt);
    });
  });

  describe('GET, PATCH, DELETE /sessions/:id', () => {
    let mine: LoggedIn;
    let other: LoggedIn;
    let bobs: LoggedIn;
    beforeAll(async () => {
      mine = await login(t, 'dan', 'dan-password');
      other = await login(t, 'dan', 'dan-password');
      bobs = await login(t, 'bob', 'bob-password');
    });

    it('gets one of my sessions', async () => {
      const res = await get(mine, `/sessions/${other.session.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: other.session.id, current: false });
    });

    it('labels a session; only label may be sent', async () => {
      const auth = bearer(mine.accessToken);
      const res = await t
        .http()
        .patch(`/sessions/${other.session.id}`)
        .set('Authorization', auth)
        .send({ label: 'phone' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: other.session.id, label: 'phone' });
      expect(await byId(other.session.id)).toMatchObject({ label: 'phone' });
      for (const body of [{ label: 'x', state: 'active' }, { state: 'ended' }, { label: 5 }, {}]) {
        const bad = await t
          .http()
          .patch(`/sessions/${other.session.id}`)
          .set('Authorization', auth)
          .send(body);
        expect(bad.status).toBe(400);
        expect(bad.body.code).toBe('VALIDATION_FAILED');
      }
      const cleared = await t
        .http()
        .patch(`/sessions/${other.session.id}`)
        .set('Authorization', auth)
        .send({ label: null });
      expect(cleared.body.label).toBeNull();
      expect(await byId(other.session.id)).toMatchObject({ label: null, state: 'active' });
    });

    it('answers 400 for a malformed id and 404 for a session that is not mine', async () => {
      const malformed = await get(mine, '/sessions/not-an-id');
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('VALIDATION_FAILED');
      const auth = bearer(mine.accessToken);
      for (const id of [bobs.session.id, new Types.ObjectId().toHexString()]) {
        const got = await t.http().get(`/sessions/${id}`).set('Authorization', auth);
        const patched = await t
          .http()
          .patch(`/sessions/${id}`)
          .set('Authorization', auth)
          .send({ label: 'mine now' });
        const deleted = await t.http().delete(`/sessions/${id}`).set('Authorization', auth);
        for (const res of [got, patched, deleted]) {
          expect(res.status).toBe(404);
          expect(res.body.code).toBe('NOT_FOUND');
        }
      }
      // Bob's session is untouched and still works.
      expect(await byId(bobs.session.id)).toMatchObject({ state: 'active', label: null });
      expect((await get(bobs, '/sessions/current')).status).toBe(200);
    });

    it('ends another device’s session with 204', async () => {
      const auth = bearer(mine.accessToken);
      const res = await t.http().delete(`/sessions/${other.session.id}`).set('Authorization', auth);
      expect(res.status).toBe(204);
      expect(await byId(other.session.id)).toMatchObject({ state: 'ended', endReason: 'logout' });
      const dead = await get(other, '/sessions');
      expect(dead.status).toBe(401);
      expect(dead.body.code).toBe('SESSION_ENDED');
      // Idempotent for my own, already ended session.
      const again = await t
        .http()
        .delete(`/sessions/${other.session.id}`)
        .set('Authorization', auth);
      expect(again.status).toBe(204);
    });
  });

  describe('DELETE /sessions?scope=others', () => {
    it('ends every other active session of mine and reports how many', async () => {
      const keep = await login(t, 'erin', 'erin-password');
      const others = [
        await login(t, 'erin', 'erin-password'),
        await login(t, 'erin', 'erin-password'),
      ];
      const bobs = await login(t, 'bob', 'bob-password');
      const auth = bearer(keep.accessToken);
      const missing = await t.http().delete('/sessions').set('Authorization', auth);
      expect(missing.status).toBe(400);
      const wrong = await t.http().delete('/sessions?scope=all').set('Authorization', auth);
      expect(wrong.status).toBe(400);

      const res = await t.http().delete('/sessions?scope=others').set('Authorization', auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ended: 2 });
      for (const o of others) {
        expect(await byId(o.session.id)).toMatchObject({ state: 'ended', endReason: 'logout' });
        expect((await get(o, '/sessions')).body.code).toBe('SESSION_ENDED');
      }
      expect(await byId(keep.session.id)).toMatchObject({ state: 'active' });
      expect(await byId(bobs.session.id)).toMatchObject({ state: 'active' });
      const none = await t.http().delete('/sessions?scope=others').set('Authorization', auth);
      expect(none.body).toEqual({ ended: 0 });
    });
  });
});

describe('timeouts (e2e)', () => {
  let t: TestApp;
  const byId = (id: string) =>
    t.connection.collection('sessions').findOne({ _id: new Types.ObjectId(id) });

  beforeAll(async () => {
    t = await createTestApp({
      SESSION_IDLE_TIMEOUT_SECONDS: '600',
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600',
      ACCESS_TOKEN_TTL_SECONDS: '86400',
    });
    await createUser(t, { username: 'ivy', password: 'ivy-password' });
  });
  afterAll(() => t.close());

  it('writes lastSeenAt at most once a minute, and only on use', async () => {
    const s = await login(t, 'ivy', 'ivy-password');
    const start = t.clock.now();
    t.clock.advance(30_000);
    await t.http().get('/sessions').set('Authorization', bearer(s.accessToken)).expect(200);
    expect((await byId(s.session.id))!.lastSeenAt).toEqual(start);
    t.clock.advance(31_000);
    await t.http().get('/sessions').set('Authorization', bearer(s.accessToken)).expect(200);
    expect((await byId(s.session.id))!.lastSeenAt).toEqual(t.clock.now());
  });

  it('slides the idle timeout with use, and expires an unused session (idle_timeout)', async () => {
    const s = await login(t, 'ivy', 'ivy-password');
    const auth = bearer(s.accessToken);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(9 * MINUTE);
      await t.http().get('/sessions').set('Authorization', auth).expect(200);
    }
    const lastUse = t.clock.nowMs();
    t.clock.advance(10 * MINUTE);
    const res = await t.http().get('/sessions').set('Authorization', auth);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('SESSION_EXPIRED');
    expect(await byId(s.session.id)).toMatchObject({
      state: 'expired',
      endReason: 'idle_timeout',
      expiredAt: new Date(lastUse + 10 * MINUTE),
    });
    const refresh = await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken });
    expect(refresh.status).toBe(401);
    expect(refresh.body.code).toBe('SESSION_EXPIRED');
  });

  it('refresh counts as activity and is refused once idle', async () => {
    const s = await login(t, 'ivy', 'ivy-password');
    t.clock.advance(9 * MINUTE);
    const r1 = await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken });
    expect(r1.status).toBe(200);
    t.clock.advance(9 * MINUTE);
    const r2 = await t.http().post('/auth/refresh').send({ refreshToken: r1.body.refreshToken });
    expect(r2.status).toBe(200);
    t.clock.advance(10 * MINUTE);
    const r3 = await t.http().post('/auth/refresh').send({ refreshToken: r2.body.refreshToken });
    expect(r3.status).toBe(401);
    expect(r3.body.code).toBe('SESSION_EXPIRED');
    expect(await byId(s.session.id)).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
  });

  it('expires a session in constant use at its absolute deadline (absolute_timeout)', async () => {
    const s = await login(t, 'ivy', 'ivy-password');
    const created = t.clock.nowMs();
    const auth = bearer(s.accessToken);
    while (t.clock.nowMs() + 5 * MINUTE < created + 3600_000) {
      t.clock.advance(5 * MINUTE);
      await t.http().get('/sessions').set('Authorization', auth).expect(200);
    }
    t.clock.set(created + 3600_000);
    const res = await t.http().get('/sessions').set('Authorization', auth);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('SESSION_EXPIRED');
    expect(await byId(s.session.id)).toMatchObject({
      state: 'expired',
      endReason: 'absolute_timeout',
      expiredAt: new Date(created + 3600_000),
    });
  });

  it('lets an expired (not ended) session reach @AllowExpiredSession routes only', async () => {
    const s = await login(t, 'ivy', 'ivy-password');
    t.clock.advance(11 * MINUTE);
    const current = await t
      .http()
      .get('/sessions/current')
      .set('Authorization', bearer(s.accessToken));
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({
      id: s.session.id,
      state: 'expired',
      endReason: 'idle_timeout',
      valid: false,
    });
    const list = await t.http().get('/sessions').set('Authorization', bearer(s.accessToken));
    expect(list.body.code).toBe('SESSION_EXPIRED');
    // Logging out an expired session is allowed and ends it (contract revision, issue 11
    // finding 2: left expired, an admin validate could revive the signed-out device).
    await t.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
    expect(await byId(s.session.id)).toMatchObject({ state: 'ended', endReason: 'logout' });
  });

  it('shows a stored-active session past its deadline as expired in listings', async () => {
    const old = await login(t, 'ivy', 'ivy-password');
    t.clock.advance(11 * MINUTE);
    const fresh = await login(t, 'ivy', 'ivy-password');
    const auth = bearer(fresh.accessToken);
    const active = await t.http().get('/sessions').set('Authorization', auth);
    expect(active.body.map((s: { id: string }) => s.id)).toEqual([fresh.session.id]);
    const expired = await t.http().get('/sessions?state=expired').set('Authorization', auth);
    const view = expired.body.find((s: { id: string }) => s.id === old.session.id);
    expect(view).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
    // Nothing wrote it down yet: that is the sweep's or the next request's job.
    expect(await byId(old.session.id)).toMatchObject({ state: 'active' });
  });
});

describe('SESSION_MAX_PER_USER (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_MAX_PER_USER: '2' });
    await createUser(t, { username: 'max', password: 'max-password' });
  });
  afterAll(() => t.close());

  it('evicts the oldest active session when a login goes over the limit', async () => {
    const s1 = await login(t, 'max', 'max-password');
    t.clock.advance(1000);
    const s2 = await login(t, 'max', 'max-password');
    t.clock.advance(1000);
    // s1 is in use (and cached) when it is evicted.
    await t.http().get('/sessions').set('Authorization', bearer(s1.accessToken)).expect(200);
    const s3 = await login(t, 'max', 'max-password');
    const col = t.connection.collection('sessions');
    expect(await col.findOne({ _id: new Types.ObjectId(s1.session.id) })).toMatchObject({
      state: 'expired',
      endReason: 'evicted',
    });
    expect(await col.countDocuments({ username: 'max', state: 'active' })).toBe(2);
    const evicted = await t.http().get('/sessions').set('Authorization', bearer(s1.accessToken));
    expect(evicted.status).toBe(401);
    expect(evicted.body.code).toBe('SESSION_EXPIRED');
    const list = await t.http().get('/sessions').set('Authorization', bearer(s3.accessToken));
    expect(list.body.map((s: { id: string }) => s.id)).toEqual([s3.session.id, s2.session.id]);
  });
});

describe('short idle timeout (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: '30' });
    await createUser(t, { username: 'quick', password: 'quick-password' });
  });
  afterAll(() => t.close());

  it('keeps a session in steady use alive even when the idle timeout is under a minute', async () => {
    const s = await login(t, 'quick', 'quick-password');
    for (let i = 0; i < 6; i++) {
      t.clock.advance(20_000);
      await t.http().get('/sessions').set('Authorization', bearer(s.accessToken)).expect(200);
    }
    t.clock.advance(30_000);
    const res = await t.http().get('/sessions').set('Authorization', bearer(s.accessToken));
    expect(res.body.code).toBe('SESSION_EXPIRED');
  });
});
