import { Inject, Injectable } from '@nestjs/common';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import type { AuthContext } from './session-context';

interface Entry {
  value: AuthContext;
  expiresAtMs: number;
}

/**
 * In-process cache of live sessions, so that the per-request session check costs no database
 * round trip. An entry lives at most SESSION_CACHE_TTL_MS: that bounds how long another
 * instance may keep honouring a session that was ended elsewhere. Whatever ends or changes a
 * session on this instance must call one of the `invalidate*` methods, which makes the change
 * immediate here.
 */
@Injectable()
export class SessionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  get(sessionId: string): AuthContext | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.settings.clock.nowMs()) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return entry.value;
  }

  set(sessionId: string, value: AuthContext): void {
    if (this.settings.cache.ttlMs <= 0) return;
    const now = this.settings.clock.nowMs();
    // Every entry lives the same TTL, so re-inserting at the end keeps the map in expiry order
    // and the expired entries at its front, where each write drops them. Without this, an entry
    // whose session is never used again stayed forever: memory grew with every session seen.
    this.entries.delete(sessionId);
    this.entries.set(sessionId, { value, expiresAtMs: now + this.settings.cache.ttlMs });
    for (const [id, entry] of this.entries) {
      if (entry.expiresAtMs > now) break;
      this.entries.delete(id);
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
    for (const [id, entry] of this.entries) {
      if (entry.value.user.id === userId) this.entries.delete(id);
    }
  }

  invalidateAll(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
