import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { peerOrigin, signatureHeaders } from '../admin/remote/request-signature';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './webhook.options';
import { WebhookOutboxEntry } from './webhook-outbox.schema';

/** The delay before attempt `attempts + 1`: exponential, capped, with jitter (half to full). */
export function backoffMs(attempts: number, baseMs: number, maxMs: number, random = Math.random) {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp * (0.5 + random() / 2));
}

/**
 * Delivers the outbox to WEBHOOK_URL, off every request path. Each entry is claimed with a
 * lease (one conditional update), so instances sharing a database never send one event at the
 * same time, and an instance killed mid-delivery leaves a claim that lapses and is taken again
 * (the receiver then sees the event twice, with one idempotency key). Success deletes the
 * entry; failure schedules a retry with backoff; after `maxAttempts` it stays as `failed`.
 * Times here are wall-clock: they pace real network retries, not session rules.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly audience: string;
  private readonly path: string;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly deliveries = new Set<Promise<void>>();
  private stopped = true;
  private draining = false;
  private wokenWhileDraining = false;

  constructor(
    @InjectModel(WebhookOutboxEntry.name) private readonly outbox: Model<WebhookOutboxEntry>,
    @Inject(WEBHOOK_OPTIONS) private readonly configured: WebhookOptions | null,
  ) {
    this.audience = configured ? peerOrigin(configured.url) : '';
    this.path = configured ? new URL(configured.url).pathname : '';
  }

  /** Only called once `configured` is known to be set. */
  private get options(): WebhookOptions {
    return this.configured!;
  }

  onApplicationBootstrap(): void {
    if (!this.configured) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // A delivery cut short here is retried after its lease (by this or another instance).
    await Promise.allSettled([...this.deliveries]);
  }

  /** Looks for due entries now (after a write, on the poll timer). */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wokenWhileDraining = true;
      return;
    }
    this.draining = true;
    void this.drain()
      .catch((error: unknown) => this.logger.warn(`Webhook outbox read failed: ${String(error)}`))
      .finally(() => {
        this.draining = false;
        if (this.wokenWhileDraining) {
          this.wokenWhileDraining = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.inFlight < this.options.concurrency) {
      const entry = await this.claim();
      if (!entry) return;
      this.inFlight++;
      const delivery = this.deliver(entry).finally(() => {
        this.inFlight--;
        this.deliveries.delete(delivery);
        this.wake();
      });
      this.deliveries.add(delivery);
    }
  }

  private claim(): Promise<WebhookOutboxEntry | null> {
    const now = new Date();
    return this.outbox
      .findOneAndUpdate(
        {
          state: 'pending',
          nextAttemptAt: { $lte: now },
          $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
        },
        {
          $set: { leaseUntil: new Date(now.getTime() + this.leaseMs()) },
          $inc: { attempts: 1 },
        },
        { sort: { nextAttemptAt: 1, _id: 1 }, returnDocument: 'after' },
      )
      .lean<WebhookOutboxEntry>()
      .exec();
  }

  /** Longer than one attempt can take, so a live delivery is never taken over. */
  private leaseMs(): number {
    return this.options.timeoutMs * 2 + 1000;
  }

  private async deliver(entry: WebhookOutboxEntry): Promise<void> {
    let failure: string | null = null;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': entry._id,
          'X-Event-Id': entry._id,
          'X-Event-Type': entry.type,
          ...signatureHeaders(
            this.options.secret,
            { method: 'POST', audience: this.audience, path: this.path, body: entry.body },
            Date.now(),
          ),
        },
        body: entry.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // The body is not needed; reading it frees the connection.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) failure = `HTTP ${res.status}`;
    } catch (error) {
      failure = (error as Error).name === 'TimeoutError' ? 'timed out' : String(error);
    }
    // `attempts` fences the claim: if the lease lapsed and another instance took the entry,
    // these writes match nothing.
    const mine = { _id: entry._id, attempts: entry.attempts };
    try {
      if (failure === null) {
        await this.outbox.deleteOne(mine);
        return;
      }
      const giveUp = entry.attempts >= this.options.maxAttempts;
      const next =
        Date.now() + backoffMs(entry.attempts, this.options.retryBaseMs, this.options.maxBackoffMs);
      await this.outbox.updateOne(mine, {
        $set: {
          leaseUntil: null,
          lastError: failure.slice(0, 500),
          nextAttemptAt: new Date(next),
          ...(giveUp ? { state: 'failed' } : {}),
        },
      });
      const what = `Webhook ${entry.type} ${entry._id} attempt ${entry.attempts} failed (${failure})`;
      this.logger.warn(giveUp ? `${what}; giving up` : what);
    } catch (error) {
      this.logger.warn(`Recording webhook delivery of ${entry._id} failed: ${String(error)}`);
    }
  }
}
