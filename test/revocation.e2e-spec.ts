import { Types } from 'mongoose';
import { SessionCache, SessionChangeWatcher, type WatchState } from '../src/sessions';
import {
  bearer,
  createTestApp,
  createTwoInstances,
  createUser,
  login,
  TestApp,
  type TwoInstances,
} from './support/app';

/**
 * Far longer than any test here runs, on a clock that only moves when a test says so: a
 * session another instance stops honouring was dropped by a change event, never by age.
 */
const LONG_TTL = { SESSION_CACHE_TTL_MS: String(24 * 3600 * 1000) };
const ADMIN = { username: 'root', password: 'root-password-0123' };
const ALICE = { username: 'alice', password: 'alice-password-0123' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails after `withinMs` of real time (a liveness bound, not a timing). */
async function eventually(check: () => Promise<boolean>, what: string, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(10);
  }
}

const watchState = (t: TestApp): WatchState => t.app.get(SessionChangeWatcher).state;

/** A route that refuses expired sessions too (GET /sessions/current shows them, as invalid). */
async function status(t: TestApp, token: string) {
  const res = await t.http().get('/sessions').set('Authorization', bearer(token));
  return { status: res.status as number, code: res.body?.code as string | undefined };
}

async function currentUser(t: TestApp, token: string) {
  const res = await t.http().get('/sessions/current').set('Authorization', bearer(token));
  return res.body?.user as { roles: string[] } | undefined;
}

/** Waits until B refuses the token, and says with which code. */
async function refusedOn(t: TestApp, token: string): Promise<string | undefined> {
  let last = await status(t, token);
  await eventually(async () => {
    last = await status(t, token);
    if (last.status !== 200 && last.status !== 401) throw new Error(`answered ${last.status}`);
    return last.status === 401;
  }, 'the other instance refuses the session');
  return last.code;
}

describe('instant revocation across instances (change streams, e2e)', () => {
  let both: TwoInstances;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    both = await createTwoInstances(LONG_TTL, { replicaSet: 'rs0' });
    ({ a, b } = both);
    await createUser(a, { ...ADMIN, roles: ['admin'] });
    await createUser(a, ALICE);
  });
  afterAll(() => both?.close());

  /** Logs in on A and makes B cache the session (its worst case). */
  async function cachedOnB(user = ALICE) {
    const s = await login(a, user.username, user.password);
    expect((await status(b, s.accessToken)).status).toBe(200);
    expect(b.app.get(SessionCache).get(s.session.id)).toBeDefined();
    return s;
  }

  it('watches on every instance when the database has change streams', () => {
    expect(watchState(a)).toBe('watching');
    expect(watchState(b)).toBe('watching');
  });

  it('a sign-out on A is refused on B long before its cache would let go', async () => {
    const s = await cachedOnB();
    await a.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
    expect(await refusedOn(b, s.accessToken)).toBe('SESSION_ENDED');
  });

  it('signing out another device on A, and "everywhere else", reach B', async () => {
    const keep = await login(a, ALICE.username, ALICE.password);
    const one = await cachedOnB();
    const two = await cachedOnB();
    await a
      .http()
      .delete(`/sessions/${one.session.id}`)
      .set('Authorization', bearer(keep.accessToken))
      .expect(204);
    expect(await refusedOn(b, one.accessToken)).toBe('SESSION_ENDED');
    await a
      .http()
      .delete('/sessions?scope=others')
      .set('Authorization', bearer(keep.accessToken))
      .expect(200);
    expect(await refusedOn(b, two.accessToken)).toBe('SESSION_ENDED');
    expect((await status(b, keep.accessToken)).status).toBe(200);
  });

  it('an admin invalidation or supersession on A reaches B', async () => {
    const admin = await login(a, ADMIN.username, ADMIN.password);
    const older = await cachedOnB();
    const newer = await cachedOnB();
    await a
      .http()
      .post('/admin/sessions/validate')
      .set('Authorization', bearer(admin.accessToken))
      .send({ username: ALICE.username, sessionId: newer.session.id })
      .expect(200);
    expect(await refusedOn(b, older.accessToken)).toBe('SESSION_EXPIRED');
    expect((await status(b, newer.accessToken)).status).toBe(200);
    await a
      .http()
      .post('/admin/sessions/invalidate')
      .set('Authorization', bearer(admin.accessToken))
      .send({ username: ALICE.username })
      .expect(200);
    expect(await refusedOn(b, newer.accessToken)).toBe('SESSION_EXPIRED');
  });

  it('a user changed or removed in the database leaves every instance at once', async () => {
    const bob = await createUser(a, { username: 'bob', password: 'bob-password-0123' });
    const s = await cachedOnB({ username: 'bob', password: 'bob-password-0123' });
    expect((await currentUser(b, s.accessToken))?.roles).toEqual([]);
    const users = a.connection.collection('users');
    await users.updateOne({ _id: new Types.ObjectId(bob.id) }, { $set: { roles: ['auditor'] } });
    await eventually(
      async () => (await currentUser(b, s.accessToken))?.roles[0] === 'auditor',
      'B sees the new role',
    );
    await users.deleteOne({ _id: new Types.ObjectId(bob.id) });
    expect(await refusedOn(b, s.accessToken)).toBe('SESSION_EXPIRED');
  });

  it('a touch or a data write elsewhere leaves the cached session in place', async () => {
    const s = await cachedOnB();
    const marker = await cachedOnB();
    const bCache = b.app.get(SessionCache);
    // A writes lastSeenAt (its clock is past the write interval) and session data.
    a.clock.advance(61_000);
    expect((await status(a, s.accessToken)).status).toBe(200);
    await a
      .http()
      .put('/sessions/current/data')
      .set('Authorization', bearer(s.accessToken))
      .send({ theme: 'dark' })
      .expect(200);
    // Events arrive in order: once B has seen the marker's sign-out, it has seen those too.
    await a
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(marker.accessToken))
      .expect(204);
    await eventually(async () => bCache.get(marker.session.id) === undefined, 'marker dropped');
    expect(bCache.get(s.session.id)).toBeDefined();
    b.clock.set(a.clock.now());
  });
});

describe('revocation without change streams (standalone, e2e)', () => {
  let both: TwoInstances;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    both = await createTwoInstances({ SESSION_CACHE_TTL_MS: '5000' });
    ({ a, b } = both);
    await createUser(a, ALICE);
  });
  afterAll(() => both?.close());

  it('falls back to the cache lifetime: B honours a session signed out on A until its entry ages out', async () => {
    if (process.env.MONGODB_URI) return; // the server decides; this case needs a standalone
    expect(watchState(b)).toBe('unavailable');
    const s = await login(a, ALICE.username, ALICE.password);
    expect((await status(b, s.accessToken)).status).toBe(200);
    await a.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
    expect((await status(a, s.accessToken)).code).toBe('SESSION_ENDED');
    await sleep(300);
    expect((await status(b, s.accessToken)).status).toBe(200);
    b.clock.advance(5000);
    expect((await status(b, s.accessToken)).code).toBe('SESSION_ENDED');
  });

  it('refuses to start with cache.watch true when the database has no change streams', async () => {
    if (process.env.MONGODB_URI) return;
    await expect(createTestApp({ SESSION_CACHE_WATCH: 'true' }, { db: both.db })).rejects.toThrow(
      /cache\.watch is true, but the database does not support change streams/,
    );
  });

  it('does not watch at all with cache.watch false', async () => {
    const off = await createTestApp({ SESSION_CACHE_WATCH: 'false' }, { db: both.db });
    try {
      expect(watchState(off)).toBe('off');
    } finally {
      await off.close();
    }
  });
});
