import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { SESSION_EVENT_NAMES, type SessionEvent } from '../sessions';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookOutboxEntry } from './webhook-outbox.schema';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './webhook.options';

/**
 * Writes every session event to the outbox. Events raised while a request runs are gathered
 * and written with one insertMany on the next turn of the event loop: the request pays for a
 * push onto an array, never for a database round trip, and a failed write is logged, never
 * thrown at the request. Shutdown waits for what is gathered to be written.
 */
@Injectable()
export class WebhookOutboxWriter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(WebhookOutboxWriter.name);
  private pending: WebhookOutboxEntry[] = [];
  private flushing: Promise<void> | null = null;
  private readonly listener = (event: SessionEvent) => this.enqueue(event);

  constructor(
    @InjectModel(WebhookOutboxEntry.name) private readonly outbox: Model<WebhookOutboxEntry>,
    private readonly emitter: EventEmitter2,
    private readonly worker: WebhookDeliveryWorker,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions | null,
  ) {}

  onModuleInit(): void {
    if (!this.options) return;
    for (const name of SESSION_EVENT_NAMES) this.emitter.on(name, this.listener);
  }

  async onModuleDestroy(): Promise<void> {
    for (const name of SESSION_EVENT_NAMES) this.emitter.off(name, this.listener);
    await this.flush();
  }

  enqueue(event: SessionEvent): void {
    const now = new Date();
    this.pending.push({
      _id: event.id,
      type: event.type,
      body: JSON.stringify(event),
      state: 'pending',
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      leaseUntil: null,
      lastError: null,
    });
    if (this.pending.length === 1) setImmediate(() => void this.flush());
  }

  /** Writes what is gathered; resolves when every gathered event is written (or logged lost). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.write(batch).finally(() => (this.flushing = null));
    await this.flushing;
  }

  private async write(batch: WebhookOutboxEntry[]): Promise<void> {
    try {
      await this.outbox.insertMany(batch, { ordered: false });
    } catch (error) {
      // A duplicate id is an event already written; anything else is lost and said so.
      const code = (error as { code?: number }).code;
      if (code !== 11000) {
        this.logger.error(
          `Writing ${batch.length} webhook event(s) to the outbox failed: ${String(error)}`,
        );
      }
    }
    this.worker.wake();
  }
}
