import { BoundedCache } from './bounded-cache';
import { ManualClock } from './clock';

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('BoundedCache', () => {
  it('answers an entry until its age reaches ttlMs, on the clock it is given', () => {
    const clock = new ManualClock(0);
    const cache = new BoundedCache<string, string>({ max: 10, ttlMs: 1000, clock });
    cache.set('a', 'A');
    clock.advance(999);
    expect(cache.get('a')).toBe('A');
    clock.advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never holds more than max entries: the least recently used goes', () => {
    const cache = new BoundedCache<string, number>({ max: 3, ttlMs: 60_000 });
    for (const k of ['a', 'b', 'c']) cache.set(k, 1);
    cache.get('a');
    cache.set('d', 1);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([...cache.entries()].map(([k]) => k).sort()).toEqual(['a', 'c', 'd']);
  });

  it('without ttlMs keeps entries by count only; with ttlMs 0 stores nothing', () => {
    const clock = new ManualClock(0);
    const forever = new BoundedCache<string, string>({ max: 2, clock });
    forever.set('a', 'A');
    clock.advance(365 * 24 * 3600 * 1000);
    expect(forever.get('a')).toBe('A');
    const off = new BoundedCache<string, string>({ max: 2, ttlMs: 0, clock });
    off.set('a', 'A');
    expect(off.get('a')).toBeUndefined();
    expect(off.size).toBe(0);
  });

  it('fetch: concurrent calls share one load, whose result is then cached', async () => {
    const cache = new BoundedCache<string, string>({
      max: 10,
      ttlMs: 1000,
      clock: new ManualClock(0),
    });
    const load = deferred<string>();
    let loads = 0;
    const loader = () => {
      loads += 1;
      return load.promise;
    };
    const waiting = [cache.fetch('k', loader), cache.fetch('k', loader), cache.fetch('k', loader)];
    load.resolve('V');
    expect(await Promise.all(waiting)).toEqual(['V', 'V', 'V']);
    expect(loads).toBe(1);
    expect(cache.get('k')).toBe('V');
    expect(await cache.fetch('k', loader)).toBe('V');
    expect(loads).toBe(1);
  });

  it('fetch: a failed load reaches every waiter and is not remembered', async () => {
    const cache = new BoundedCache<string, string>({ max: 10, ttlMs: 1000 });
    const failing = deferred<string>();
    const waiting = [
      cache.fetch('k', () => failing.promise),
      cache.fetch('k', () => failing.promise),
    ];
    failing.reject(new Error('down'));
    for (const w of waiting) await expect(w).rejects.toThrow('down');
    expect(cache.size).toBe(0);
    await expect(cache.fetch('k', async () => 'ok')).resolves.toBe('ok');
  });

  it('fetch: a delete while the load runs does not lose its result; ttlMs 0 still shares loads', async () => {
    const cache = new BoundedCache<string, string>({ max: 10, ttlMs: 1000 });
    const slow = deferred<string>();
    const pending = cache.fetch('k', () => slow.promise);
    cache.delete('k');
    slow.resolve('V');
    await expect(pending).resolves.toBe('V');

    const off = new BoundedCache<string, string>({ max: 10, ttlMs: 0 });
    const shared = deferred<string>();
    let loads = 0;
    const loader = () => {
      loads += 1;
      return shared.promise;
    };
    const both = [off.fetch('k', loader), off.fetch('k', loader)];
    shared.resolve('V');
    expect(await Promise.all(both)).toEqual(['V', 'V']);
    expect(loads).toBe(1);
    expect(off.get('k')).toBeUndefined();
  });
});
