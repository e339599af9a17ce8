import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One event waiting for (or given up on) delivery to WEBHOOK_URL. `_id` is the event's id, so
 * writing an event twice is a duplicate-key no-op, and the receiver's idempotency key is the
 * same on every attempt. Delivered events are deleted.
 */
@Schema({ collection: 'webhook_outbox', versionKey: false })
export class WebhookOutboxEntry {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: String, required: true })
  type: string;

  /** The JSON sent, fixed when the event is written: every attempt signs the same bytes. */
  @Prop({ type: String, required: true })
  body: string;

  @Prop({ type: String, enum: ['pending', 'failed'], default: 'pending' })
  state: 'pending' | 'failed';

  @Prop({ type: Date, required: true })
  createdAt: Date;

  /** Not before this: the backoff after a failed attempt. */
  @Prop({ type: Date, required: true })
  nextAttemptAt: Date;

  /** Attempts started; also the claim's fencing token (a stale claim's writes match nothing). */
  @Prop({ type: Number, default: 0 })
  attempts: number;

  /** Claimed by a delivering instance until then; a crashed instance's claim lapses. */
  @Prop({ type: Date, default: null })
  leaseUntil: Date | null;

  @Prop({ type: String, default: null })
  lastError: string | null;
}

export const WebhookOutboxSchema = SchemaFactory.createForClass(WebhookOutboxEntry);

// the delivery worker: the oldest pending entry that is due
WebhookOutboxSchema.index({ state: 1, nextAttemptAt: 1 });
