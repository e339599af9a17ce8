import { Inject, Injectable } from '@nestjs/common';
import { BoundedCache } from '../common/bounded-cache';
import type { AuthContext } from './session-context';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';

/** A load that overlapped a change seen in the database: its result may predate the change. */
class OverlappedChange {
  constructor(readonly value: AuthContext) {}
}

/** Loads retried after overlapping a change before the last one is answered uncached. */
const MAX_OVERLAPPED_LOADS = 3;

/**
 * In-process cache of live sessions, so that the per-request session check costs no database
 * round trip. An entry lives at most `cache.ttlMs`: that bounds how long another instance may
 * keep honouring a session that was ended elsewhere. SessionStore drops an entry with every
 * write that can change it, which makes a change on this instance immediate here; where the
 * database has change streams, SessionChangeWatcher drops entries changed by any instance
 * (`dropChanged`, `dropChangedUser`, `dropAllChanged`).
 */
@Injectable()
export class SessionCache {
  private readonly entries: BoundedCache<string, AuthContext>;
  /**
   * Bumped by every change seen in the database. A load (or a touch) that began before a bump
   * may have read the session before that change was written, so its result is not cached.
   */
  private changes = 0;

  constructor(@Inject(SESSION_SETTINGS) settings: SessionSettings) {
    this.entries = new BoundedCache({
      max: settings.cache.maxEntries,
      ttlMs: settings.cache.ttlMs,
      clock: settings.clock,
    });
  }

  get(sessionId: string): AuthContext | undefined {
    return this.entries.get(sessionId);
  }

  set(sessionId: string, value: AuthContext): void {
    this.entries.set(sessionId, value);
  }

  /** A mark to pass to `setUnlessChanged`, taken before reading what will be cached. */
  get changeMark(): number {
    return this.changes;
  }

  /**
   * Caches `value` unless a change was seen in the database since `mark` (it may be older than
   * that change); whether it was cached.
   */
  setUnlessChanged(sessionId: string, value: AuthContext, mark: number): boolean {
    if (mark !== this.changes) return false;
    this.entries.set(sessionId, value);
    return true;
  }

  /**
   * The cached session, or `load()`'s result, cached. Concurrent misses for one session share
   * the load in progress; a failed load is not remembered. A load that overlapped a change seen
   * in the database is done again (it may have read the session just before the change), and
   * after a few such overlaps its result is answered without being cached.
   */
  async fetch(sessionId: string, load: () => Promise<AuthContext>): Promise<AuthContext> {
    const guarded = async () => {
      const mark = this.changes;
      const value = await load();
      // Throwing keeps the result out of the cache: BoundedCache never remembers a failed load.
      if (mark !== this.changes) throw new OverlappedChange(value);
      return value;
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.entries.fetch(sessionId, guarded);
      } catch (error) {
        if (!(error instanceof OverlappedChange)) throw error;
        if (attempt >= MAX_OVERLAPPED_LOADS) return error.value;
      }
    }
  }

  invalidate(sessionId: string): void {
    this.entries.delete(sessionId);
  }

  invalidateMany(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) this.entries.delete(id);
  }

  /** Drops every cached session of a user (a linear pass: the cache only holds sessions used within the TTL). */
  invalidateUser(userId: string): void {
    const ids: string[] = [];
    for (const [id, value] of this.entries.entries()) {
      if (value.user.id === userId) ids.push(id);
    }
    this.invalidateMany(ids);
  }

  invalidateAll(): void {
    this.entries.clear();
  }

  /** A session changed in the database (by any instance): drop it, and results of loads overlapping the change. */
  dropChanged(sessionId: string): void {
    this.changes++;
    this.invalidate(sessionId);
  }

  /** A user changed in the database: drop their sessions, and results of loads overlapping the change. */
  dropChangedUser(userId: string): void {
    this.changes++;
    this.invalidateUser(userId);
  }

  /** Changes may have been missed (a gap in the change stream): drop everything. */
  dropAllChanged(): void {
    this.changes++;
    this.invalidateAll();
  }

  /** Entries still within their TTL. */
  get size(): number {
    return this.entries.size;
  }
}
