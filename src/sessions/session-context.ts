import type { Request } from 'express';
import type { SessionState } from './schemas/session.schema';

/** The authenticated caller, as guards and `@CurrentUser()` see it. */
export interface AuthUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

/** The session behind the request, as `@CurrentSession()` sees it. */
export interface SessionContext {
  id: string;
  userId: string;
  groups: string[];
  state: SessionState;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
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
