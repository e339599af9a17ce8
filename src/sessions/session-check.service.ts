import { Inject, Injectable } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { SessionCache } from './session-cache';
import { type AuthContext, type SessionContext, toSessionContext } from './session-context';
import { notLive, sessionGone, tokenInvalid } from './session-errors';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import { effectiveState } from './session-state';
import { SessionStore } from './session.store';
import type { AccessClaims } from './token.service';

/**
 * The per-request check: the live session behind a verified access token, from the cache when
 * possible. The idle and absolute deadlines are checked against the clock on every call,
 * cached or not; lastSeenAt is written only when it is stale (see staleMs). The token must be
 * of the session's current generation, and the session's user must exist and not be disabled
 * (read with the session, so cached as long as it: SESSION_CACHE_TTL_MS).
 */
@Injectable()
export class SessionCheckService {
  constructor(
    private readonly store: SessionStore,
    private readonly users: UsersService,
    private readonly cache: SessionCache,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  async authenticate(claims: AccessClaims, allowExpired: boolean): Promise<AuthContext> {
    const now = this.settings.clock.now();
    const cached = this.cache.get(claims.sid);
    if (cached && cached.user.id === claims.sub) {
      // A generation the cached copy does not know may be newer than it (a reauth on another
      // instance): what is stored decides, so the entry is dropped and read again below.
      if (!sameGeneration(claims, cached)) return this.reload(claims, now, allowExpired);
      const eff = effectiveState(cached.session, now, this.settings.idleTimeoutSeconds);
      if (eff.state === 'active') {
        // The common case, a session in steady use: nothing to write, nothing to await.
        if (!this.isStale(cached.session, now)) return cached;
        const touched = await this.touch(cached, now);
        if (touched) return touched;
      }
      this.cache.invalidate(claims.sid);
    }
    return this.loadChecked(claims, now, allowExpired);
  }

  private reload(claims: AccessClaims, now: Date, allowExpired: boolean): Promise<AuthContext> {
    this.cache.invalidate(claims.sid);
    return this.loadChecked(claims, now, allowExpired);
  }

  private async loadChecked(
    claims: AccessClaims,
    now: Date,
    allowExpired: boolean,
  ): Promise<AuthContext> {
    // Single flight: concurrent misses for one session share one load (and one lastSeenAt
    // write) instead of each reading it when its cache entry lapses under load.
    const context = await this.cache.fetch(claims.sid, () => this.load(claims, now));
    if (context.user.id !== claims.sub) throw sessionGone();
    if (!sameGeneration(claims, context)) throw tokenInvalid();
    return this.admit(context, allowExpired);
  }

  /** A loaded session may be expired; only routes that allow that get it. */
  private admit(context: AuthContext, allowExpired: boolean): AuthContext {
    if (context.session.state !== 'active' && !allowExpired) {
      throw notLive(context.session, false);
    }
    return context;
  }

  /** The session as stored now, lastSeenAt brought up to date if it was stale. */
  private async load(claims: AccessClaims, now: Date): Promise<AuthContext> {
    const context = await this.read(claims, now);
    if (context.session.state !== 'active' || !this.isStale(context.session, now)) return context;
    // A touch that loses changed the session elsewhere (ended, expired, touched by another
    // instance): what is stored now is the answer.
    return (await this.touch(context, now)) ?? this.read(claims, now);
  }

  /** Reads the session (live or expired, never ended) and its user. */
  private async read(claims: AccessClaims, now: Date): Promise<AuthContext> {
    const found = await this.store.findById(claims.sid, claims.sub);
    if (!found || String(found.userId) !== claims.sub) throw sessionGone();
    const { doc, eff } = await this.store.settle(found, now);
    if (eff.state === 'ended') throw notLive(eff, false);
    const user = await this.users.findActiveById(claims.sub);
    if (!user) throw sessionGone();
    return { user, session: toSessionContext(doc, eff) };
  }

  /**
   * lastSeenAt is written at most once per `lastSeenWriteIntervalSeconds`, and at least twice
   * per idle timeout: with a short idle timeout a session in steady use must never look idle
   * for want of a write.
   */
  private staleMs(): number {
    return Math.min(
      this.settings.lastSeenWriteIntervalSeconds * 1000,
      (this.settings.idleTimeoutSeconds * 1000) / 2,
    );
  }

  private isStale(session: SessionContext, now: Date): boolean {
    return now.getTime() - session.lastSeenAt.getTime() >= this.staleMs();
  }

  /** Writes lastSeenAt = now and caches the result; null when the write lost (see the store). */
  private async touch(context: AuthContext, now: Date): Promise<AuthContext | null> {
    const staleBefore = new Date(now.getTime() - this.staleMs());
    // Taken before the write: a change published while the touch is in flight may be newer
    // than what the touch saw, so the touched context is then answered but not cached.
    const mark = this.cache.changeMark;
    if (!(await this.store.touch(context.session.id, context.user.id, now, staleBefore))) {
      return null;
    }
    const touched: AuthContext = {
      user: context.user,
      session: { ...context.session, lastSeenAt: now },
    };
    this.cache.setUnlessChanged(context.session.id, touched, mark);
    return touched;
  }
}

/**
 * A token issued before the session's latest reauth or password change is refused like any
 * other invalid token (contract: TOKEN_INVALID); the client refreshes or signs in again.
 */
function sameGeneration(claims: AccessClaims, context: AuthContext): boolean {
  return (claims.gen ?? null) === context.session.generation;
}
