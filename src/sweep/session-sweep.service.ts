import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Types } from 'mongoose';
import { sweepConfig, SweepConfig } from '../../config';
import { Clock } from '../common/clock';
import {
  effectiveState,
  type OverdueSession,
  SESSION_SETTINGS,
  type SessionSettings,
  SessionStore,
} from '../sessions';
import { LeaseService } from './lease.service';

export const SWEEP_LEASE = 'session-sweep';

/**
 * After each batch the sweep rests as long as the batch took (capped), so it never takes more
 * than about half of the database's attention from live requests, whatever the database's
 * speed; a backlog is worked off at half speed rather than at the expense of latency.
 */
const REST_PER_BATCH_TIME = 1;
const MAX_REST_MS = 1000;

export interface SweepResult {
  /** Active sessions marked expired because they went unused for the idle timeout. */
  expiredIdle: number;
  /** Active sessions marked expired because they reached their absolute deadline. */
  expiredAbsolute: number;
  /** Expired or ended sessions deleted because they outlived the retention period. */
  deleted: number;
  /** Database round trips of work (select + write), for judging the batch size. */
  batches: number;
  durationMs: number;
  /** Set when this run did nothing because it could not, or may no longer, do the work. */
  skipped?: 'lease-held' | 'already-running' | 'shutting-down';
  /** Set when the run stopped early: the lease was taken over mid-run, or the app is stopping. */
  aborted?: 'lease-lost' | 'shutting-down';
}

const emptyResult = (): SweepResult => ({
  expiredIdle: 0,
  expiredAbsolute: 0,
  deleted: 0,
  batches: 0,
  durationMs: 0,
});

/** Splits overdue sessions by the deadline they reached first (as `effectiveState` decides). */
function byReason(batch: OverdueSession[], now: Date, idleSeconds: number) {
  const absolute: Types.ObjectId[] = [];
  const idle: Types.ObjectId[] = [];
  for (const s of batch) {
    const eff = effectiveState(
      {
        state: 'active',
        endReason: null,
        expiredAt: null,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
      },
      now,
      idleSeconds,
    );
    if (eff.endReason === 'absolute_timeout') absolute.push(s._id);
    else if (eff.endReason === 'idle_timeout') idle.push(s._id);
  }
  return { absolute, idle };
}

/**
 * Expires sessions past their idle or absolute deadline and deletes ended ones past retention.
 * Work happens in batches of SWEEP_BATCH_SIZE ids, each one select and one bulk write that
 * re-checks the condition (a session touched in between is left alone), resting between
 * batches so that requests interleave with a long sweep instead of queueing behind it. Only the holder
 * of the cluster-wide lease sweeps, and one instance never runs two sweeps at once.
 */
@Injectable()
export class SessionSweepService {
  private readonly logger = new Logger(SessionSweepService.name);
  /** Unique per running instance, so the lease tells instances (and restarts) apart. */
  readonly holderId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private current: Promise<SweepResult> | null = null;
  private stopping = false;

  constructor(
    private readonly sessions: SessionStore,
    private readonly leases: LeaseService,
    private readonly clock: Clock,
    @Inject(SESSION_SETTINGS) private readonly sessionCfg: SessionSettings,
    @Inject(sweepConfig.KEY) private readonly sweepCfg: SweepConfig,
  ) {}

  /** Runs one sweep now (unless one is already running here or elsewhere) and reports it. */
  async sweepOnce(): Promise<SweepResult> {
    const started = performance.now();
    if (this.current) return this.finish(emptyResult(), started, 'already-running');
    if (this.stopping) return this.finish(emptyResult(), started, 'shutting-down');
    this.current = this.locked(started);
    try {
      return await this.current;
    } finally {
      this.current = null;
    }
  }

  /** Makes a running sweep stop at its next batch boundary and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.current?.catch(() => undefined);
  }

  private async locked(started: number): Promise<SweepResult> {
    const result = emptyResult();
    try {
      const ttlMs = this.sweepCfg.leaseSeconds * 1000;
      if (!(await this.leases.tryAcquire(SWEEP_LEASE, this.holderId, ttlMs))) {
        return this.finish(result, started, 'lease-held');
      }
      try {
        await this.run(result, ttlMs);
      } finally {
        await this.leases.release(SWEEP_LEASE, this.holderId).catch((error: unknown) => {
          // The lease lapses on its own; the next run anywhere takes it after leaseSeconds.
          this.logger.warn({ msg: 'could not release the sweep lease', err: String(error) });
        });
      }
      return this.finish(result, started);
    } catch (error) {
      this.logger.error({
        msg: 'session sweep failed',
        ...result,
        durationMs: Math.round(performance.now() - started),
        err: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  private async run(result: SweepResult, ttlMs: number): Promise<void> {
    // One instant for the whole run, so every batch applies the same deadlines.
    const now = this.clock.now();
    this.logger.debug({ msg: 'session sweep started', holder: this.holderId, now });
    const idleSeconds = this.sessionCfg.idleTimeoutSeconds;
    const limit = this.sweepCfg.batchSize;

    // The same conditions every reader applies (session-state.ts, through the store), so the
    // sweep writes down exactly what the guard and the listings already treat as expired.
    for (;;) {
      const batchStarted = performance.now();
      const batch = await this.sessions.overdueBatch(now, limit);
      if (batch.length === 0) break;
      const { absolute, idle } = byReason(batch, now, idleSeconds);
      const expired = await this.sessions.expireOverdue(absolute, idle, now);
      result.batches += 1;
      result.expiredAbsolute += expired.absolute;
      result.expiredIdle += expired.idle;
      const stop = await this.between(ttlMs, batchStarted);
      if (stop) {
        result.aborted = stop;
        return;
      }
      // A short batch was the last one; a batch that changed nothing means the rest is being
      // changed by someone else right now, and looping on it would spin.
      if (batch.length < limit || expired.absolute + expired.idle === 0) break;
    }

    for (;;) {
      const batchStarted = performance.now();
      const ids = await this.sessions.retiredBatch(now, limit);
      if (ids.length === 0) break;
      const deletedCount = await this.sessions.deleteRetired(ids, now);
      result.batches += 1;
      result.deleted += deletedCount;
      const stop = await this.between(ttlMs, batchStarted);
      if (stop) {
        result.aborted = stop;
        return;
      }
      if (ids.length < limit || deletedCount === 0) break;
    }
  }

  /**
   * Between batches: rests (see REST_PER_BATCH_TIME), then renews the lease. Returns why the run
   * must stop, if it must.
   */
  private async between(ttlMs: number, batchStarted: number): Promise<SweepResult['aborted']> {
    const restMs = Math.min(MAX_REST_MS, (performance.now() - batchStarted) * REST_PER_BATCH_TIME);
    await new Promise<void>((resolve) => setTimeout(resolve, restMs));
    if (this.stopping) return 'shutting-down';
    if (!(await this.leases.tryAcquire(SWEEP_LEASE, this.holderId, ttlMs))) return 'lease-lost';
    return undefined;
  }

  private finish(
    result: SweepResult,
    started: number,
    skipped?: SweepResult['skipped'],
  ): SweepResult {
    result.durationMs = Math.round(performance.now() - started);
    if (skipped) {
      result.skipped = skipped;
      this.logger.debug({ msg: 'session sweep skipped', reason: skipped });
    } else {
      this.logger.log({ msg: 'session sweep finished', ...result });
    }
    return result;
  }
}
