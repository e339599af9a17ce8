import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';

export interface StoredSessionSeed {
  state?: 'active' | 'expired' | 'ended';
  lastSeenAt: Date;
  expiresAt: Date;
  expiredAt?: Date | null;
  endReason?: string | null;
  userId?: Types.ObjectId;
  username?: string;
}

/**
 * A session document as the sessions service stores it, for tests and benchmarks that need
 * many sessions in a given state without logging in that many times.
 */
export function storedSession(seed: StoredSessionSeed) {
  return {
    _id: new Types.ObjectId(),
    userId: seed.userId ?? new Types.ObjectId(),
    username: seed.username ?? 'seeded-user',
    groups: [] as string[],
    ip: null,
    userAgent: null,
    label: null,
    state: seed.state ?? 'active',
    lastSeenAt: seed.lastSeenAt,
    expiresAt: seed.expiresAt,
    expiredAt: seed.expiredAt ?? null,
    endReason: seed.endReason ?? null,
    refreshHash: randomBytes(32).toString('hex'),
    refreshHistory: [] as string[],
    rotatedAt: null,
    data: {},
    createdAt: new Date(Math.min(seed.lastSeenAt.getTime(), seed.expiresAt.getTime())),
  };
}
