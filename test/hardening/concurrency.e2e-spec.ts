import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from '../support/app';
import { assertErrorShape } from '../support/hostile';

const PASSWORD = 'a-long-password-for-concurrency';
const MAX_PER_USER = 3;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Issue #6 hardening: requests that race each other must end in a state some serial order of
 * them would have produced, checked in the database (not only in the answers).
 */
describe('concurrent requests end in a state the rules allow (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');
  const byId = (id: string) => sessions().findOne({ _id: new Types.ObjectId(id) });
  const ofUser = async (username: string) => sessions().find({ username }).toArray();
  let admin: LoggedIn;
  const adminPost = (path: string, body: object) =>
    t.http().post(path).set('Authorization', bearer(admin.accessToken)).send(body);

  beforeAll(async () => {
    t = await createTestApp({ SESSION_MAX_PER_USER: String(MAX_PER_USER) });
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank']) {
      await createUser(t, { username: name, password: PASSWORD });
    }
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    admin = await login(t, 'root', PASSWORD);
  });

  it('20 parallel refreshes with one token all get the same new pair; one rotation is stored', async () => {
    const s = await login(t, 'alice', PASSWORD);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }),
      ),
    );
    for (const res of answers) {
      if (res.status !== 200) assertErrorShape('parallel refresh', res.status, res.body);
      expect(res.status).toBe(200);
    }
    const pairs = new Set(answers.map((r) => `${r.body.accessToken} ${r.body.refreshToken}`));
    expect(pairs.size).toBe(1);
    const next = answers[0].body.refreshToken as string;
    expect(next).not.toBe(s.refreshToken);

    const stored = await byId(s.session.id);
    expect(stored).toMatchObject({
      state: 'active',
      endReason: null,
      refreshHash: sha256(next),
      refreshHistory: [sha256(s.refreshToken)],
    });
    expect(await sessions().countDocuments({ username: 'alice' })).toBe(1);

    // The rotated pair works, once more in parallel: again one successor, stored once.
    const again = await Promise.all(
      Array.from({ length: 10 }, () => t.http().post('/auth/refresh').send({ refreshToken: next })),
    );
    expect(new Set(again.map((r) => `${r.status} ${r.body.refreshToken}`)).size).toBe(1);
    expect((await byId(s.session.id))!.refreshHistory).toEqual([
      sha256(next),
      sha256(s.refreshToken),
    ]);
  });

  it('parallel replays of a rotated token after the grace window revoke the session once', async () => {
    const s = await login(t, 'bob', PASSWORD);
    const rotated = await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken });
    expect(rotated.status).toBe(200);
    t.clock.advance(11_000);
    const replays = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t
          .http()
          .post('/auth/refresh')
          .send({ refreshToken: i % 2 ? s.refreshToken : rotated.body.refreshToken }),
      ),
    );
    for (const res of replays) {
      if (res.status === 200) continue;
      expect(assertErrorShape('replay race', res.status, res.body)).toMatch(
        /^REFRESH_TOKEN_(REUSED|INVALID)$|^SESSION_ENDED$/,
      );
    }
    // Every replay of the old token is refused, whatever order they ran in.
    for (const [i, res] of replays.entries()) if (i % 2) expect(res.status).toBe(401);
    const stored = await byId(s.session.id);
    expect(stored).toMatchObject({ state: 'ended', endReason: 'refresh_reuse' });
    // Nothing issued during the race still works.
    for (const res of replays.filter((r) => r.status === 200)) {
      const use = await t
        .http()
        .get('/sessions/current')
        .set('Authorization', bearer(res.body.accessToken));
      expect(use.status).toBe(401);
    }
  });

  it(`15 parallel logins with SESSION_MAX_PER_USER=${MAX_PER_USER} leave exactly the ${MAX_PER_USER} newest active`, async () => {
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        t
          .http()
          .post('/auth/login')
          .send({ username: 'carol', password: PASSWORD, label: `d${i}` }),
      ),
    );
    for (const res of answers) expect(res.status).toBe(201);
    const stored = await ofUser('carol');
    expect(stored).toHaveLength(15);
    const active = stored.filter((s) => s.state === 'active');
    const evicted = stored.filter((s) => s.state === 'expired' && s.endReason === 'evicted');
    expect(active).toHaveLength(MAX_PER_USER);
    expect(evicted).toHaveLength(15 - MAX_PER_USER);
    // The survivors are the newest (createdAt, then id: the clock stood still during the race).
    const newest = [...stored]
      .sort((a, b) => b.createdAt - a.createdAt || String(b._id).localeCompare(String(a._id)))
      .slice(0, MAX_PER_USER)
      .map((s) => String(s._id))
      .sort();
    expect(active.map((s) => String(s._id)).sort()).toEqual(newest);
    // The tokens of evicted sessions are refused; the survivors' work.
    for (const res of answers) {
      const live = active.some((s) => String(s._id) === res.body.session.id);
      const use = await t
        .http()
        .get('/sessions')
        .set('Authorization', bearer(res.body.accessToken));
      expect(use.status).toBe(live ? 200 : 401);
    }
  }, 90_000);

  it('validate racing invalidate ends as one serial order of the two would (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      t.clock.advance(1000);
      const mine = [];
      for (let i = 0; i < MAX_PER_USER; i++) mine.push(await login(t, 'dave', PASSWORD));
      const target = mine[round % mine.length].session.id;
      const invalidateBody =
        round % 2 ? { username: 'dave' } : { username: 'dave', sessionId: target };
      const [validated, invalidated] = await Promise.all([
        adminPost('/admin/sessions/validate', { username: 'dave', sessionId: target }),
        adminPost('/admin/sessions/invalidate', invalidateBody),
      ]);
      expect(invalidated.status).toBe(200);
      // validate may lose to the invalidation only by answering 200 (it revived, then lost).
      expect(validated.status).toBe(200);
      expect(validated.body.validated).toBe(target);
      const active = (await ofUser('dave')).filter((s) => s.state === 'active');
      expect(active.length).toBeLessThanOrEqual(1);
      if (active.length === 1) expect(String(active[0]._id)).toBe(target);
      for (const s of await ofUser('dave')) {
        if (s.state !== 'active') expect(['admin', 'superseded', 'evicted']).toContain(s.endReason);
      }
      await sessions().deleteMany({ username: 'dave' });
    }
  }, 90_000);

  it('parallel validations of different sessions leave exactly one active', async () => {
    const mine = [];
    for (let i = 0; i < MAX_PER_USER; i++) mine.push(await login(t, 'erin', PASSWORD));
    const answers = await Promise.all(
      [...mine, ...mine].map((s) =>
        adminPost('/admin/sessions/validate', { username: 'erin', sessionId: s.session.id }),
      ),
    );
    for (const res of answers) {
      if (res.status !== 200)
        expect(assertErrorShape('validate race', res.status, res.body)).toBe('CONFLICT');
    }
    const active = (await ofUser('erin')).filter((s) => s.state === 'active');
    expect(active).toHaveLength(1);
  });

  it('refresh racing an admin invalidation and a sign-out never leaves the session live', async () => {
    for (let round = 0; round < 6; round++) {
      const s = await login(t, 'frank', PASSWORD);
      const other = await login(t, 'frank', PASSWORD);
      const ending =
        round % 2
          ? adminPost('/admin/sessions/invalidate', { username: 'frank', sessionId: s.session.id })
          : t
              .http()
              .delete(`/sessions/${s.session.id}`)
              .set('Authorization', bearer(other.accessToken));
      const [refreshed, ended] = await Promise.all([
        t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }),
        ending,
      ]);
      expect(ended.status).toBeLessThan(300);
      if (refreshed.status !== 200) {
        expect(assertErrorShape('refresh race', refreshed.status, refreshed.body)).toMatch(
          /^SESSION_(ENDED|EXPIRED)$/,
        );
      }
      const stored = await byId(s.session.id);
      expect(stored!.state).toBe(round % 2 ? 'expired' : 'ended');
      // Whatever pair the refresh handed out is dead now.
      if (refreshed.status === 200) {
        const use = await t
          .http()
          .get('/sessions')
          .set('Authorization', bearer(refreshed.body.accessToken));
        expect(use.status).toBe(401);
        const again = await t
          .http()
          .post('/auth/refresh')
          .send({ refreshToken: refreshed.body.refreshToken });
        expect(again.status).toBe(401);
      }
      await sessions().deleteMany({ username: 'frank' });
    }
  }, 90_000);

  it('invalidate-all finishes under a stream of logins, expiring what was live when it began', async () => {
    const before = [];
    for (const name of ['gina', 'hank']) before.push(await login(t, name, PASSWORD));
    let running = true;
    let logins = 0;
    let cutoff = t.clock.now();
    const stream = Array.from({ length: 8 }, async (_, w) => {
      while (running) {
        // Time moves on during the stream, as it would outside a test.
        t.clock.advance(1);
        const res = await t
          .http()
          .post('/auth/login')
          .send({ username: w % 2 ? 'gina' : 'hank', password: PASSWORD });
        expect(res.status).toBe(201);
        logins++;
      }
    });
    try {
      while (logins < 16) await new Promise((r) => setTimeout(r, 10));
      cutoff = t.clock.now();
      const started = Date.now();
      const res = await adminPost('/admin/sessions/invalidate-all', {}).timeout(15_000);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      running = false;
      await Promise.all(stream);
    }
    // Nothing that existed when it was called is still active (eviction may have come first).
    expect(await sessions().countDocuments({ state: 'active', createdAt: { $lte: cutoff } })).toBe(
      0,
    );
    for (const s of before) expect((await byId(s.session.id))!.state).toBe('expired');
  }, 60_000);

  it('a data write racing sign-out either lands before it (and is erased with it) or is refused as SESSION_ENDED', async () => {
    for (let round = 0; round < 12; round++) {
      const s = await login(t, 'hank', PASSWORD);
      const [written, out] = await Promise.all([
        t
          .http()
          .patch('/sessions/current/data')
          .set('Authorization', bearer(s.accessToken))
          .send({ round }),
        t.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)),
      ]);
      expect(out.status).toBe(204);
      const stored = await byId(s.session.id);
      expect(stored).toMatchObject({ state: 'ended', endReason: 'logout' });
      if (written.status !== 200) {
        expect(assertErrorShape('data vs logout', written.status, written.body)).toBe(
          'SESSION_ENDED',
        );
      }
      // Either way nothing outlives the sign-out: the data of an ended session is erased
      // (contract revision, issue 11 finding 5), and no write lands after the end.
      expect(stored!.data).toEqual({});
    }
  }, 60_000);

  it('parallel merges into session data keep every key (no lost update)', async () => {
    const s = await login(t, 'alice', PASSWORD);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t
          .http()
          .patch('/sessions/current/data')
          .set('Authorization', bearer(s.accessToken))
          .send({ [`k${i}`]: i }),
      ),
    );
    for (const res of answers) expect(res.status).toBe(200);
    const stored = await byId(s.session.id);
    expect(stored!.data).toEqual(
      Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])),
    );
  });
});
