import type { Request } from 'express';
import type { AuthUser } from '../users/user.view';
import type { EndReason, SessionState } from './schemas/session.schema';
import type { EffectiveState } from './session-state';
import type { SessionRecord } from './session.view';
import type { SessionLean } from './session.store';

export type { AuthUser };

/**
 * The session behind the request, as `@CurrentSession()` sees it. It carries every field of
 * the contract's Session view (never token hashes or data), so that `GET /sessions/current`
 * answers from the guard's cache without reading the database. `state`, `endReason` and
 * `expiredAt` are the effective ones as of when the guard checked the session.
 */
export interface SessionContext {
  id: string;
  userId: string;
  groups: string[];
  state: SessionState;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  label: string | null;
  expiredAt: Date | null;
  endReason: EndReason | null;
  /**
   * The session's generation as of the check: access tokens must carry it (`gen`). Not part
   * of the Session view.
   */
  generation: string | null;
}

/**
 * What `SessionGuard` attaches to the request. It lives under `auth` rather than `session`
 * so it never collides with express-session's `req.session` in apps that also use that.
 */
export interface AuthContext {
  user: AuthUser;
  session: SessionContext;
}

export type AuthenticatedRequest = Request & { auth: AuthContext };

/** The request's view of a session document; `eff` is its effective state as of the check. */
export function toSessionContext(
  doc: SessionLean,
  eff: Pick<EffectiveState, 'state' | 'endReason' | 'expiredAt'>,
): SessionContext {
  return {
    id: String(doc._id),
    userId: String(doc.userId),
    groups: [...doc.groups],
    state: eff.state,
    createdAt: doc.createdAt,
    lastSeenAt: doc.lastSeenAt,
    expiresAt: doc.expiresAt,
    ip: doc.ip ?? null,
    userAgent: doc.userAgent ?? null,
    label: doc.label ?? null,
    expiredAt: eff.expiredAt ?? null,
    endReason: eff.endReason ?? null,
    generation: doc.generation ?? null,
  };
}

/** A SessionContext in the shape the one view mapper (toSessionView) reads. */
export function sessionRecordOf(session: SessionContext): SessionRecord {
  return { ...session, _id: session.id };
}
