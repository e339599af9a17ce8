import { Types } from 'mongoose';
import { ManualClock } from '../common/clock';
import type { UsersService } from '../users/users.service';
import { SessionCache } from './session-cache';
import { SessionCheckService } from './session-check.service';
import { resolveSessionOptions } from './session-module.options';
import { SessionLean, SessionStore } from './session.store';

const config = {
  idleTimeoutSeconds: 1800,
  absoluteTimeoutSeconds: 7200,
  cacheTtlMs: 5000,
  lastSeenWriteIntervalSeconds: 60,
};

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * SessionCheckService.authenticate on a real store, cache and clock; the database answers only when the
 * test says so, so concurrent misses can be held open and counted.
 */
function setup() {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));
  const settings = resolveSessionOptions({ secrets: 's', ...config, clock });
  const cache = new SessionCache(settings);
  const userId = new Types.ObjectId();
  const sessionId = new Types.ObjectId();
  const doc: SessionLean = {
    _id: sessionId,
    userId,
    username: 'alice',
    groups: [],
    ip: '127.0.0.1',
    userAgent: 'ua',
    label: null,
    state: 'active',
    createdAt: clock.now(),
    lastSeenAt: clock.now(),
    expiresAt: new Date(clock.nowMs() + 7200_000),
    expiredAt: null,
    endReason: null,
    refreshHash: 'hash',
    refreshHistory: [],
    rotatedAt: null,
    data: {},
  } as unknown as SessionLean;
  const reads: Deferred<SessionLean | null>[] = [];
  const model = {
    // SessionStore.findById reads `{ _id, userId }` (userId routes it to one shard).
    findOne: () => ({
      lean: () => {
        const read = deferred<SessionLean | null>();
        reads.push(read);
        return read.promise;
      },
    }),
  };
  const users = {
    findActiveById: async (id: string) => ({ id, username: 'alice', roles: [], groups: [] }),
  };
  const store = new SessionStore(model as never, cache, settings);
  const service = new SessionCheckService(store, users as unknown as UsersService, cache, settings);
  const claims = { sub: String(userId), sid: String(sessionId) } as never;
  return { service, cache, clock, doc, reads, claims };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionCheckService.authenticate (single flight)', () => {
  it('lets concurrent misses for one session share a single read', async () => {
    const { service, doc, reads, claims } = setup();
    const pending = Array.from({ length: 20 }, () => service.authenticate(claims, false));
    await settle();
    expect(reads).toHaveLength(1);
    reads[0].resolve(doc);
    const results = await Promise.all(pending);
    expect(new Set(results.map((r) => r.session.id))).toEqual(new Set([String(doc._id)]));
    expect(results.every((r) => r.session.state === 'active')).toBe(true);
  });

  it('reads again once the shared read has settled and its entry lapsed', async () => {
    const { service, clock, doc, reads, claims } = setup();
    const first = service.authenticate(claims, false);
    await settle();
    reads[0].resolve(doc);
    await first;
    clock.advance(config.cacheTtlMs);
    const second = service.authenticate(claims, false);
    await settle();
    expect(reads).toHaveLength(2);
    reads[1].resolve(doc);
    await expect(second).resolves.toMatchObject({ session: { id: String(doc._id) } });
  });

  it('does not remember a failed read: every waiter gets the error, the next request reads', async () => {
    const { service, cache, doc, reads, claims } = setup();
    const pending = [service.authenticate(claims, false), service.authenticate(claims, false)];
    await settle();
    expect(reads).toHaveLength(1);
    reads[0].reject(new Error('database down'));
    for (const p of pending) await expect(p).rejects.toThrow('database down');
    expect(cache.size).toBe(0);
    const retry = service.authenticate(claims, false);
    await settle();
    expect(reads).toHaveLength(2);
    reads[1].resolve(doc);
    await expect(retry).resolves.toMatchObject({ session: { state: 'active' } });
  });

  it('gives an expired session only to the waiters that allow it', async () => {
    const { service, clock, doc, reads, claims } = setup();
    clock.advance(config.absoluteTimeoutSeconds * 1000 + 1);
    const expired = {
      ...doc,
      state: 'expired',
      endReason: 'absolute_timeout',
      expiredAt: doc.expiresAt,
    };
    const strict = service.authenticate(claims, false);
    const lenient = service.authenticate(claims, true);
    await settle();
    expect(reads).toHaveLength(1);
    reads[0].resolve(expired as SessionLean);
    await expect(strict).rejects.toMatchObject({ response: { code: 'SESSION_EXPIRED' } });
    await expect(lenient).resolves.toMatchObject({
      session: { state: 'expired', endReason: 'absolute_timeout' },
    });
  });
});
