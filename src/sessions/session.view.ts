import { ApiProperty } from '../common/openapi';
import type { Types } from 'mongoose';
import { END_REASONS, EndReason, SESSION_STATES, SessionState } from './schemas/session.schema';
import { DeviceView, parseDevice } from './device';
import { effectiveState } from './session-state';

/** A session document as read with `.lean()` (or a hydrated one). */
export interface SessionRecord {
  _id: Types.ObjectId | string;
  userId: Types.ObjectId | string;
  groups: string[];
  ip: string | null;
  /** Absent (or null) on sessions stored before these fields existed: see toSessionView. */
  lastSeenIp?: string | null;
  userAgent: string | null;
  device?: DeviceView | null;
  label: string | null;
  state: SessionState;
  createdAt: Date;
  lastSeenAt: Date;
  authenticatedAt?: Date | null;
  expiresAt: Date;
  expiredAt: Date | null;
  endReason: EndReason | null;
}

/** The API's Session object (docs/api.md), and its OpenAPI description. */
export class SessionView {
  @ApiProperty({ example: '665f1c2e8b3e4a0012345678' })
  id: string;
  @ApiProperty()
  userId: string;
  @ApiProperty({ type: [String], description: 'Groups the session was authenticated against' })
  groups: string[];
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '203.0.113.9',
    description: 'Where the session was last used (written with lastSeenAt)',
  })
  lastSeenIp: string | null;
  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;
  @ApiProperty({
    type: DeviceView,
    description: 'Parsed from the user agent; unknown parts are null',
  })
  device: DeviceView;
  @ApiProperty({ type: String, nullable: true })
  label: string | null;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ format: 'date-time', description: 'Updated at most once a minute' })
  lastSeenAt: string;
  @ApiProperty({
    format: 'date-time',
    description: 'The last password proof: login, reauth or password change',
  })
  authenticatedAt: string;
  @ApiProperty({ format: 'date-time', description: 'Absolute deadline' })
  expiresAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiredAt: string | null;
  // null among the values too: OpenAPI 3.0 validators read `nullable` as not widening an enum.
  @ApiProperty({ enum: [...END_REASONS, null], nullable: true })
  endReason: EndReason | null;
  @ApiProperty({ enum: SESSION_STATES, description: 'Effective state (timeouts applied)' })
  state: SessionState;
  @ApiProperty({ description: 'True only on the session that made the request' })
  current: boolean;
}

/** When given, the view shows the effective state (idle/absolute deadlines applied). */
export interface ViewTime {
  now: Date;
  idleTimeoutSeconds: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Maps a session document to the contract's Session object: exactly its fields, nothing else
 * (no token hashes, no data). Pass `at` to report a stored-active session that is past a
 * deadline as expired (SessionsService.view does this with the injected clock).
 */
export function toSessionView(
  doc: SessionRecord,
  currentSessionId?: string | null,
  at?: ViewTime,
): SessionView {
  const id = String(doc._id);
  const eff = at
    ? effectiveState(doc, at.now, at.idleTimeoutSeconds)
    : { state: doc.state, endReason: doc.endReason, expiredAt: doc.expiredAt };
  return {
    id,
    userId: String(doc.userId),
    groups: [...(doc.groups ?? [])],
    ip: doc.ip ?? null,
    // Sessions stored before lastSeenIp, device and authenticatedAt existed: the login's
    // address, the agent parsed now, and the login time are what is known of them.
    lastSeenIp: doc.lastSeenIp ?? doc.ip ?? null,
    userAgent: doc.userAgent ?? null,
    device: doc.device ? { ...doc.device } : parseDevice(doc.userAgent),
    label: doc.label ?? null,
    createdAt: doc.createdAt.toISOString(),
    lastSeenAt: doc.lastSeenAt.toISOString(),
    authenticatedAt: (doc.authenticatedAt ?? doc.createdAt).toISOString(),
    expiresAt: doc.expiresAt.toISOString(),
    expiredAt: iso(eff.expiredAt ?? null),
    endReason: eff.endReason ?? null,
    state: eff.state,
    current: currentSessionId != null && id === currentSessionId,
  };
}
