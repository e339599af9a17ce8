import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { QueryFilter, Model, Types } from 'mongoose';
import { EndReason, REFRESH_HISTORY_LENGTH, Session, SessionState } from './schemas/session.schema';
import { SessionEvents } from './events/session-events';
import { SessionCache } from './session-cache';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import {
  absoluteTimeoutFilter,
  EffectiveState,
  effectiveState,
  effectiveStateFilter,
  idleTimeoutFilter,
  liveSessionFilter,
  pastDeadlineFilter,
} from './session-state';

/** A session as read with `.lean()`. */
export type SessionLean = Session & { _id: Types.ObjectId };

/** The fields a new session is created with; the rest are the schema's defaults. */
export type NewSession = Pick<
  Session,
  | 'userId'
  | 'username'
  | 'groups'
  | 'ip'
  | 'lastSeenIp'
  | 'userAgent'
  | 'device'
  | 'label'
  | 'createdAt'
  | 'lastSeenAt'
  | 'authenticatedAt'
  | 'expiresAt'
  | 'refreshHash'
  | 'generation'
  | 'rotationKey'
>;

/** What the sweep needs to decide which deadline an overdue session reached. */
export type OverdueSession = Pick<SessionLean, '_id' | 'expiresAt' | 'lastSeenAt'>;

/** Reasons an expiry may be undone by an admin: none of them is the user's or security's choice. */
export const REVIVABLE_END_REASONS: readonly (EndReason | null)[] = [
  null,
  'admin',
  'superseded',
  'idle_timeout',
  'evicted',
];

/** The `lastSeenIp` part of a write that records a use; nothing when the address is unknown. */
const seenFrom = (ip: string | null | undefined) => (ip ? { lastSeenIp: ip } : {});

/** What an event about a changed session names (SessionEvents.emitEach). */
type Target = Pick<SessionLean, '_id' | 'userId' | 'username'>;
const TARGET_FIELDS = { _id: 1, userId: 1, username: 1 } as const;
/** What a listing leaves out: never shown in a Session object, and possibly large. */
const LISTING_PROJECTION = { data: 0, refreshHistory: 0, refreshHash: 0 } as const;

/** A session's data as the data interceptor reads it. */
export interface SessionDataRecord {
  data?: Record<string, unknown>;
  expiresAt: Date;
}

/**
 * The sessions collection: every query on it lives here, and every write that can change what
 * the session cache holds drops the affected entries from it in the same method, so no caller
 * can forget. State changes are single conditional writes (`findOneAndUpdate({ _id, state })`,
 * or one `updateMany` on a known id list), never read-then-write.
 */
@Injectable()
export class SessionStore {
  constructor(
    @InjectModel(Session.name) private readonly model: Model<Session>,
    private readonly cache: SessionCache,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly events: SessionEvents,
  ) {}

  /** Stored active and within both deadlines. */
  liveFilter(now: Date) {
    return liveSessionFilter(now, this.settings.idleTimeoutSeconds) as {
      state: 'active';
      expiresAt: { $gt: Date };
      lastSeenAt: { $gt: Date };
    };
  }

  // ------------------------------------------------------------------------------ reads

  /**
   * One of the user's sessions. Queries by id name the user too: `userId` is the shard key
   * (docs/scaling.md), so on a sharded cluster the read goes to one shard.
   */
  async findById(
    sessionId: string | Types.ObjectId,
    userId: string | Types.ObjectId,
  ): Promise<SessionLean | null> {
    if (!Types.ObjectId.isValid(sessionId) || !Types.ObjectId.isValid(userId)) return null;
    return await this.model.findOne({ _id: sessionId, userId }).lean<SessionLean>();
  }

  findOwn(userId: string, sessionId: string): Promise<SessionLean | null> {
    return this.model.findOne({ _id: sessionId, userId }).lean<SessionLean>().exec();
  }

  async existsOwn(userId: string | Types.ObjectId, sessionId: string): Promise<boolean> {
    return (await this.model.exists({ _id: sessionId, userId })) !== null;
  }

  /**
   * Whether the user has another session (any state, until the sweep deletes it) from this
   * user agent: what "a new device" means for `session.created`.
   */
  async hasOtherWithAgent(
    userId: Types.ObjectId | string,
    userAgent: string | null,
    exceptSessionId: Types.ObjectId,
  ): Promise<boolean> {
    return (await this.model.exists({ userId, userAgent, _id: { $ne: exceptSessionId } })) !== null;
  }

  async hasAny(userId: Types.ObjectId): Promise<boolean> {
    return (await this.model.exists({ userId })) !== null;
  }

  /**
   * The session whose current or an earlier refresh token has this hash, with its
   * `rotationKey` (the one read that selects it: only refresh needs it).
   */
  findByRefreshHash(hash: string): Promise<SessionLean | null> {
    return this.model
      .findOne({ $or: [{ refreshHash: hash }, { refreshHistory: hash }] })
      .select('+rotationKey')
      .lean<SessionLean>()
      .exec();
  }

  /** The user's sessions in an effective state, newest first. */
  /**
   * One page of a user's sessions, newest first: at most `limit`, created before the session
   * `before` when given. Ids order sessions by creation (an ObjectId starts with its creation
   * time), so `before` is a position, whoever's session it names: the query stays on the
   * user's own sessions and tells nothing about the id. Without data and refresh history, which
   * a listing never shows and which may weigh kilobytes per session.
   */
  listOwn(
    userId: string,
    state: SessionState | 'all',
    now: Date,
    page: { limit: number; before?: string },
  ): Promise<SessionLean[]> {
    const filter: QueryFilter<Session> = {
      userId,
      ...effectiveStateFilter(state, now, this.settings.idleTimeoutSeconds),
    };
    if (page.before) filter._id = { $lt: new Types.ObjectId(page.before) };
    return this.model
      .find(filter, LISTING_PROJECTION)
      .sort({ _id: -1 })
      .limit(page.limit)
      .lean<SessionLean[]>()
      .exec();
  }

  /** The fields an admin decision about one session needs; null when it is not the user's. */
  findOwnState(userId: Types.ObjectId, sessionId: string) {
    return this.model
      .findOne({ _id: sessionId, userId }, { state: 1, endReason: 1, expiresAt: 1 })
      .lean<Pick<SessionLean, '_id' | 'state' | 'endReason' | 'expiresAt'>>()
      .exec();
  }

  /** The id of the user's newest session an admin may make active again. */
  async newestRevivable(userId: Types.ObjectId, now: Date): Promise<Types.ObjectId | null> {
    const latest = await this.model
      .findOne({ userId, ...this.revivableFilter(now) }, { _id: 1 })
      .sort({ createdAt: -1, _id: -1 })
      .lean<{ _id: Types.ObjectId }>();
    return latest?._id ?? null;
  }

  readData(sessionId: string, userId: string): Promise<SessionDataRecord | null> {
    return this.model
      .findOne({ _id: sessionId, userId })
      .select({ data: 1, expiresAt: 1 })
      .lean<SessionDataRecord>()
      .exec();
  }

  async isActive(sessionId: string, userId: string): Promise<boolean> {
    return (await this.model.exists({ _id: sessionId, userId, state: 'active' })) !== null;
  }

  /**
   * Every session for the admin export, newest first, filtered by username and effective
   * state, as a cursor that holds at most `batchSize` documents at once.
   */
  exportCursor(
    filter: { username?: string; state: SessionState | 'all' },
    now: Date,
    batchSize: number,
  ) {
    return this.model
      .find({
        ...(filter.username !== undefined ? { username: filter.username } : {}),
        ...effectiveStateFilter(filter.state, now, this.settings.idleTimeoutSeconds),
      })
      .sort({ createdAt: -1, _id: -1 })
      .lean<SessionLean>()
      .cursor({ batchSize });
  }

  /** The collection's name, for the change stream that follows it (SessionChangeWatcher). */
  get collectionName(): string {
    return this.model.collection.collectionName;
  }

  // ------------------------------------------------------------------ login, refresh, reauth

  async create(fields: NewSession): Promise<SessionLean> {
    const created = await new this.model({
      ...fields,
      state: 'active',
      refreshHistory: [],
      rotatedAt: null,
      data: {},
      // createdAt comes from the caller's (injected) clock, not Mongoose's own.
    }).save({ timestamps: false });
    return created.toObject() as SessionLean;
  }

  /**
   * Swaps the live session's refresh hash for its successor's in one conditional update,
   * pushing the old one onto the history; null when no live session holds `hash` any more.
   * `newRotationKey` is given for a session that has none yet (made before rotation keys
   * existed): it is set only if the session still has none, so of concurrent first rotations
   * one key wins and the others find their token rotated under it.
   */
  async rotate(
    hash: string,
    nextHash: string,
    now: Date,
    newRotationKey?: string,
    ip?: string | null,
  ): Promise<SessionLean | null> {
    const doc = await this.model
      .findOneAndUpdate(
        {
          refreshHash: hash,
          ...this.liveFilter(now),
          ...(newRotationKey ? { rotationKey: null } : {}),
        },
        {
          $set: {
            refreshHash: nextHash,
            rotatedAt: now,
            lastSeenAt: now,
            ...seenFrom(ip),
            ...(newRotationKey ? { rotationKey: newRotationKey } : {}),
          },
          $push: {
            refreshHistory: { $each: [hash], $position: 0, $slice: REFRESH_HISTORY_LENGTH },
          },
        },
        { returnDocument: 'after' },
      )
      .lean<SessionLean>();
    if (doc) this.cache.invalidate(String(doc._id));
    return doc;
  }

  /**
   * New refresh token and generation for a live session after a password check (reauth,
   * password change): the history is cleared (the earlier tokens are simply invalid now, not
   * "reuse"), access tokens of the old generation stop passing, groups replaced when given, and
   * `authenticatedAt` (the password proof) moved to now.
   */
  async reissue(
    sessionId: string,
    userId: string,
    fresh: { refreshHash: string; generation: string },
    now: Date,
    groups?: string[],
    ip?: string | null,
  ): Promise<SessionLean | null> {
    try {
      return await this.model
        .findOneAndUpdate(
          { _id: sessionId, userId, ...this.liveFilter(now) },
          {
            $set: {
              refreshHash: fresh.refreshHash,
              generation: fresh.generation,
              refreshHistory: [],
              rotatedAt: now,
              lastSeenAt: now,
              authenticatedAt: now,
              ...seenFrom(ip),
              ...(groups ? { groups } : {}),
            },
          },
          { returnDocument: 'after' },
        )
        .lean<SessionLean>();
    } finally {
      this.cache.invalidate(sessionId);
    }
  }

  /** Ends an active session whose old refresh token came back (`refresh_reuse`). */
  async revokeForReuse(sessionId: Types.ObjectId, now: Date): Promise<void> {
    const revoked = await this.model
      .findOneAndUpdate(
        { _id: sessionId, state: 'active' },
        { $set: { state: 'ended', endReason: 'refresh_reuse', expiredAt: now, data: {} } },
        { projection: TARGET_FIELDS },
      )
      .lean<Target>();
    this.cache.invalidate(String(sessionId));
    if (revoked) this.events.emitEach('session.ended', 'refresh_reuse', [revoked]);
  }

  // ---------------------------------------------------------------------- the request path

  /**
   * Writes lastSeenAt = now (and lastSeenIp, when known) if the session is still live and its
   * lastSeenAt older than `staleBefore`; the condition means it never revives a session. False
   * when it changed elsewhere (ended, expired, or touched by another instance). The address
   * rides on this lazy write on purpose: tracking it per request would cost a write per request.
   */
  async touch(
    sessionId: string,
    userId: string,
    now: Date,
    staleBefore: Date,
    ip?: string | null,
  ): Promise<boolean> {
    const live = this.liveFilter(now);
    const result = await this.model.updateOne(
      {
        _id: sessionId,
        userId,
        state: 'active',
        expiresAt: live.expiresAt,
        lastSeenAt: { ...live.lastSeenAt, $lt: staleBefore },
      },
      { $set: { lastSeenAt: now, ...seenFrom(ip) } },
    );
    this.cache.invalidate(sessionId);
    return result.modifiedCount === 1;
  }

  /**
   * The effective state of a freshly read document. A stored-active session past a deadline
   * is written down as expired with one conditional update (read again if that update lost to
   * another change), so the first reader to notice records it.
   */
  async settle(doc: SessionLean, now: Date): Promise<{ doc: SessionLean; eff: EffectiveState }> {
    const idle = this.settings.idleTimeoutSeconds;
    const eff = effectiveState(doc, now, idle);
    if (!eff.needsWrite) return { doc, eff };
    const deadline: QueryFilter<Session> =
      eff.endReason === 'absolute_timeout'
        ? absoluteTimeoutFilter(now)
        : idleTimeoutFilter(now, idle);
    const written = await this.model
      .findOneAndUpdate(
        { _id: doc._id, userId: doc.userId, ...deadline },
        { $set: { state: 'expired', endReason: eff.endReason, expiredAt: eff.expiredAt } },
        { returnDocument: 'after' },
      )
      .lean<SessionLean>();
    this.cache.invalidate(String(doc._id));
    if (written) {
      this.events.emitEach('session.expired', eff.endReason!, [written]);
      return { doc: written, eff: { ...eff, needsWrite: false } };
    }
    const fresh = await this.findById(doc._id, doc.userId);
    if (!fresh) return { doc, eff };
    return { doc: fresh, eff: effectiveState(fresh, now, idle) };
  }

  // ------------------------------------------------------------------- own-session actions

  /**
   * Signs the session out (`logout`) unless it already ended, expired ones too; how many
   * changed (0 or 1).
   */
  endOne(sessionId: string, userId: string): Promise<number> {
    return this.endSessions({ _id: sessionId, userId }, 'logout', 'ended');
  }

  /** Signs out every other session of the user that has not ended (active or expired); how many. */
  endOthers(userId: string, keepSessionId: string): Promise<number> {
    return this.endSessions({ userId, _id: { $ne: keepSessionId } }, 'logout', 'ended');
  }

  /**
   * Ends every session of the user that has not ended yet, active or expired, but
   * `exceptSessionId` when given (a password change, an admin password reset, the user's
   * removal, a bootstrap admin password applied); how many.
   */
  endAllOfUser(
    userId: string | Types.ObjectId,
    reason: EndReason,
    exceptSessionId?: string,
  ): Promise<number> {
    return this.endSessions(
      exceptSessionId === undefined ? { userId } : { userId, _id: { $ne: exceptSessionId } },
      reason,
      'ended',
    );
  }

  /** Above `max` live sessions of the user, expires the oldest (`evicted`); how many. */
  async evictOverLimit(userId: string, max: number, now: Date): Promise<number> {
    const surplus = await this.model
      .find({ userId, ...this.liveFilter(now) })
      .sort({ createdAt: -1, _id: -1 })
      .skip(max)
      .select({ _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>();
    if (!surplus.length) return 0;
    return this.endSessions({ _id: { $in: surplus.map((s) => s._id) } }, 'evicted', 'expired');
  }

  /** Sets the label of one of the user's sessions; null when it is not theirs. */
  async setLabel(userId: string, sessionId: string, label: string | null) {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: sessionId, userId },
        { $set: { label } },
        { returnDocument: 'after' },
      )
      .lean<SessionLean>();
    // The cached context carries the label (GET /sessions/current shows it).
    this.cache.invalidate(sessionId);
    return doc;
  }

  /**
   * Writes a session's data (and expiry, when given) if the session is active and its data is
   * still `asRead` (optimistic concurrency); false when either no longer holds.
   */
  async writeData(
    sessionId: string,
    userId: string,
    asRead: Record<string, unknown> | undefined,
    data: Record<string, unknown>,
    expiresAt?: Date,
  ): Promise<boolean> {
    const written = await this.model.updateOne(
      {
        _id: sessionId,
        userId,
        state: 'active',
        data: asRead === undefined ? { $exists: false } : asRead,
      },
      { $set: { data, ...(expiresAt ? { expiresAt } : {}) } },
    );
    // Data is not cached; the expiry is.
    if (expiresAt) this.cache.invalidate(sessionId);
    return written.matchedCount === 1;
  }

  // ------------------------------------------------------------------------ admin controls

  /**
   * Makes one of the user's sessions active again if an admin, supersession, idle timeout or
   * eviction expired it and it is not past its absolute deadline; false when it is not so.
   */
  async revive(userId: Types.ObjectId, sessionId: Types.ObjectId, now: Date): Promise<boolean> {
    const revived = await this.model.updateOne(
      { _id: sessionId, userId, ...this.revivableFilter(now) },
      { $set: { state: 'active', expiredAt: null, endReason: null, lastSeenAt: now } },
    );
    this.cache.invalidate(String(sessionId));
    return revived.matchedCount === 1;
  }

  /** Expires every live session of the user but `keep` (`superseded`); how many. */
  async supersedeOthers(userId: Types.ObjectId, keep: Types.ObjectId, now: Date) {
    const others = await this.expireMatching(
      { userId, _id: { $ne: keep }, ...this.liveFilter(now) },
      'superseded',
      { state: 'expired', expiredAt: now, endReason: 'superseded' },
    );
    this.cache.invalidateUser(String(userId));
    return others.modified;
  }

  /** Expires one live session of the user, or all of them, as `admin`; how many. */
  async expireByAdmin(userId: Types.ObjectId, sessionId: string | undefined, now: Date) {
    const filter: QueryFilter<Session> = { userId, ...this.liveFilter(now) };
    if (sessionId) filter._id = new Types.ObjectId(sessionId);
    const res = await this.expireMatching(filter, 'admin', {
      state: 'expired',
      expiredAt: now,
      endReason: 'admin',
    });
    if (sessionId) this.cache.invalidate(sessionId);
    else this.cache.invalidateUser(String(userId));
    return res.modified;
  }

  /**
   * Per user with a live session created at or before `now`, that user and their newest such
   * session, grouped on the server; a cursor, for bounded batches.
   */
  newestLivePerUser(now: Date, batchSize: number) {
    return this.model
      .aggregate<{ _id: Types.ObjectId; keep: Types.ObjectId }>([
        { $match: this.liveCreatedBy(now) },
        { $sort: { createdAt: -1, _id: -1 } },
        { $group: { _id: '$userId', keep: { $first: '$_id' } } },
      ])
      .cursor({ batchSize });
  }

  /** For a batch of users: expires every live session but the one to keep (`superseded`). */
  async supersedeAllBut(
    groups: { _id: Types.ObjectId; keep: Types.ObjectId }[],
    now: Date,
  ): Promise<number> {
    const res = await this.expireMatching(
      {
        ...this.liveCreatedBy(now),
        userId: { $in: groups.map((g) => g._id) },
        _id: { $nin: groups.map((g) => g.keep) },
      },
      'superseded',
      { state: 'expired', expiredAt: now, endReason: 'superseded' },
    );
    // Which ids changed is not known without reading them back; a full clear is cheap.
    this.cache.invalidateAll();
    return res.modified;
  }

  /**
   * Expires up to `limit` live sessions created at or before `now` as `admin`; how many were
   * selected (0: none left) and how many changed.
   */
  async expireBatchByAdmin(now: Date, limit: number) {
    const live = this.liveCreatedBy(now);
    const targets = await this.model.find(live, TARGET_FIELDS).limit(limit).lean<Target[]>();
    const ids = targets.map((s) => s._id);
    if (ids.length === 0) return { selected: 0, modified: 0 };
    const res = await this.model.updateMany(
      { _id: { $in: ids }, ...live },
      { $set: { state: 'expired', expiredAt: now, endReason: 'admin' } },
    );
    this.cache.invalidateMany(ids.map(String));
    this.events.emitEach('session.expired', 'admin', targets);
    return { selected: ids.length, modified: res.modifiedCount };
  }

  // -------------------------------------------------------------------------------- sweep

  /** Up to `limit` stored-active sessions past either deadline. */
  overdueBatch(now: Date, limit: number): Promise<OverdueSession[]> {
    return this.model
      .find(pastDeadlineFilter(now, this.settings.idleTimeoutSeconds), {
        _id: 1,
        expiresAt: 1,
        lastSeenAt: 1,
      })
      .limit(limit)
      .lean<OverdueSession[]>()
      .exec();
  }

  /**
   * Writes down the expiry of overdue sessions, re-checking each deadline (a session touched
   * in between is left alone). The recorded `expiredAt` is the deadline itself, not now.
   */
  async expireOverdue(
    absolute: Types.ObjectId[],
    idle: Types.ObjectId[],
    now: Date,
  ): Promise<{ absolute: number; idle: number }> {
    const idleMs = this.settings.idleTimeoutSeconds * 1000;
    // With listeners, the sessions are read first (each event must name who it is about) and
    // the update is bounded to those read, so no event names a session touched in between.
    let absTargets: Target[] = [];
    let idleTargets: Target[] = [];
    if (this.events.heard('session.expired')) {
      [absTargets, idleTargets] = await Promise.all([
        absolute.length
          ? this.model
              .find({ _id: { $in: absolute }, ...absoluteTimeoutFilter(now) }, TARGET_FIELDS)
              .lean<Target[]>()
          : [],
        idle.length
          ? this.model
              .find(
                { _id: { $in: idle }, ...idleTimeoutFilter(now, this.settings.idleTimeoutSeconds) },
                TARGET_FIELDS,
              )
              .lean<Target[]>()
          : [],
      ]);
      absolute = absTargets.map((t) => t._id);
      idle = idleTargets.map((t) => t._id);
    }
    const [abs, idl] = await Promise.all([
      absolute.length
        ? this.model.updateMany(
            { _id: { $in: absolute }, ...absoluteTimeoutFilter(now) },
            [
              {
                $set: { state: 'expired', endReason: 'absolute_timeout', expiredAt: '$expiresAt' },
              },
            ],
            { updatePipeline: true },
          )
        : undefined,
      idle.length
        ? this.model.updateMany(
            {
              _id: { $in: idle },
              ...idleTimeoutFilter(now, this.settings.idleTimeoutSeconds),
            },
            [
              {
                $set: {
                  state: 'expired',
                  endReason: 'idle_timeout',
                  expiredAt: { $min: ['$expiresAt', { $add: ['$lastSeenAt', idleMs] }] },
                },
              },
            ],
            { updatePipeline: true },
          )
        : undefined,
    ]);
    this.cache.invalidateMany([...absolute, ...idle].map(String));
    this.events.emitEach('session.expired', 'absolute_timeout', absTargets);
    this.events.emitEach('session.expired', 'idle_timeout', idleTargets);
    return { absolute: abs?.modifiedCount ?? 0, idle: idl?.modifiedCount ?? 0 };
  }

  /** Up to `limit` expired or ended sessions past the retention period. */
  async retiredBatch(now: Date, limit: number): Promise<Types.ObjectId[]> {
    const docs = await this.model
      .find(this.retiredFilter(now), { _id: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>();
    return docs.map((d) => d._id);
  }

  /** Deletes those of `ids` that are still past retention; how many. */
  async deleteRetired(ids: Types.ObjectId[], now: Date): Promise<number> {
    const { deletedCount } = await this.model.deleteMany({
      _id: { $in: ids },
      ...this.retiredFilter(now),
    });
    return deletedCount;
  }

  // ------------------------------------------------------------------------------ helpers

  /** Expired or ended sessions whose `expiredAt` is older than the retention period. */
  retiredFilter(now: Date): QueryFilter<Session> {
    return {
      state: { $in: ['expired', 'ended'] },
      expiredAt: { $lte: new Date(now.getTime() - this.settings.retentionSeconds * 1000) },
    };
  }

  /** Sessions an admin may make active again: not signed out, not revoked, not past expiresAt. */
  private revivableFilter(now: Date): QueryFilter<Session> {
    return {
      state: { $in: ['active', 'expired'] },
      endReason: { $in: REVIVABLE_END_REASONS },
      expiresAt: { $gt: now },
    };
  }

  /**
   * Live and created by `now`: bulk admin actions leave sessions created while they run alone
   * (newer than every "keep", and after the invalidation), so a stream of logins cannot keep
   * them going forever.
   */
  private liveCreatedBy(now: Date): QueryFilter<Session> {
    return { ...this.liveFilter(now), createdAt: { $lte: now } };
  }

  /**
   * Ends (or expires) every session matching `filter` with one bounded update on the ids found
   * and drops them from the cache; how many changed. Ending is final and reaches expired
   * sessions too (issue 11 finding 2: a signed-out device left `expired` could be revived by an
   * admin validate), and erases the session's data at once rather than after the retention
   * period. Expiring touches active ones only.
   */
  private async endSessions(
    filter: QueryFilter<Session>,
    reason: EndReason,
    state: Exclude<SessionState, 'active'>,
  ): Promise<number> {
    const from: SessionState[] = state === 'ended' ? ['active', 'expired'] : ['active'];
    const targets = await this.model
      .find({ ...filter, state: { $in: from } })
      .select(TARGET_FIELDS)
      .lean<Target[]>();
    if (!targets.length) return 0;
    const ids = targets.map((t) => t._id);
    // The users too: the shard key, so the update goes only to the shards holding them.
    const userIds = [...new Map(targets.map((t) => [String(t.userId), t.userId])).values()];
    const result = await this.model.updateMany(
      { _id: { $in: ids }, userId: { $in: userIds }, state: { $in: from } },
      {
        $set: {
          state,
          endReason: reason,
          expiredAt: this.settings.clock.now(),
          ...(state === 'ended' ? { data: {} } : {}),
        },
      },
    );
    this.cache.invalidateMany(ids.map(String));
    this.events.emitEach(state === 'ended' ? 'session.ended' : 'session.expired', reason, targets);
    return result.modifiedCount;
  }

  /**
   * A bulk state change by filter, with its `session.expired` events: when anybody listens,
   * the sessions are read first and the update is bounded to them, so each event names a
   * session the update was allowed to change; when nobody does, it is the one updateMany.
   * (A session changed concurrently by another writer may be announced by both: receivers
   * dedupe on sessionId.)
   */
  private async expireMatching(
    filter: QueryFilter<Session>,
    reason: EndReason,
    set: Record<string, unknown>,
  ): Promise<{ modified: number; ids: Types.ObjectId[] | null }> {
    if (!this.events.heard('session.expired')) {
      const res = await this.model.updateMany(filter, { $set: set });
      return { modified: res.modifiedCount, ids: null };
    }
    const targets = await this.model.find(filter, TARGET_FIELDS).lean<Target[]>();
    if (!targets.length) return { modified: 0, ids: [] };
    const ids = targets.map((t) => t._id);
    const res = await this.model.updateMany(
      { $and: [filter, { _id: { $in: ids } }] },
      { $set: set },
    );
    this.events.emitEach('session.expired', reason, targets);
    return { modified: res.modifiedCount, ids };
  }
}
