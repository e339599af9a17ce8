import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { QueryFilter, Model, Types } from 'mongoose';
import { SESSION_SETTINGS, type SessionSettings } from '../sessions';
import { conflict, notFound } from '../common/api.exception';
import { Clock } from '../common/clock';
import { EndReason, Session } from '../sessions/schemas/session.schema';
import { SessionCache } from '../sessions/session-cache';
import { liveSessionFilter } from '../sessions/session-state';
import { User } from '../users/schemas/user.schema';
import { ValidationGeneration } from './schemas/validation-generation.schema';

/** Reasons an expiry may be undone by an admin: none of them is the user's or security's choice. */
const REVIVABLE_END_REASONS: (EndReason | null)[] = [
  null,
  'admin',
  'superseded',
  'idle_timeout',
  'evicted',
];

const DUPLICATE_KEY = 11000;
/** Validations of one user that keep colliding give up after this many rounds (409, retry). */
const MAX_VALIDATE_ROUNDS = 20;
const BATCH_SIZE = 1000;

export interface SessionTarget {
  username: string;
  sessionId?: string;
}

/**
 * The admin's session controls: validate (keep one session, expire the rest), invalidate, and
 * both across all users. Every change is dropped from this instance's session cache at once;
 * other instances stop honouring it when their cache entry lapses (SESSION_CACHE_TTL_MS).
 */
@Injectable()
export class AdminSessionsService {
  constructor(
    @InjectModel(Session.name) private readonly sessions: Model<Session>,
    @InjectModel(User.name) private readonly users: Model<User>,
    @InjectModel(ValidationGeneration.name)
    private readonly generations: Model<ValidationGeneration>,
    @Inject(SESSION_SETTINGS) private readonly config: SessionSettings,
    private readonly cache: SessionCache,
    private readonly clock: Clock,
  ) {}

  /** Stored active and within both deadlines: only these count as active sessions here. */
  private liveFilter(now: Date): QueryFilter<Session> {
    return liveSessionFilter(now, this.config.idleTimeoutSeconds);
  }

  /** Sessions an admin may make active again: not signed out, not revoked, not past expiresAt. */
  private revivableFilter(now: Date): QueryFilter<Session> {
    return {
      state: { $in: ['active', 'expired'] },
      endReason: { $in: REVIVABLE_END_REASONS },
      expiresAt: { $gt: now },
    };
  }

  private async userIdOf(username: string): Promise<Types.ObjectId> {
    const user = await this.users.findOne({ username }, { _id: 1 }).lean();
    if (!user) throw notFound(`No user named ${JSON.stringify(username)}`);
    return user._id;
  }

  private async requireOwnSession(userId: Types.ObjectId, sessionId: string) {
    const session = await this.sessions
      .findOne({ _id: sessionId, userId }, { state: 1, endReason: 1, expiresAt: 1 })
      .lean();
    if (!session) throw notFound('No such session for this user');
    return session;
  }

  private notRevivable(s: Pick<Session, 'state' | 'endReason' | 'expiresAt'>, now: Date) {
    if (s.state === 'ended' || s.endReason === 'logout') {
      return conflict('The session was signed out and cannot be validated');
    }
    if (s.expiresAt <= now) {
      return conflict('The session is past its absolute expiry and cannot be validated');
    }
    return conflict(`The session was ended (${s.endReason}) and cannot be validated`);
  }

  /** The named session, or the user's newest revivable one. */
  private async chooseTarget(userId: Types.ObjectId, sessionId: string | undefined, now: Date) {
    if (sessionId) {
      const s = await this.requireOwnSession(userId, sessionId);
      const revivable =
        s.state !== 'ended' &&
        REVIVABLE_END_REASONS.includes(s.endReason ?? null) &&
        s.expiresAt > now;
      if (!revivable) throw this.notRevivable(s, now);
      return new Types.ObjectId(sessionId);
    }
    const latest = await this.sessions
      .findOne({ userId, ...this.revivableFilter(now) }, { _id: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .lean();
    if (latest) return latest._id;
    const any = await this.sessions.exists({ userId });
    throw any
      ? conflict('None of this user’s sessions can be validated (signed out or past expiry)')
      : notFound('This user has no sessions');
  }

  /**
   * Makes one session of a user active (reviving it if an admin, supersession, idle timeout or
   * eviction expired it) and expires every other live session of that user as `superseded`.
   *
   * Race safety: each round reads the user's generation, revives the target, expires the
   * others, then commits by bumping the generation only if it is unchanged. Two overlapping
   * validations can undo each other's writes, but only one of them commits; the other sees the
   * bumped generation and redoes its whole round after, so the last committed round's outcome
   * (exactly one active session) is what remains.
   */
  async validate(target: SessionTarget): Promise<{ validated: string; expired: number }> {
    const userId = await this.userIdOf(target.username);
    const now = this.clock.now();
    const sessionId = await this.chooseTarget(userId, target.sessionId, now);
    try {
      for (let round = 0; round < MAX_VALIDATE_ROUNDS; round++) {
        const generation = (await this.generations.findById(userId).lean())?.value ?? 0;
        const revived = await this.sessions.updateOne(
          { _id: sessionId, userId, ...this.revivableFilter(now) },
          { $set: { state: 'active', expiredAt: null, endReason: null, lastSeenAt: now } },
        );
        if (revived.matchedCount === 0) {
          // Signed out (or the like) between choosing it and now.
          const s = await this.requireOwnSession(userId, String(sessionId));
          throw this.notRevivable(s, now);
        }
        const others = await this.sessions.updateMany(
          { userId, _id: { $ne: sessionId }, ...this.liveFilter(now) },
          { $set: { state: 'expired', expiredAt: now, endReason: 'superseded' } },
        );
        if (await this.commitGeneration(userId, generation)) {
          // The committed round's count: what an earlier, overtaken round expired may since
          // have been revived by the validation that overtook it.
          return { validated: String(sessionId), expired: others.modifiedCount };
        }
      }
      throw conflict('Other validations of this user keep interfering; try again');
    } finally {
      this.cache.invalidateUser(String(userId));
    }
  }

  private async commitGeneration(userId: Types.ObjectId, seen: number): Promise<boolean> {
    try {
      const res = await this.generations.updateOne(
        { _id: userId, value: seen },
        { $inc: { value: 1 } },
        // The first validation of a user creates the counter; a concurrent first one then
        // collides on _id and counts as having lost the race.
        { upsert: seen === 0 },
      );
      return res.modifiedCount + res.upsertedCount === 1;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  /** Expires one live session of the user, or all of them, as `admin` (undone by validate). */
  async invalidate(target: SessionTarget): Promise<{ invalidated: number }> {
    const userId = await this.userIdOf(target.username);
    const now = this.clock.now();
    const filter: QueryFilter<Session> = { userId, ...this.liveFilter(now) };
    if (target.sessionId) {
      await this.requireOwnSession(userId, target.sessionId);
      filter._id = new Types.ObjectId(target.sessionId);
    }
    const res = await this.sessions.updateMany(filter, {
      $set: { state: 'expired', expiredAt: now, endReason: 'admin' },
    });
    if (target.sessionId) this.cache.invalidate(target.sessionId);
    else this.cache.invalidateUser(String(userId));
    return { invalidated: res.modifiedCount };
  }

  /**
   * For every user holding a live session, the newest stays and the others expire
   * (`superseded`). Users are grouped on the server and handled in bounded batches.
   */
  async validateAll(): Promise<{ users: number; expired: number }> {
    const now = this.clock.now();
    // Sessions created while this runs are newer than every "keep" and must not be expired.
    const live = { ...this.liveFilter(now), createdAt: { $lte: now } };
    const cursor = this.sessions
      .aggregate<{ _id: Types.ObjectId; keep: Types.ObjectId }>([
        { $match: live },
        { $sort: { createdAt: -1, _id: -1 } },
        { $group: { _id: '$userId', keep: { $first: '$_id' } } },
      ])
      .cursor({ batchSize: BATCH_SIZE });
    let users = 0;
    let expired = 0;
    let batch: { _id: Types.ObjectId; keep: Types.ObjectId }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const res = await this.sessions.updateMany(
        {
          ...live,
          userId: { $in: batch.map((g) => g._id) },
          _id: { $nin: batch.map((g) => g.keep) },
        },
        { $set: { state: 'expired', expiredAt: now, endReason: 'superseded' } },
      );
      expired += res.modifiedCount;
      batch = [];
    };
    try {
      for await (const group of cursor) {
        users += 1;
        batch.push(group);
        if (batch.length >= BATCH_SIZE) await flush();
      }
      await flush();
    } finally {
      await cursor.close();
      this.cache.invalidateAll();
    }
    return { users, expired };
  }

  /** Expires every live session of every user as `admin`, in bounded batches. */
  async invalidateAll(): Promise<{ invalidated: number }> {
    const now = this.clock.now();
    // Sessions created while this runs come after the invalidation and stay. Without this bound
    // a steady stream of logins gives every round something new, and the loop never ends.
    const live = { ...this.liveFilter(now), createdAt: { $lte: now } };
    let invalidated = 0;
    try {
      for (;;) {
        const ids = (await this.sessions.find(live, { _id: 1 }).limit(BATCH_SIZE).lean()).map(
          (s) => s._id,
        );
        if (ids.length === 0) break;
        const res = await this.sessions.updateMany(
          { _id: { $in: ids }, ...live },
          { $set: { state: 'expired', expiredAt: now, endReason: 'admin' } },
        );
        invalidated += res.modifiedCount;
      }
    } finally {
      this.cache.invalidateAll();
    }
    return { invalidated };
  }
}
