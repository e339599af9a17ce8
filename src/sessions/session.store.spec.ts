import { Types } from 'mongoose';
import { createTestApp, TestApp } from '../../test/support/app';
import type { AuthContext } from './session-context';
import { SessionCache } from './session-cache';
import { NewSession, SessionStore } from './session.store';

/** The store on the real engine, through the app that wires it; the cache is the real one. */
describe('SessionStore', () => {
  let t: TestApp;
  let store: SessionStore;
  let cache: SessionCache;
  const userId = new Types.ObjectId();
  const IDLE_MS = 1800 * 1000;

  beforeAll(async () => {
    t = await createTestApp();
    store = t.app.get(SessionStore);
    cache = t.app.get(SessionCache);
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.connection.collection('sessions').deleteMany({});
    cache.invalidateAll();
  });

  const fields = (overrides: Partial<NewSession> = {}): NewSession => {
    const now = t.clock.now();
    return {
      userId,
      username: 'alice',
      groups: [],
      ip: '127.0.0.1',
      lastSeenIp: '127.0.0.1',
      userAgent: 'ua',
      device: null,
      label: null,
      createdAt: now,
      lastSeenAt: now,
      authenticatedAt: now,
      expiresAt: new Date(now.getTime() + 7 * 24 * 3600 * 1000),
      refreshHash: `hash-${new Types.ObjectId().toHexString()}`,
      generation: 'g1',
      rotationKey: 'k1',
      ...overrides,
    };
  };
  /** Puts a stand-in entry in the cache, so a test can see the store drop it. */
  const cached = (id: string | Types.ObjectId) => {
    cache.set(String(id), {
      user: { id: String(userId) },
      session: { id: String(id) },
    } as unknown as AuthContext);
    return String(id);
  };
  const stored = (id: Types.ObjectId | string) =>
    t.connection.collection('sessions').findOne({ _id: new Types.ObjectId(String(id)) });

  it('creates a live session and finds it by id, by owner and by refresh hash', async () => {
    const doc = await store.create(fields({ refreshHash: 'h1' }));
    expect(doc).toMatchObject({ state: 'active', refreshHistory: [], data: {}, rotatedAt: null });
    expect((await store.findById(doc._id, userId))?.username).toBe('alice');
    expect(await store.findById('not-an-id', userId)).toBeNull();
    expect(await store.findById(doc._id, new Types.ObjectId())).toBeNull();
    expect(await store.findOwn(String(userId), String(doc._id))).not.toBeNull();
    expect(await store.findOwn(String(new Types.ObjectId()), String(doc._id))).toBeNull();
    expect((await store.findByRefreshHash('h1'))?._id).toEqual(doc._id);
  });

  it('rotates only the current hash of a live session, keeping the old one in history', async () => {
    const doc = await store.create(fields({ refreshHash: 'h1' }));
    const id = cached(doc._id);
    const rotated = await store.rotate('h1', 'h2', t.clock.now());
    expect(rotated).toMatchObject({ refreshHash: 'h2', refreshHistory: ['h1'] });
    expect(cache.get(id)).toBeUndefined();
    expect(await store.rotate('h1', 'h3', t.clock.now())).toBeNull();
    expect((await store.findByRefreshHash('h1'))?._id).toEqual(doc._id);
    t.clock.advance(IDLE_MS);
    expect(await store.rotate('h2', 'h3', t.clock.now())).toBeNull();
  });

  it('touches only a live session whose lastSeenAt is older than asked, never reviving one', async () => {
    const doc = await store.create(fields());
    const id = cached(doc._id);
    const now = t.clock.now();
    expect(await store.touch(id, String(userId), now, new Date(now.getTime() - 60_000))).toBe(
      false,
    );
    expect(cache.get(id)).toBeUndefined();
    t.clock.advance(61_000);
    const later = t.clock.now();
    expect(await store.touch(id, String(userId), later, new Date(later.getTime() - 60_000))).toBe(
      true,
    );
    expect((await stored(id))!.lastSeenAt).toEqual(later);
    await store.endOne(id, String(userId));
    t.clock.advance(61_000);
    const after = t.clock.now();
    expect(await store.touch(id, String(userId), after, new Date(after.getTime() - 60_000))).toBe(
      false,
    );
    expect((await stored(id))!.state).toBe('ended');
  });

  it('settles a session past its idle deadline as expired at the deadline, once', async () => {
    const doc = await store.create(fields());
    const id = cached(doc._id);
    t.clock.advance(IDLE_MS + 5_000);
    const { doc: settled, eff } = await store.settle(doc, t.clock.now());
    expect(eff).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
    expect(settled).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
    expect(settled.expiredAt).toEqual(new Date(doc.lastSeenAt.getTime() + IDLE_MS));
    expect(cache.get(id)).toBeUndefined();
    // A second reader with the same stale copy finds it already written down.
    const again = await store.settle(doc, t.clock.now());
    expect(again.eff).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
  });

  it('ends one, the others, and the surplus over a limit, dropping each from the cache', async () => {
    const docs = [];
    for (let i = 0; i < 4; i++) {
      docs.push(await store.create(fields()));
      t.clock.advance(1000);
    }
    const ids = docs.map((d) => cached(d._id));
    expect(await store.evictOverLimit(String(userId), 3, t.clock.now())).toBe(1);
    expect(await stored(ids[0])).toMatchObject({ state: 'expired', endReason: 'evicted' });
    // scope=others reaches the evicted (expired) one too: ending is final (issue 11 finding 2).
    expect(await store.endOthers(String(userId), ids[3])).toBe(3);
    expect(await stored(ids[0])).toMatchObject({ state: 'ended', endReason: 'logout' });
    expect(await store.endOne(ids[3], String(new Types.ObjectId()))).toBe(0);
    expect(await store.endOne(ids[3], String(userId))).toBe(1);
    expect(await store.endOne(ids[3], String(userId))).toBe(0);
    for (const id of ids) expect(cache.get(id)).toBeUndefined();
    expect((await stored(ids[3]))!).toMatchObject({ state: 'ended', endReason: 'logout' });
  });

  it('writes data only over what was read, and the expiry only when given', async () => {
    const doc = await store.create(fields());
    const id = cached(doc._id);
    expect(await store.writeData(id, String(userId), {}, { a: 1 })).toBe(true);
    expect(cache.get(id)).toBeDefined();
    expect(await store.writeData(id, String(userId), {}, { a: 2 })).toBe(false);
    const moved = new Date(t.clock.nowMs() + 60_000);
    expect(await store.writeData(id, String(userId), { a: 1 }, { a: 3 }, moved)).toBe(true);
    expect(cache.get(id)).toBeUndefined();
    expect(await store.readData(id, String(userId))).toMatchObject({
      data: { a: 3 },
      expiresAt: moved,
    });
    await store.endOne(id, String(userId));
    expect(await store.writeData(id, String(userId), { a: 3 }, { a: 4 })).toBe(false);
    expect(await store.isActive(id, String(userId))).toBe(false);
  });

  it('admin: expires, revives and supersedes, never reviving a signed-out session', async () => {
    const a = await store.create(fields());
    const b = await store.create(fields());
    const signedOut = await store.create(fields());
    await store.endOne(String(signedOut._id), String(userId));
    for (const d of [a, b]) cached(d._id);
    expect(await store.expireByAdmin(userId, undefined, t.clock.now())).toBe(2);
    expect(cache.get(String(a._id))).toBeUndefined();
    expect(await store.newestRevivable(userId, t.clock.now())).toEqual(b._id);
    expect(await store.revive(userId, a._id, t.clock.now())).toBe(true);
    expect(await store.revive(userId, signedOut._id, t.clock.now())).toBe(false);
    await store.revive(userId, b._id, t.clock.now());
    cached(b._id);
    expect(await store.supersedeOthers(userId, a._id, t.clock.now())).toBe(1);
    expect(cache.get(String(b._id))).toBeUndefined();
    expect(await stored(b._id)).toMatchObject({ state: 'expired', endReason: 'superseded' });
    expect(await store.findOwnState(userId, String(a._id))).toMatchObject({ state: 'active' });
  });

  it('sweep: finds overdue sessions and expires them by the deadline reached; deletes retired ones', async () => {
    const idle = await store.create(fields());
    const absolute = await store.create(fields({ expiresAt: new Date(t.clock.nowMs() + 1000) }));
    t.clock.advance(IDLE_MS);
    const now = t.clock.now();
    const overdue = await store.overdueBatch(now, 10);
    expect(overdue.map((o) => String(o._id)).sort()).toEqual(
      [String(idle._id), String(absolute._id)].sort(),
    );
    expect(await store.expireOverdue([absolute._id], [idle._id], now)).toEqual({
      absolute: 1,
      idle: 1,
    });
    expect((await stored(absolute._id))!.expiredAt).toEqual(absolute.expiresAt);
    expect(await store.retiredBatch(now, 10)).toEqual([]);
    t.clock.advance(30 * 24 * 3600 * 1000);
    const retired = await store.retiredBatch(t.clock.now(), 10);
    expect(retired).toHaveLength(2);
    expect(await store.deleteRetired(retired, t.clock.now())).toBe(2);
    expect(await store.hasAny(userId)).toBe(false);
  });

  it('lists own sessions and exports all, newest first, by effective state', async () => {
    const old = await store.create(fields());
    t.clock.advance(1000);
    const recent = await store.create(fields({ username: 'bob' }));
    await store.endOne(String(recent._id), String(userId));
    const own = await store.listOwn(String(userId), 'active', t.clock.now(), { limit: 50 });
    expect(own.map((d) => String(d._id))).toEqual([String(old._id)]);
    const cursor = store.exportCursor({ state: 'all' }, t.clock.now(), 10);
    const exported = [];
    for await (const doc of cursor) exported.push(doc.username);
    expect(exported).toEqual(['bob', 'alice']);
    const bobs = store.exportCursor({ username: 'bob', state: 'ended' }, t.clock.now(), 10);
    expect((await bobs.next())?.username).toBe('bob');
    await bobs.close();
  });

  it('lists a page without data, refresh token hash or refresh history', async () => {
    const created = await store.create(fields());
    const id = String(created._id);
    const asRead = (await store.readData(id, String(userId)))?.data;
    const big = { big: 'x'.repeat(1000) };
    expect(await store.writeData(id, String(userId), asRead, big)).toBe(true);
    const [listed] = await store.listOwn(String(userId), 'all', t.clock.now(), { limit: 1 });
    expect(String(listed._id)).toBe(String(created._id));
    expect(listed).not.toHaveProperty('data');
    expect(listed).not.toHaveProperty('refreshHash');
    expect(listed).not.toHaveProperty('refreshHistory');
    expect(listed).toHaveProperty('expiresAt');
  });
});
