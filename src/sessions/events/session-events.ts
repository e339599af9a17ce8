import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import type { DeviceView } from '../device';
import type { EndReason } from '../schemas/session.schema';
import { SESSION_SETTINGS, type SessionSettings } from '../session-module.options';

/** The event names, as `@OnEvent(...)` takes them. */
export const SESSION_EVENT_NAMES = [
  'session.created',
  'session.refreshed',
  'session.reauthenticated',
  'session.ended',
  'session.expired',
  'session.reuse_detected',
  'user.password_changed',
  'login.failed',
] as const;
export type SessionEventName = (typeof SESSION_EVENT_NAMES)[number];

/** Which session of whom: every session event carries these. */
export interface SessionRef {
  sessionId: string;
  userId: string;
  username: string;
}

/** What each event says besides its envelope. No token, hash, password or session data, ever. */
export interface SessionEventPayloads {
  'session.created': SessionRef & {
    ip: string | null;
    userAgent: string | null;
    device: DeviceView;
    groups: string[];
    /** No earlier session of this user (still kept, see SESSION_RETENTION_SECONDS) had this user agent. */
    newDevice: boolean;
  };
  'session.refreshed': SessionRef & { ip: string | null };
  'session.reauthenticated': SessionRef & { ip: string | null; groups: string[] };
  /** Signed out: logout, another device, password change, admin removal/disable, reuse. */
  'session.ended': SessionRef & { reason: EndReason };
  /** Timed out (idle, absolute), evicted, superseded, or invalidated by an admin. */
  'session.expired': SessionRef & { reason: EndReason };
  /** A rotated refresh token came back outside the grace window; the session was revoked. */
  'session.reuse_detected': SessionRef & { ip: string | null };
  'user.password_changed': {
    userId: string;
    username: string;
    /** `self`: POST /auth/password (sessionId is the one kept); `admin`: a reset. */
    by: 'self' | 'admin';
    sessionId: string | null;
  };
  /** A password check failed (login, reauth or password change); never says which part was wrong. */
  'login.failed': {
    username: string;
    operation: 'login' | 'reauth' | 'password';
    ip: string | null;
    userAgent: string | null;
  };
}

/** An event as listeners and the webhook receive it. */
export type SessionEvent<N extends SessionEventName = SessionEventName> = {
  [K in N]: {
    /** Unique per event: the webhook's idempotency key. */
    id: string;
    type: K;
    occurredAt: string;
    data: SessionEventPayloads[K];
  };
}[N];

/**
 * Emits the module's lifecycle events through `@nestjs/event-emitter` (`EventEmitter2`), when
 * the host has imported `EventEmitterModule.forRoot()`; without it, events go nowhere. A
 * listener's failure never reaches the request that caused the event: emit is wrapped, and
 * `@OnEvent` handlers suppress their errors by default.
 */
@Injectable()
export class SessionEvents {
  private readonly logger = new Logger(SessionEvents.name);

  constructor(
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    @Optional() private readonly emitter?: EventEmitter2,
  ) {}

  /** Whether anything listens for `name`: callers skip work an unheard event would cost. */
  heard(name: SessionEventName): boolean {
    return !!this.emitter && Boolean(this.emitter.hasListeners(name));
  }

  emit<N extends SessionEventName>(name: N, data: SessionEventPayloads[N]): void {
    if (!this.heard(name)) return;
    const event = {
      id: randomUUID(),
      type: name,
      occurredAt: this.settings.clock.now().toISOString(),
      data,
    } as SessionEvent<N>;
    try {
      this.emitter!.emit(name, event);
    } catch (error) {
      this.logger.warn(`A ${name} listener failed: ${String(error)}`);
    }
  }

  /** One `session.ended` or `session.expired` per session of a bulk change. */
  emitEach(
    name: 'session.ended' | 'session.expired',
    reason: EndReason,
    sessions: readonly { _id: unknown; userId: unknown; username: string }[],
  ): void {
    if (!this.heard(name)) return;
    for (const s of sessions) {
      this.emit(name, {
        sessionId: String(s._id),
        userId: String(s.userId),
        username: s.username,
        reason,
      });
    }
  }
}
