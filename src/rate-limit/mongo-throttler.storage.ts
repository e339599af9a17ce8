import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Model } from 'mongoose';
import { Clock } from '../common/clock';
import { RateLimitHit } from './schemas/rate-limit-hit.schema';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const DUPLICATE_KEY = 11000;
/** Lost races are retried this often; each loss means another instance moved the counter on. */
const MAX_ATTEMPTS = 5;

const notBlocked = (now: Date) => ({
  $or: [{ blockedUntil: null }, { blockedUntil: { $lte: now } }],
});

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * @nestjs/throttler storage in MongoDB, so that every instance on one database counts against
 * the same limits (with the default in-memory storage, N instances allow N times the attempts).
 *
 * Fixed windows, like the in-memory storage: the first hit opens a window of `ttl`; each hit
 * in it is one atomic `$inc`; the hit that passes `limit` blocks the key for `blockDuration`,
 * during which attempts are refused and not counted. Every step is a single conditional write
 * (no read-then-write), and the window's opening is an upsert on `_id`, so concurrent hits on
 * any number of instances are each counted exactly once.
 */
@Injectable()
export class MongoThrottlerStorage implements ThrottlerStorage {
  constructor(
    @InjectModel(RateLimitHit.name) private readonly hits: Model<RateLimitHit>,
    private readonly clock: Clock,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const _id = `${throttlerName}:${key}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const nowMs = now.getTime();
      // A running window: count the hit.
      let doc = await this.hits
        .findOneAndUpdate(
          { _id, windowEndsAt: { $gt: now }, ...notBlocked(now) },
          { $inc: { hits: 1 } },
          { returnDocument: 'after' },
        )
        .lean();
      if (!doc) {
        // No window, or a finished one: open a new one with this hit. If the document exists
        // and is blocked or another instance just opened the window, the upsert's insert
        // collides on _id and the loop looks again.
        const windowEndsAt = new Date(nowMs + ttl);
        try {
          doc = await this.hits
            .findOneAndUpdate(
              { _id, windowEndsAt: { $lte: now }, ...notBlocked(now) },
              { $set: { hits: 1, windowEndsAt, blockedUntil: null, expiresAt: windowEndsAt } },
              { returnDocument: 'after', upsert: true },
            )
            .lean();
        } catch (err) {
          if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
        }
      }
      if (!doc) {
        const current = await this.hits.findById(_id).lean();
        if (current?.blockedUntil && current.blockedUntil.getTime() > nowMs) {
          return this.record(current, nowMs);
        }
        continue;
      }
      if (doc.hits > limit) {
        const blockedUntil = new Date(nowMs + blockDuration);
        const expiresAt = new Date(Math.max(doc.windowEndsAt.getTime(), blockedUntil.getTime()));
        doc =
          (await this.hits
            .findOneAndUpdate(
              { _id, ...notBlocked(now) },
              { $set: { blockedUntil, expiresAt } },
              { returnDocument: 'after' },
            )
            .lean()) ?? (await this.hits.findById(_id).lean());
        if (!doc) continue;
      }
      return this.record(doc, nowMs);
    }
    throw new Error(`rate limit counter ${_id}: too much contention`);
  }

  private record(doc: RateLimitHit, nowMs: number): ThrottlerStorageRecord {
    const blockedMs = doc.blockedUntil ? doc.blockedUntil.getTime() - nowMs : 0;
    return {
      totalHits: doc.hits,
      timeToExpire: seconds(doc.windowEndsAt.getTime() - nowMs),
      isBlocked: blockedMs > 0,
      timeToBlockExpire: seconds(blockedMs),
    };
  }
}
