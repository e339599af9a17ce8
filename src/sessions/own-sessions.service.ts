import { Inject, Injectable } from '@nestjs/common';
import { notFound } from '../common/api.exception';
import type { SessionState } from './schemas/session.schema';
import { type SessionContext, sessionRecordOf } from './session-context';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import { SessionRecord, SessionView, toSessionView } from './session.view';
import { SessionStore } from './session.store';

/** What a signed-in user may do with their own sessions: list, view, label, sign out. */
@Injectable()
export class OwnSessionsService {
  constructor(
    private readonly store: SessionStore,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  /** The contract's Session object with the effective state as of now. */
  view(doc: SessionRecord, currentSessionId?: string | null): SessionView {
    return toSessionView(doc, currentSessionId, {
      now: this.settings.clock.now(),
      idleTimeoutSeconds: this.settings.idleTimeoutSeconds,
    });
  }

  /** One page of the user's sessions, newest first (`before`: the last id of the previous page). */
  async list(
    userId: string,
    state: SessionState | 'all',
    currentSessionId: string,
    page: { limit: number; before?: string },
  ): Promise<SessionView[]> {
    const docs = await this.store.listOwn(userId, state, this.settings.clock.now(), page);
    return docs.map((d) => this.view(d, currentSessionId));
  }

  /**
   * The caller's current session, from what the guard just produced (its cache on a hit): no
   * database read. Every change to a viewable field on this instance drops or replaces the
   * cache entry, and lastSeenAt lags by at most the lazy-write interval, as it does stored.
   */
  viewCurrent(session: SessionContext): SessionView {
    return this.view(sessionRecordOf(session), session.id);
  }

  /** One of the caller's sessions; the current one comes from the request like viewCurrent. */
  async viewOne(userId: string, sessionId: string, current: SessionContext): Promise<SessionView> {
    if (sessionId === current.id) return this.viewCurrent(current);
    const doc = await this.store.findOwn(userId, sessionId);
    if (!doc) throw notFound('No such session');
    return this.view(doc, current.id);
  }

  async label(
    userId: string,
    sessionId: string,
    label: string | null,
    currentSessionId: string,
  ): Promise<SessionView> {
    const doc = await this.store.setLabel(userId, sessionId, label);
    if (!doc) throw notFound('No such session');
    return this.view(doc, currentSessionId);
  }

  /** Signs the current session out (logout): ended, `endReason: logout`, also when it had expired. */
  async logout(userId: string, sessionId: string): Promise<void> {
    await this.store.endOne(sessionId, userId);
  }

  /** Ends one of the caller's sessions, also an expired one; 404 when it is not theirs. */
  async end(userId: string, sessionId: string): Promise<void> {
    if (await this.store.endOne(sessionId, userId)) return;
    if (!(await this.store.existsOwn(userId, sessionId))) throw notFound('No such session');
  }

  /** Ends every other session of the caller that has not ended (active or expired); how many. */
  endOthers(userId: string, currentSessionId: string): Promise<number> {
    return this.store.endOthers(userId, currentSessionId);
  }
}
