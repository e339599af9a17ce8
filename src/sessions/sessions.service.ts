import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Request } from 'express';
import { QueryFilter, Model, Types } from 'mongoose';
import { ApiException, forbidden, notFound, unauthorized } from '../common/api.exception';
import { ErrorCode } from '../common/error-codes';
import { UsersService } from '../users/users.service';
import type { TokenResponse } from './dto/token-response.dto';
import { runWaterfall } from './hooks';
import { EndReason, REFRESH_HISTORY_LENGTH, Session, SessionState } from './schemas/session.schema';
import { SessionCache } from './session-cache';
import type { AuthContext, AuthUser, SessionContext } from './session-context';
import {
  SESSION_SETTINGS,
  SessionSettings,
  UpsertSessionErrorContext,
} from './session-module.options';
import {
  EffectiveState,
  effectiveState,
  effectiveStateFilter,
  liveSessionFilter,
} from './session-state';
import { SessionRecord, SessionView, toSessionView } from './session.view';
import { AccessClaims, TokenService } from './token.service';

/** A session as read with `.lean()`. */
export type SessionLean = Session & { _id: Types.ObjectId };

const uniq = (values: string[]) => [...new Set(values)];

/**
 * Everything that creates, checks or changes sessions. Every state change is one conditional
 * write on a single document (or one `updateMany` on a known id list), and every change made
 * here drops the session from this instance's cache.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  /** Session loads in progress, by `sid:sub` (see loadOnce). */
  private readonly loading = new Map<string, Promise<AuthContext>>();
  private readonly clock: SessionSettings['clock'];

  constructor(
    @InjectModel(Session.name) readonly model: Model<Session>,
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    private readonly cache: SessionCache,
    @Inject(SESSION_SETTINGS) private readonly config: SessionSettings,
  ) {
    this.clock = config.clock;
  }

  /** The contract's Session object with the effective state as of now. */
  view(doc: SessionRecord, currentSessionId?: string | null): SessionView {
    return toSessionView(doc, currentSessionId, {
      now: this.clock.now(),
      idleTimeoutSeconds: this.config.idleTimeoutSeconds,
    });
  }

  // ---------------------------------------------------------------- login, refresh, reauth

  async login(
    user: AuthUser,
    input: { groups?: string[]; label?: string },
    request: Request,
  ): Promise<TokenResponse> {
    const groups = this.checkGroups(user, input.groups ?? []);
    const now = this.clock.now();
    const { ip, userAgent } = this.config.connectionInfo(request);
    const secret = (await this.tokens.secretsFor(request))[0];
    const refreshToken = this.tokens.newRefreshToken();
    let doc: SessionLean;
    try {
      const created = await new this.model({
        userId: new Types.ObjectId(user.id),
        username: user.username,
        groups,
        ip,
        userAgent,
        label: input.label ?? null,
        state: 'active',
        createdAt: now,
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + this.config.absoluteTimeoutSeconds * 1000),
        refreshHash: this.tokens.hashRefresh(refreshToken),
        refreshHistory: [],
        rotatedAt: null,
        data: {},
        // createdAt comes from the injected clock, not Mongoose's own.
      }).save({ timestamps: false });
      doc = created.toObject() as SessionLean;
    } catch (error) {
      throw await this.upsertError(error, 'login', request);
    }
    // The new session exists either way; if eviction fails now, the next login evicts, and the
    // client is not left with a live session it never got tokens for.
    await this.evictOverLimit(user.id, now).catch((error: unknown) =>
      this.logger.warn(`Evicting surplus sessions of user ${user.id} failed: ${String(error)}`),
    );
    return this.respond(doc, refreshToken, secret, now, request);
  }

  /**
   * Rotates the refresh token. The winning request swaps the hash in one conditional update;
   * a request that loses the race (or a tab replaying the same token within the grace window)
   * finds the token as the newest history entry and answers with the same derived pair, so a
   * session never forks into two live token pairs. Any other replay of an old token revokes
   * the session.
   */
  async refresh(presented: string, request: Request): Promise<TokenResponse> {
    const now = this.clock.now();
    const secret = (await this.tokens.secretsFor(request))[0];
    const hash = this.tokens.hashRefresh(presented);
    const next = this.tokens.successorOf(presented, secret);
    let doc: SessionLean | null;
    try {
      doc = await this.model
        .findOneAndUpdate(
          { refreshHash: hash, ...this.liveFilter(now) },
          {
            $set: { refreshHash: this.tokens.hashRefresh(next), rotatedAt: now, lastSeenAt: now },
            $push: {
              refreshHistory: { $each: [hash], $position: 0, $slice: REFRESH_HISTORY_LENGTH },
            },
          },
          { returnDocument: 'after' },
        )
        .lean<SessionLean>();
    } catch (error) {
      throw await this.upsertError(error, 'refresh', request);
    }
    if (doc) {
      this.cache.invalidate(String(doc._id));
      return this.respond(doc, next, secret, now, request);
    }
    return this.refreshNotRotated(hash, next, secret, now, request);
  }

  private async refreshNotRotated(
    hash: string,
    next: string,
    secret: string,
    now: Date,
    request: Request,
  ): Promise<TokenResponse> {
    const doc = await this.model
      .findOne({ $or: [{ refreshHash: hash }, { refreshHistory: hash }] })
      .lean<SessionLean>();
    if (!doc) {
      throw unauthorized(ErrorCode.REFRESH_TOKEN_INVALID, 'The refresh token is not valid');
    }
    const { eff } = await this.settle(doc, now);
    if (eff.state !== 'active') throw this.notLive(eff, true);
    if (doc.refreshHash === hash) {
      // Live and current, yet the rotation did not match: a concurrent reauth replaced it.
      throw unauthorized(ErrorCode.REFRESH_TOKEN_INVALID, 'The refresh token is not valid');
    }
    const graceMs = this.config.refreshReuseGraceSeconds * 1000;
    const replay =
      doc.refreshHistory[0] === hash &&
      doc.rotatedAt !== null &&
      now.getTime() - doc.rotatedAt.getTime() < graceMs &&
      this.tokens.sameHash(doc.refreshHash, this.tokens.hashRefresh(next));
    if (replay) {
      // The access token is re-signed as of the rotation, so it is byte-identical.
      return this.respond(doc, next, secret, doc.rotatedAt!, request);
    }
    await this.model.updateOne(
      { _id: doc._id, state: 'active' },
      { $set: { state: 'ended', endReason: 'refresh_reuse', expiredAt: now } },
    );
    this.cache.invalidate(String(doc._id));
    throw unauthorized(
      ErrorCode.REFRESH_TOKEN_REUSED,
      'A used refresh token was presented again; the session has been revoked',
    );
  }

  /** Confirms the password on the current session, optionally switches groups, issues new tokens. */
  async reauth(
    auth: AuthContext,
    input: { password: string; groups?: string[] },
    request: Request,
  ): Promise<TokenResponse> {
    const user = await this.users.verifyPasswordById(auth.user.id, input.password);
    if (!user) throw this.invalidCredentials();
    const groups = input.groups === undefined ? undefined : this.checkGroups(user, input.groups);
    const now = this.clock.now();
    const secret = (await this.tokens.secretsFor(request))[0];
    const refreshToken = this.tokens.newRefreshToken();
    let doc: SessionLean | null;
    try {
      doc = await this.model
        .findOneAndUpdate(
          { _id: auth.session.id, userId: auth.user.id, ...this.liveFilter(now) },
          {
            $set: {
              refreshHash: this.tokens.hashRefresh(refreshToken),
              // Tokens from before the reauth are simply invalid now, not "reuse".
              refreshHistory: [],
              rotatedAt: now,
              lastSeenAt: now,
              ...(groups ? { groups } : {}),
            },
          },
          { returnDocument: 'after' },
        )
        .lean<SessionLean>();
    } catch (error) {
      throw await this.upsertError(error, 'reauth', request);
    }
    this.cache.invalidate(auth.session.id);
    if (!doc) {
      const current = await this.model.findById(auth.session.id).lean<SessionLean>();
      if (!current) throw this.sessionGone();
      throw this.notLive((await this.settle(current, now)).eff, false);
    }
    return this.respond(doc, refreshToken, secret, now, request);
  }

  invalidCredentials(): ApiException {
    return unauthorized(ErrorCode.INVALID_CREDENTIALS, 'Invalid username or password');
  }

  // ---------------------------------------------------------------- the per-request check

  /**
   * The live session behind an access token, from the cache when possible. The idle and
   * absolute deadlines are checked against the clock on every call, cached or not; lastSeenAt
   * is written only when it is at least a minute old.
   */
  async authenticate(claims: AccessClaims, allowExpired: boolean): Promise<AuthContext> {
    const now = this.clock.now();
    const cached = this.cache.get(claims.sid);
    if (cached && cached.user.id === claims.sub) {
      const eff = effectiveState(cached.session, now, this.config.idleTimeoutSeconds);
      if (eff.state === 'active') {
        // The common case, a session in steady use: nothing to write, nothing to await.
        if (!this.isStale(cached.session, now)) return cached;
        return this.admit(await this.touch(cached, now, claims), allowExpired);
      }
      this.cache.invalidate(claims.sid);
    }
    return this.admit(await this.loadOnce(claims, now), allowExpired);
  }

  /** A loaded session may be expired; only routes that allow that get it. */
  private admit(context: AuthContext, allowExpired: boolean): AuthContext {
    if (context.session.state !== 'active' && !allowExpired) {
      throw this.notLive(context.session, false);
    }
    return context;
  }

  /**
   * Single flight: when a session's cache entry lapses under load, every concurrent request for
   * it would read it (and write lastSeenAt) again. They share the one load in progress instead;
   * it leaves the map when it settles, so a failure is never remembered.
   */
  private loadOnce(claims: AccessClaims, now: Date): Promise<AuthContext> {
    const key = `${claims.sid}:${claims.sub}`;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const load = this.load(claims, now, true).finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    return load;
  }

  /** Reads the session (live or expired, never ended) and its user; caches it when live. */
  private async load(claims: AccessClaims, now: Date, mayTouch: boolean): Promise<AuthContext> {
    const found = Types.ObjectId.isValid(claims.sid)
      ? await this.model.findById(claims.sid).lean<SessionLean>()
      : null;
    if (!found || String(found.userId) !== claims.sub) throw this.sessionGone();
    const { doc, eff } = await this.settle(found, now);
    if (eff.state === 'ended') throw this.notLive(eff, false);
    const user = await this.users.findById(claims.sub);
    if (!user) throw this.sessionGone();
    const context: AuthContext = { user, session: toSessionContext(doc, eff) };
    if (eff.state !== 'active') return context;
    if (!mayTouch) {
      this.cache.set(claims.sid, context);
      return context;
    }
    const touched = await this.touch(context, now, claims);
    if (touched === context) this.cache.set(claims.sid, context);
    return touched;
  }

  /**
   * lastSeenAt is written at most once a minute, and at least twice per idle timeout: with a
   * short idle timeout a session in steady use must never look idle for want of a write.
   */
  private staleMs(): number {
    return Math.min(
      this.config.lastSeenWriteIntervalSeconds * 1000,
      (this.config.idleTimeoutSeconds * 1000) / 2,
    );
  }

  private isStale(session: SessionContext, now: Date): boolean {
    return now.getTime() - session.lastSeenAt.getTime() >= this.staleMs();
  }

  /** Writes lastSeenAt when it is stale; the write is conditional so it never revives a session. */
  private async touch(context: AuthContext, now: Date, claims: AccessClaims): Promise<AuthContext> {
    if (!this.isStale(context.session, now)) return context;
    const staleMs = this.staleMs();
    const live = this.liveFilter(now);
    const result = await this.model.updateOne(
      {
        _id: context.session.id,
        state: 'active',
        expiresAt: live.expiresAt,
        lastSeenAt: { ...live.lastSeenAt, $lt: new Date(now.getTime() - staleMs) },
      },
      { $set: { lastSeenAt: now } },
    );
    if (result.modifiedCount === 0) {
      // Changed elsewhere (ended, expired, or touched by another instance): read it again.
      // Not through loadOnce: this may run inside the shared load for the same session.
      this.cache.invalidate(context.session.id);
      return this.load(claims, now, false);
    }
    const touched: AuthContext = {
      user: context.user,
      session: { ...context.session, lastSeenAt: now },
    };
    this.cache.set(context.session.id, touched);
    return touched;
  }

  /**
   * The effective state of a freshly read document; a stored-active session past a deadline is
   * written down as expired with one conditional update (re-read once if that update lost).
   */
  private async settle(
    doc: SessionLean,
    now: Date,
  ): Promise<{ doc: SessionLean; eff: EffectiveState }> {
    const eff = effectiveState(doc, now, this.config.idleTimeoutSeconds);
    if (!eff.needsWrite) return { doc, eff };
    this.cache.invalidate(String(doc._id));
    const deadline: QueryFilter<Session> =
      eff.endReason === 'absolute_timeout'
        ? { expiresAt: { $lte: now } }
        : {
            lastSeenAt: {
              $lte: new Date(now.getTime() - this.config.idleTimeoutSeconds * 1000),
            },
          };
    const written = await this.model
      .findOneAndUpdate(
        { _id: doc._id, state: 'active', ...deadline },
        { $set: { state: 'expired', endReason: eff.endReason, expiredAt: eff.expiredAt } },
        { returnDocument: 'after' },
      )
      .lean<SessionLean>();
    if (written) return { doc: written, eff: { ...eff, needsWrite: false } };
    const fresh = await this.model.findById(doc._id).lean<SessionLean>();
    if (!fresh) return { doc, eff };
    return { doc: fresh, eff: effectiveState(fresh, now, this.config.idleTimeoutSeconds) };
  }

  // ---------------------------------------------------------------- ending sessions

  /**
   * Ends every active session matching `filter` with one bounded update and drops them from
   * the cache; returns how many changed. For admin and sweep code as much as for users.
   */
  async endSessions(
    filter: QueryFilter<Session>,
    reason: EndReason,
    state: Exclude<SessionState, 'active'>,
  ): Promise<number> {
    const now = this.clock.now();
    // Ending is final and reaches expired sessions too (issue 11 finding 2): a signed-out
    // device left `expired` could be revived by an admin validate. Expiring touches live ones.
    const from: SessionState[] = state === 'ended' ? ['active', 'expired'] : ['active'];
    const targets = await this.model
      .find({ ...filter, state: { $in: from } })
      .select({ _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>();
    if (!targets.length) return 0;
    const ids = targets.map((t) => t._id);
    const result = await this.model.updateMany(
      { _id: { $in: ids }, state: { $in: from } },
      {
        // The data of an ended session is erased at once, not kept for the retention period.
        $set: {
          state,
          endReason: reason,
          expiredAt: now,
          ...(state === 'ended' ? { data: {} } : {}),
        },
      },
    );
    this.cache.invalidateMany(ids.map(String));
    return result.modifiedCount;
  }

  /** Signs the session out (logout): ended, `endReason: logout`, also when it had expired. */
  async logout(sessionId: string): Promise<void> {
    await this.endSessions({ _id: sessionId }, 'logout', 'ended');
  }

  /** Ends one of the caller's sessions, also an expired one; 404 when it is not theirs. */
  async endOwn(userId: string, sessionId: string): Promise<void> {
    const ended = await this.endSessions({ _id: sessionId, userId }, 'logout', 'ended');
    if (ended) return;
    if (!(await this.model.exists({ _id: sessionId, userId }))) throw notFound('No such session');
  }

  /** Ends every other session of the caller that is not ended yet (active or expired). */
  endOthers(userId: string, currentSessionId: string): Promise<number> {
    return this.endSessions({ userId, _id: { $ne: currentSessionId } }, 'logout', 'ended');
  }

  // ---------------------------------------------------------------- own sessions

  async listOwn(
    userId: string,
    state: SessionState | 'all',
    currentSessionId: string,
  ): Promise<SessionView[]> {
    const docs = await this.model
      .find({
        userId,
        ...effectiveStateFilter(state, this.clock.now(), this.config.idleTimeoutSeconds),
      })
      .sort({ createdAt: -1, _id: -1 })
      .lean<SessionLean[]>();
    return docs.map((d) => this.view(d, currentSessionId));
  }

  /**
   * The caller's current session, from what the guard just produced (its cache on a hit): no
   * database read. Every change to a viewable field on this instance drops or replaces the
   * cache entry, and lastSeenAt lags by at most the lazy-write interval, as it does stored.
   */
  viewCurrent(session: SessionContext): SessionView {
    return this.view(sessionRecordOf(session), session.id);
  }

  /** One of the caller's sessions; the current one comes from the request like viewCurrent. */
  async viewOwn(userId: string, sessionId: string, current: SessionContext): Promise<SessionView> {
    if (sessionId === current.id) return this.viewCurrent(current);
    const doc = await this.model.findOne({ _id: sessionId, userId }).lean<SessionLean>();
    if (!doc) throw notFound('No such session');
    return this.view(doc, current.id);
  }

  async labelOwn(userId: string, sessionId: string, label: string | null): Promise<SessionLean> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: sessionId, userId },
        { $set: { label } },
        { returnDocument: 'after' },
      )
      .lean<SessionLean>();
    // The cached context carries the label (GET /sessions/current shows it).
    this.cache.invalidate(sessionId);
    if (!doc) throw notFound('No such session');
    return doc;
  }

  // ---------------------------------------------------------------- helpers

  private liveFilter(now: Date) {
    return liveSessionFilter(now, this.config.idleTimeoutSeconds) as {
      state: 'active';
      expiresAt: { $gt: Date };
      lastSeenAt: { $gt: Date };
    };
  }

  /** The requested groups, deduplicated, if the user belongs to every one (403 otherwise). */
  private checkGroups(user: AuthUser, requested: string[]): string[] {
    const groups = uniq(requested);
    const missing = groups.filter((g) => !user.groups.includes(g));
    if (missing.length) {
      throw forbidden(`Not a member of: ${missing.join(', ')}`, ErrorCode.GROUP_FORBIDDEN);
    }
    return groups;
  }

  /** Above maxSessionsPerUser live sessions, the oldest are expired (`evicted`). */
  private async evictOverLimit(userId: string, now: Date): Promise<void> {
    const max = this.config.maxSessionsPerUser;
    if (max <= 0) return;
    const surplus = await this.model
      .find({ userId, ...this.liveFilter(now) })
      .sort({ createdAt: -1, _id: -1 })
      .skip(max)
      .select({ _id: 1 })
      .lean<{ _id: Types.ObjectId }[]>();
    if (surplus.length) {
      await this.endSessions({ _id: { $in: surplus.map((s) => s._id) } }, 'evicted', 'expired');
    }
  }

  private async respond(
    doc: SessionLean,
    refreshToken: string,
    secret: string,
    issuedAt: Date,
    request: Request,
  ): Promise<TokenResponse> {
    const sid = String(doc._id);
    const body: TokenResponse = {
      accessToken: this.tokens.signAccess(
        { sub: String(doc.userId), sid },
        secret,
        Math.floor(issuedAt.getTime() / 1000),
      ),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTokenTtlSeconds,
      session: this.view(doc, sid),
    };
    return runWaterfall(this.config.hooks.onRefreshTokens, body, request);
  }

  private async upsertError(
    error: unknown,
    operation: UpsertSessionErrorContext['operation'],
    request: Request,
  ): Promise<unknown> {
    return runWaterfall(this.config.hooks.onUpsertSessionError, error, {
      operation,
      request,
    });
  }

  /** The 401 for a session that is not live; refresh reports revocation for reuse as such. */
  private notLive(
    eff: Pick<EffectiveState, 'state' | 'endReason'>,
    refreshing: boolean,
  ): ApiException {
    if (refreshing && eff.endReason === 'refresh_reuse') {
      return unauthorized(
        ErrorCode.REFRESH_TOKEN_REUSED,
        'The session was revoked because a refresh token was used twice',
      );
    }
    if (eff.state === 'ended') {
      return unauthorized(ErrorCode.SESSION_ENDED, 'The session was signed out');
    }
    return unauthorized(ErrorCode.SESSION_EXPIRED, `The session has expired (${eff.endReason})`);
  }

  private sessionGone(): ApiException {
    return unauthorized(ErrorCode.SESSION_EXPIRED, 'The session no longer exists');
  }
}

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
  };
}

/** A SessionContext in the shape the one view mapper (toSessionView) reads. */
export function sessionRecordOf(session: SessionContext): SessionRecord {
  return { ...session, _id: session.id };
}
