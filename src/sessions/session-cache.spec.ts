import { ManualClock } from '../common/clock';
import { SessionCache } from './session-cache';
import { resolveSessionOptions } from './session-module.options';
import type { AuthContext } from './session-context';

const TTL_MS = 1000;

function context(id: string): AuthContext {
  return { user: { id: `user-${id}` }, session: { id } } as unknown as AuthContext;
}

function cache(clock: ManualClock): SessionCache {
  return new SessionCache(resolveSessionOptions({ secrets: 's', cache: { ttlMs: TTL_MS }, clock }));
}

describe('SessionCache', () => {
  it('answers an entry until its TTL has passed', () => {
    const clock = new ManualClock(0);
    const c = cache(clock);
    c.set('a', context('a'));
    clock.advance(TTL_MS - 1);
    expect(c.get('a')).toEqual(context('a'));
    clock.advance(1);
    expect(c.get('a')).toBeUndefined();
  });

  it('drops entries that expired without being read again when something new is cached', () => {
    const clock = new ManualClock(0);
    const c = cache(clock);
    for (let i = 0; i < 100; i++) c.set(`old-${i}`, context(`old-${i}`));
    clock.advance(TTL_MS);
    c.set('new', context('new'));
    expect(c.size).toBe(1);
    expect(c.get('new')).toEqual(context('new'));
  });

  it('keeps a re-cached entry for a full TTL from its latest write', () => {
    const clock = new ManualClock(0);
    const c = cache(clock);
    c.set('a', context('a'));
    c.set('b', context('b'));
    clock.advance(TTL_MS / 2);
    c.set('a', context('a'));
    clock.advance(TTL_MS / 2);
    c.set('c', context('c'));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toEqual(context('a'));
    expect(c.size).toBe(2);
  });

  it('caches nothing when the TTL is 0', () => {
    const c = new SessionCache(
      resolveSessionOptions({ secrets: 's', cache: { ttlMs: 0 }, clock: new ManualClock(0) }),
    );
    c.set('a', context('a'));
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
