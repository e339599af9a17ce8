import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema, Types } from 'mongoose';
import type { DeviceView } from '../device';

export const SESSION_STATES = ['active', 'expired', 'ended'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const END_REASONS = [
  'logout',
  'admin',
  'superseded',
  'idle_timeout',
  'absolute_timeout',
  'refresh_reuse',
  'evicted',
  'password_changed',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/**
 * One login on one device. `state` is stored (not derived) so that listings and the sweep can
 * use an index; a stored `active` session whose idle or absolute deadline has passed is treated
 * as expired by every reader until the sweep (or the first request that sees it) writes that down.
 */
@Schema({
  timestamps: { createdAt: true, updatedAt: false },
  collection: 'sessions',
  minimize: false,
})
export class Session {
  // Schema.Types.ObjectId (not Types.ObjectId, which Mongoose reads as Mixed) so that queries
  // cast a string id and match the stored ObjectId.
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  userId: Types.ObjectId;

  /** Denormalised (usernames never change) so admin listings and exports need no join. */
  @Prop({ required: true })
  username: string;

  @Prop({ type: [String], default: [] })
  groups: string[];

  @Prop({ type: String, default: null })
  ip: string | null;

  /** Where the session was last used; written with lastSeenAt (never on its own). */
  @Prop({ type: String, default: null })
  lastSeenIp: string | null;

  @Prop({ type: String, default: null })
  userAgent: string | null;

  /** Parsed from userAgent at login (see device.ts); null on sessions stored before it existed. */
  @Prop({ type: Object, default: null })
  device: DeviceView | null;

  @Prop({ type: String, default: null })
  label: string | null;

  @Prop({ type: String, enum: SESSION_STATES, default: 'active' })
  state: SessionState;

  @Prop({ type: Date, required: true })
  lastSeenAt: Date;

  /** The last password proof on this session: login, reauth or password change. */
  @Prop({ type: Date, default: null })
  authenticatedAt: Date | null;

  /** Absolute deadline: createdAt + SESSION_ABSOLUTE_TIMEOUT_SECONDS. */
  @Prop({ type: Date, required: true })
  expiresAt: Date;

  @Prop({ type: Date, default: null })
  expiredAt: Date | null;

  @Prop({ type: String, enum: [...END_REASONS, null], default: null })
  endReason: EndReason | null;

  /** SHA-256 (hex) of the current refresh token. */
  @Prop({ type: String, required: true })
  refreshHash: string;

  /**
   * SHA-256 of the tokens earlier rotations replaced, newest first, capped at
   * REFRESH_HISTORY_LENGTH: the newest may be replayed inside the grace window, and any of them
   * presented otherwise is reuse (a token two rotations old is still recognised as stolen).
   */
  @Prop({ type: [String], default: [] })
  refreshHistory: string[];

  /** When the refresh token was last rotated (the grace window runs from here). */
  @Prop({ type: Date, default: null })
  rotatedAt: Date | null;

  /**
   * Random, renewed by every reauth and password change. Access tokens carry it as `gen`; a
   * token issued under an earlier generation is refused (TOKEN_INVALID), so a token from before
   * a reauth never carries the groups that reauth granted (issue 11 finding 3), and one forged
   * with a leaked JWT_SECRET needs it too. Null only on sessions created before it existed.
   */
  @Prop({ type: String, default: null })
  generation: string | null;

  /**
   * Random per session and never sent to anyone: keys the refresh successor,
   * `HMAC(rotationKey, presented)`, so that a leaked JWT_SECRET plus every token a client ever
   * saw gives no refresh token (issue 11 finding 1). Not selected unless asked for. Null only
   * on sessions created before it existed (their first rotation sets it).
   */
  @Prop({ type: String, default: null, select: false })
  rotationKey: string | null;

  /** Free-form per-session data (validated at the edge: size, depth, key names). */
  @Prop({ type: Object, default: () => ({}) })
  data: Record<string, unknown>;

  createdAt: Date;
}

export const REFRESH_HISTORY_LENGTH = 5;

export type SessionDocument = HydratedDocument<Session>;
export const SessionSchema = SchemaFactory.createForClass(Session);

// eviction (oldest active), validate/invalidate of a user, a user's live sessions
SessionSchema.index({ userId: 1, state: 1, createdAt: -1 });
// own listing, paged newest first (GET /sessions?state=…&limit=…&before=<id>)
SessionSchema.index({ userId: 1, _id: -1 });
// refresh: find the session a presented refresh token belongs to
SessionSchema.index({ refreshHash: 1 });
// refresh reuse: find the session one of whose earlier tokens is presented again (multikey)
SessionSchema.index({ refreshHistory: 1 });
// admin export filtered by username and state, newest first
SessionSchema.index({ username: 1, createdAt: -1 });
// sweep: active sessions past their absolute or idle deadline
SessionSchema.index({ state: 1, expiresAt: 1 });
SessionSchema.index({ state: 1, lastSeenAt: 1 });
// sweep: expired/ended sessions past retention
SessionSchema.index({ state: 1, expiredAt: 1 });
// admin export without a user filter, newest first (streamed, so no in-memory sort)
SessionSchema.index({ createdAt: -1 });
