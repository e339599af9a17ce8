import { Inject, Injectable, Logger } from '@nestjs/common';
import { Types } from 'mongoose';
import { forbidden, unauthorized } from '../common/api.exception';
import { ErrorCode } from '../common/error-codes';
import { refuseUsernameAsPassword } from '../users/password-policy';
import { UsersService } from '../users/users.service';
import type { TokenResponse } from './dto/token-response.dto';
import type { AuthContext, AuthUser } from './session-context';
import { parseDevice } from './device';
import { SessionEvents } from './events/session-events';
import { invalidCredentials, notLive, sessionGone } from './session-errors';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import { toSessionView } from './session.view';
import { SessionLean, SessionStore } from './session.store';
import { TokenService } from './token.service';

/**
 * What issuing tokens needs to know about the client. The HTTP layer reads it off the request
 * (AuthController); a host's own strategy builds it the same way.
 */
export interface IssueContext {
  /** Signs the access token and keys the refresh successor: the first of the request's secrets. */
  secret: string;
  ip: string | null;
  userAgent: string | null;
  /**
   * What a failed session write becomes (AuthController passes the `onUpsertSessionError`
   * hooks). Default: the error itself.
   */
  onWriteError?: (error: unknown) => unknown;
}

const uniq = (values: string[]) => [...new Set(values)];

/**
 * Issues and rotates a session's tokens: login (a new session), refresh (rotation with a grace
 * window for concurrent tabs, revocation on reuse) and reauth (a password check on the current
 * session). A host's own passport strategy calls `login` to get a session for its user.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly store: SessionStore,
    private readonly users: UsersService,
    private readonly tokens: TokenService,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly events: SessionEvents,
  ) {}

  /** A new session for `user` (already authenticated), with its token pair. */
  async login(
    user: AuthUser,
    input: { groups?: string[]; label?: string },
    client: IssueContext,
  ): Promise<TokenResponse> {
    const groups = this.checkGroups(user, input.groups ?? []);
    const now = this.settings.clock.now();
    const refreshToken = this.tokens.newRefreshToken();
    let doc: SessionLean;
    try {
      doc = await this.store.create({
        userId: new Types.ObjectId(user.id),
        username: user.username,
        groups,
        ip: client.ip,
        lastSeenIp: client.ip,
        userAgent: client.userAgent,
        device: parseDevice(client.userAgent),
        label: input.label ?? null,
        createdAt: now,
        lastSeenAt: now,
        authenticatedAt: now,
        expiresAt: new Date(now.getTime() + this.settings.absoluteTimeoutSeconds * 1000),
        refreshHash: this.tokens.hashRefresh(refreshToken),
        generation: this.tokens.newGeneration(),
        rotationKey: this.tokens.newRotationKey(),
      });
    } catch (error) {
      throw await writeError(error, client);
    }
    // The new session exists either way; if eviction fails now, the next login evicts, and the
    // client is not left with a live session it never got tokens for.
    const max = this.settings.maxSessionsPerUser;
    if (max > 0) {
      await this.store.evictOverLimit(user.id, max, now).catch((error: unknown) => {
        this.logger.warn(`Evicting surplus sessions of user ${user.id} failed: ${String(error)}`);
      });
    }
    await this.announceCreated(doc);
    return this.respond(doc, refreshToken, client.secret, now);
  }

  /** `session.created`, with whether this user agent is new for the user (read only if heard). */
  private async announceCreated(doc: SessionLean): Promise<void> {
    if (!this.events.heard('session.created')) return;
    const seen = await this.store
      .hasOtherWithAgent(doc.userId, doc.userAgent, doc._id)
      .catch(() => true); // unknown is reported as not new: no false alarm on a read failure
    this.events.emit('session.created', {
      ...refOf(doc),
      ip: doc.ip,
      userAgent: doc.userAgent,
      device: doc.device ?? parseDevice(doc.userAgent),
      groups: [...doc.groups],
      newDevice: !seen,
    });
  }

  /**
   * Rotates the refresh token. The successor is derived from the presented token with the
   * session's own rotation key, and swapped in with one conditional update; a request that
   * loses the race (or a tab replaying the same token within the grace window) finds the token
   * as the newest history entry and answers with the same derived pair, so a session never
   * forks into two live token pairs. Any other replay of an old token revokes the session. A
   * session whose user was deleted or disabled does not refresh.
   */
  async refresh(presented: string, client: IssueContext): Promise<TokenResponse> {
    const now = this.settings.clock.now();
    const hash = this.tokens.hashRefresh(presented);
    let found = await this.store.findByRefreshHash(hash);
    if (!found) throw refreshInvalid();
    if (!(await this.users.findActiveById(String(found.userId)))) throw sessionGone();
    if (found.refreshHash === hash) {
      // A session made before rotation keys existed gets one now, with its first rotation.
      const newKey = found.rotationKey ? undefined : this.tokens.newRotationKey();
      const next = this.tokens.successorOf(presented, found.rotationKey ?? newKey!);
      let doc: SessionLean | null;
      try {
        doc = await this.store.rotate(hash, this.tokens.hashRefresh(next), now, newKey, client.ip);
      } catch (error) {
        throw await writeError(error, client);
      }
      if (doc) {
        this.events.emit('session.refreshed', { ...refOf(doc), ip: client.ip });
        return this.respond(doc, next, client.secret, now);
      }
      // Lost to a concurrent rotation, reauth or ending: judge what is stored now.
      found = await this.store.findByRefreshHash(hash);
      if (!found) throw refreshInvalid();
    }
    return this.refreshNotRotated(found, presented, hash, client, now);
  }

  private async refreshNotRotated(
    found: SessionLean,
    presented: string,
    hash: string,
    client: IssueContext,
    now: Date,
  ): Promise<TokenResponse> {
    const secret = client.secret;
    const { doc, eff } = await this.store.settle(found, now);
    if (eff.state !== 'active') throw notLive(eff, true);
    if (doc.refreshHash === hash) {
      // Live and current, yet the rotation did not match: a concurrent reauth replaced it.
      throw refreshInvalid();
    }
    // settle() may have re-read the document without its key; the one read first has it.
    const rotationKey = doc.rotationKey ?? found.rotationKey ?? null;
    const next = rotationKey ? this.tokens.successorOf(presented, rotationKey) : null;
    const graceMs = this.settings.refreshReuseGraceSeconds * 1000;
    const replay =
      next !== null &&
      doc.refreshHistory[0] === hash &&
      doc.rotatedAt !== null &&
      now.getTime() - doc.rotatedAt.getTime() < graceMs &&
      this.tokens.sameHash(doc.refreshHash, this.tokens.hashRefresh(next));
    if (replay) {
      // The access token is re-signed as of the rotation, so it is byte-identical.
      return this.respond(doc, next, secret, doc.rotatedAt!);
    }
    await this.store.revokeForReuse(doc._id, now);
    this.events.emit('session.reuse_detected', { ...refOf(doc), ip: client.ip });
    throw unauthorized(
      ErrorCode.REFRESH_TOKEN_REUSED,
      'A used refresh token was presented again; the session has been revoked',
    );
  }

  /**
   * Confirms the password on the current session, optionally switches groups, issues new
   * tokens under a new generation (the access tokens issued before stop passing).
   */
  async reauth(
    auth: AuthContext,
    input: { password: string; groups?: string[] },
    client: IssueContext,
  ): Promise<TokenResponse> {
    const user = await this.users.verifyPasswordById(auth.user.id, input.password);
    if (!user) throw this.failedCheck(auth, 'reauth', client);
    const groups = input.groups === undefined ? undefined : this.checkGroups(user, input.groups);
    const answer = await this.reissue(auth, client, groups);
    this.events.emit('session.reauthenticated', {
      sessionId: auth.session.id,
      userId: auth.user.id,
      username: auth.user.username,
      ip: client.ip,
      groups: [...answer.session.groups],
    });
    return answer;
  }

  /**
   * After the user's password changed on this session (POST /auth/password, once the new
   * password is stored): every other session of the user ends (`password_changed`) and this
   * one gets fresh tokens under a new generation, so no token issued before the change passes
   * any more (contract: "issued before its session's latest reauth or password change is
   * refused with TOKEN_INVALID").
   */
  async afterPasswordChange(auth: AuthContext, client: IssueContext): Promise<TokenResponse> {
    await this.store.endAllOfUser(auth.user.id, 'password_changed', auth.session.id);
    return this.reissue(auth, client);
  }

  /**
   * POST /auth/password: the current password proves it is the person, the new one is stored,
   * then afterPasswordChange ends every other session and renews this one's generation.
   */
  async changePassword(
    auth: AuthContext,
    input: { currentPassword: string; newPassword: string },
    client: IssueContext,
  ): Promise<TokenResponse> {
    refuseUsernameAsPassword(auth.user.username, input.newPassword);
    const user = await this.users.verifyPasswordById(auth.user.id, input.currentPassword);
    if (!user) throw this.failedCheck(auth, 'password', client);
    if (!(await this.users.setPasswordById(auth.user.id, input.newPassword))) throw sessionGone();
    const answer = await this.afterPasswordChange(auth, client);
    this.events.emit('user.password_changed', {
      userId: auth.user.id,
      username: auth.user.username,
      by: 'self',
      sessionId: auth.session.id,
    });
    return answer;
  }

  /** A new refresh token and generation for the live session behind `auth`. */
  private async reissue(
    auth: AuthContext,
    client: IssueContext,
    groups?: string[],
  ): Promise<TokenResponse> {
    const now = this.settings.clock.now();
    const refreshToken = this.tokens.newRefreshToken();
    let doc: SessionLean | null;
    try {
      doc = await this.store.reissue(
        auth.session.id,
        auth.user.id,
        {
          refreshHash: this.tokens.hashRefresh(refreshToken),
          generation: this.tokens.newGeneration(),
        },
        now,
        groups,
        client.ip,
      );
    } catch (error) {
      throw await writeError(error, client);
    }
    if (!doc) {
      const current = await this.store.findById(auth.session.id, auth.user.id);
      if (!current) throw sessionGone();
      throw notLive((await this.store.settle(current, now)).eff, false);
    }
    return this.respond(doc, refreshToken, client.secret, now);
  }

  /** A wrong password on a signed-in session: `login.failed`, and the error to throw. */
  private failedCheck(
    auth: AuthContext,
    operation: 'reauth' | 'password',
    client: IssueContext,
  ): unknown {
    this.events.emit('login.failed', {
      username: auth.user.username,
      operation,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    return invalidCredentials();
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

  private respond(
    doc: SessionLean,
    refreshToken: string,
    secret: string,
    issuedAt: Date,
  ): TokenResponse {
    const sid = String(doc._id);
    return {
      accessToken: this.tokens.signAccess(
        { sub: String(doc.userId), sid, gen: doc.generation ?? undefined },
        secret,
        Math.floor(issuedAt.getTime() / 1000),
      ),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTokenTtlSeconds,
      session: toSessionView(doc, sid, {
        now: this.settings.clock.now(),
        idleTimeoutSeconds: this.settings.idleTimeoutSeconds,
      }),
    };
  }
}

const refOf = (doc: SessionLean) => ({
  sessionId: String(doc._id),
  userId: String(doc.userId),
  username: doc.username,
});
const refreshInvalid = () =>
  unauthorized(ErrorCode.REFRESH_TOKEN_INVALID, 'The refresh token is not valid');

async function writeError(error: unknown, client: IssueContext): Promise<unknown> {
  return client.onWriteError ? client.onWriteError(error) : error;
}
