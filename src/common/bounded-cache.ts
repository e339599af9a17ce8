import { LRUCache } from 'lru-cache';

export interface BoundedCacheOptions {
  /** At most this many entries; the least recently used goes first. */
  max: number;
  /**
   * How long an entry lives from when it was stored, in ms. 0 stores nothing (every `get`
   * misses, `fetch` still shares loads in progress); leave it out for no age limit.
   */
  ttlMs?: number;
  /** The clock entry ages are measured on (default: `performance`); tests pass a manual one. */
  clock?: { nowMs(): number };
}

type Load<V> = () => Promise<V>;

/**
 * The one in-process cache shape: an LRU bounded by count and age (`lru-cache`), with
 * single-flight loads. Every in-process cache on the request path is one of these.
 */
/** Keys and values are never null or undefined: lru-cache uses undefined for "missing". */
type Defined = NonNullable<unknown>;

export class BoundedCache<K extends Defined, V extends Defined> {
  private readonly lru: LRUCache<K, V, Load<V>>;
  private readonly stores: boolean;

  constructor(options: BoundedCacheOptions) {
    this.stores = options.ttlMs !== 0;
    const clock = options.clock;
    const nowMs = clock ? () => clock.nowMs() : () => performance.now();
    this.lru = new LRUCache<K, V, Load<V>>({
      max: options.max,
      // lru-cache keeps an entry while its age is at most `ttl`; ours is gone once its age
      // reaches ttlMs. Measuring in half-milliseconds turns one into the other exactly. (+1:
      // lru-cache reads a start time of 0 as "no TTL", and a manual clock may stand at 0.)
      ...(options.ttlMs ? { ttl: options.ttlMs * 2 - 1 } : {}),
      perf: { now: () => nowMs() * 2 + 1 },
      // Read the clock on every check rather than lru-cache's default of caching it for 1 ms,
      // so a manual clock's jumps are seen at once.
      ttlResolution: 0,
      // A load's own writes may invalidate the key it is loading; its result still counts
      // (an in-flight load is not cancelled by a delete).
      ignoreFetchAbort: true,
      fetchMethod: (_key, _stale, { context }) => context(),
    });
  }

  get(key: K): V | undefined {
    return this.lru.get(key);
  }

  set(key: K, value: V): void {
    if (this.stores) this.lru.set(key, value);
  }

  delete(key: K): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  /** Entries within their TTL (stale ones are dropped first: a linear pass, for diagnostics). */
  get size(): number {
    this.lru.purgeStale();
    return this.lru.size;
  }

  /** Entries within their TTL, most recently used first. */
  *entries(): IterableIterator<[K, V]> {
    yield* this.lru.entries();
  }

  /**
   * The cached value, or `load()`'s result, stored. Concurrent calls for one key share the
   * load in progress (single flight); a load that fails is not remembered, and every caller
   * waiting on it gets the error.
   */
  async fetch(key: K, load: Load<V>): Promise<V> {
    const value = await this.lru.fetch(key, { context: load });
    if (!this.stores) this.lru.delete(key);
    // fetchMethod never resolves undefined (V excludes it), so neither does fetch.
    return value as V;
  }
}
