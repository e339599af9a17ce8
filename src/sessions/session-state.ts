import type { QueryFilter } from 'mongoose';
import type { EndReason, Session, SessionState } from './schemas/session.schema';

/** The fields that decide whether a session is still live. */
export type SessionTimes = Pick<
  Session,
  'state' | 'endReason' | 'expiredAt' | 'lastSeenAt' | 'expiresAt'
>;

export interface EffectiveState {
  state: SessionState;
  endReason: EndReason | null;
  expiredAt: Date | null;
  /** True when the stored document still says `active` but a deadline has passed. */
  needsWrite: boolean;
}

/**
 * The one answer to "is this session live, and if not, why": a stored `active` session whose
 * absolute deadline (`expiresAt`) or idle deadline (`lastSeenAt + idle`) is at or before `now`
 * is expired, as of whichever deadline came first (absolute wins a tie). Every reader (guard,
 * refresh, listings, the sweep) uses this or the filters below, so they never disagree.
 */
export function effectiveState(
  s: SessionTimes,
  now: Date,
  idleTimeoutSeconds: number,
): EffectiveState {
  if (s.state !== 'active') {
    return { state: s.state, endReason: s.endReason, expiredAt: s.expiredAt, needsWrite: false };
  }
  const absolute = s.expiresAt.getTime();
  const idle = s.lastSeenAt.getTime() + idleTimeoutSeconds * 1000;
  const nowMs = now.getTime();
  if (absolute <= nowMs && absolute <= idle) {
    return expired('absolute_timeout', absolute);
  }
  if (idle <= nowMs) return expired('idle_timeout', idle);
  if (absolute <= nowMs) return expired('absolute_timeout', absolute);
  return { state: 'active', endReason: null, expiredAt: null, needsWrite: false };
}

function expired(reason: EndReason, atMs: number): EffectiveState {
  return { state: 'expired', endReason: reason, expiredAt: new Date(atMs), needsWrite: true };
}

const idleCutoff = (now: Date, idleTimeoutSeconds: number) =>
  new Date(now.getTime() - idleTimeoutSeconds * 1000);

/** Stored `active` and within both deadlines: the sessions that are really live. */
export function liveSessionFilter(now: Date, idleTimeoutSeconds: number): QueryFilter<Session> {
  return {
    state: 'active',
    expiresAt: { $gt: now },
    lastSeenAt: { $gt: idleCutoff(now, idleTimeoutSeconds) },
  };
}

/** Stored `active` but past the absolute deadline (to be written down as `absolute_timeout`). */
export function absoluteTimeoutFilter(now: Date): QueryFilter<Session> {
  return { state: 'active', expiresAt: { $lte: now } };
}

/** Stored `active` but unused for the idle timeout (to be written down as `idle_timeout`). */
export function idleTimeoutFilter(now: Date, idleTimeoutSeconds: number): QueryFilter<Session> {
  return { state: 'active', lastSeenAt: { $lte: idleCutoff(now, idleTimeoutSeconds) } };
}

/** Stored `active` but past either deadline: expired in effect, not yet written down. */
export function pastDeadlineFilter(now: Date, idleTimeoutSeconds: number): QueryFilter<Session> {
  return {
    state: 'active',
    $or: [
      { expiresAt: { $lte: now } },
      { lastSeenAt: { $lte: idleCutoff(now, idleTimeoutSeconds) } },
    ],
  };
}

/** Sessions whose effective state is `state` (what `GET /sessions?state=` lists). */
export function effectiveStateFilter(
  state: SessionState | 'all',
  now: Date,
  idleTimeoutSeconds: number,
): QueryFilter<Session> {
  switch (state) {
    case 'active':
      return liveSessionFilter(now, idleTimeoutSeconds);
    case 'expired':
      return { $or: [{ state: 'expired' }, pastDeadlineFilter(now, idleTimeoutSeconds)] };
    case 'ended':
      return { state: 'ended' };
    case 'all':
      return {};
  }
}
