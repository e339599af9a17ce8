import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { conflict, notFound } from '../common/api.exception';
import { Clock } from '../common/clock';
import { REVIVABLE_END_REASONS, SessionLean, SessionStore } from '../sessions';
import { UsersService } from '../users/users.service';
import { ValidationGeneration } from './schemas/validation-generation.schema';

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
 * both across all users. Every write goes through SessionStore, which drops what it changes
 * from this instance's session cache; other instances stop honouring it when their cache
 * entry lapses (SESSION_CACHE_TTL_MS).
 */
@Injectable()
export class AdminSessionsService {
  constructor(
    private readonly sessions: SessionStore,
    private readonly users: UsersService,
    @InjectModel(ValidationGeneration.name)
    private readonly generations: Model<ValidationGeneration>,
    private readonly clock: Clock,
  ) {}

  private async userIdOf(username: string): Promise<Types.ObjectId> {
    const id = await this.users.idOf(username);
    if (!id) throw notFound(`No user named ${JSON.stringify(username)}`);
    return id;
  }

  private async requireOwnSession(userId: Types.ObjectId, sessionId: string) {
    const session = await this.sessions.findOwnState(userId, sessionId);
    if (!session) throw notFound('No such session for this user');
    return session;
  }

  private notRevivable(s: Pick<SessionLean, 'state' | 'endReason' | 'expiresAt'>, now: Date) {
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
    const latest = await this.sessions.newestRevivable(userId, now);
    if (latest) return latest;
    throw (await this.sessions.hasAny(userId))
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
    for (let round = 0; round < MAX_VALIDATE_ROUNDS; round++) {
      const generation = (await this.generations.findById(userId).lean())?.value ?? 0;
      if (!(await this.sessions.revive(userId, sessionId, now))) {
        // Signed out (or the like) between choosing it and now.
        const s = await this.requireOwnSession(userId, String(sessionId));
        throw this.notRevivable(s, now);
      }
      const expired = await this.sessions.supersedeOthers(userId, sessionId, now);
      if (await this.commitGeneration(userId, generation)) {
        // The committed round's count: what an earlier, overtaken round expired may since
        // have been revived by the validation that overtook it.
        return { validated: String(sessionId), expired };
      }
    }
    throw conflict('Other validations of this user keep interfering; try again');
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
    if (target.sessionId) await this.requireOwnSession(userId, target.sessionId);
    return { invalidated: await this.sessions.expireByAdmin(userId, target.sessionId, now) };
  }

  /**
   * For every user holding a live session, the newest stays and the others expire
   * (`superseded`). Users are grouped on the server and handled in bounded batches.
   */
  async validateAll(): Promise<{ users: number; expired: number }> {
    const now = this.clock.now();
    const cursor = this.sessions.newestLivePerUser(now, BATCH_SIZE);
    let users = 0;
    let expired = 0;
    let batch: { _id: Types.ObjectId; keep: Types.ObjectId }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      expired += await this.sessions.supersedeAllBut(batch, now);
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
    }
    return { users, expired };
  }

  /** Expires every live session of every user as `admin`, in bounded batches. */
  async invalidateAll(): Promise<{ invalidated: number }> {
    const now = this.clock.now();
    let invalidated = 0;
    for (;;) {
      const { selected, modified } = await this.sessions.expireBatchByAdmin(now, BATCH_SIZE);
      if (selected === 0) break;
      invalidated += modified;
    }
    return { invalidated };
  }
}
