import type { FilterQuery, Types } from 'mongoose';
import type { Session } from '../sessions/schemas/session.schema';

const TERMINAL_STATES = ['expired', 'ended'];

/**
 * The sweep's three conditions at one instant. Each is indexed: `{state, expiresAt}`,
 * `{state, lastSeenAt}` and `{state, expiredAt}` on the sessions collection.
 */
export function sweepFilters(now: Date, idleMs: number, retentionMs: number) {
  const absolute: FilterQuery<Session> = { state: 'active', expiresAt: { $lte: now } };
  const idle: FilterQuery<Session> = {
    state: 'active',
    lastSeenAt: { $lte: new Date(now.getTime() - idleMs) },
  };
  return {
    absolute,
    idle,
    expirable: { $or: [absolute, idle] } as FilterQuery<Session>,
    deletable: {
      state: { $in: TERMINAL_STATES },
      expiredAt: { $lte: new Date(now.getTime() - retentionMs) },
    } as FilterQuery<Session>,
  };
}

/**
 * Splits overdue sessions by the deadline they reached first: a session idle since long before
 * its absolute deadline expired for idleness, even if the sweep only sees it after both passed.
 * A tie counts as absolute (the hard limit).
 */
export function classifyExpiry(
  sessions: { _id: Types.ObjectId; expiresAt: Date; lastSeenAt: Date }[],
  idleMs: number,
): { absolute: Types.ObjectId[]; idle: Types.ObjectId[] } {
  const absolute: Types.ObjectId[] = [];
  const idle: Types.ObjectId[] = [];
  for (const s of sessions) {
    const idleDeadline = new Date(s.lastSeenAt).getTime() + idleMs;
    if (new Date(s.expiresAt).getTime() <= idleDeadline) absolute.push(s._id);
    else idle.push(s._id);
  }
  return { absolute, idle };
}
