import { Inject, Injectable } from '@nestjs/common';
import { BoundedCache } from '../common/bounded-cache';
import type { AuthContext } from './session-context';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';

/**
 * In-process cache of live sessions, so that the per-request session check costs no database
 * round trip. An entry lives at most `cache.ttlMs`: that bounds how long another instance may
 * keep honouring a session that was ended elsewhere. SessionStore drops an entry with every
 * write that can change it, which makes a change on this instance immediate here.
 */
@Injectable()
export class SessionCache {
  private readonly entries: BoundedCache<string, AuthContext>;

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

  /**
   * The cached session, or `load()`'s result, cached. Concurrent misses for one session share
   * the load in progress; a failed load is not remembered.
   */
  fetch(sessionId: string, load: () => Promise<AuthContext>): Promise<AuthContext> {
    return this.entries.fetch(sessionId, load);
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

  /** Entries still within their TTL. */
  get size(): number {
    return this.entries.size;
  }
}
