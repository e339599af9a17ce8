import type { Request } from 'express';
import type { EndReason, SessionState } from './schemas/session.schema';

/** The authenticated caller, as guards and `@CurrentUser()` see it. */
export interface AuthUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

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
