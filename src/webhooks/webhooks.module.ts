import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { webhookConfig, type WebhookConfig } from '../../config';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookOutboxSchema, WebhookOutboxEntry } from './webhook-outbox.schema';
import { WebhookOutboxWriter } from './webhook-outbox.writer';
import { WEBHOOK_OPTIONS, type WebhookOptions } from './webhook.options';

/**
 * Session events to WEBHOOK_URL through an outbox collection. Without WEBHOOK_URL the options
 * are null: nothing subscribes, nothing is written, no worker runs.
 */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: WebhookOutboxEntry.name, schema: WebhookOutboxSchema }]),
  ],
  providers: [
    {
      provide: WEBHOOK_OPTIONS,
      inject: [webhookConfig.KEY],
      useFactory: (config: WebhookConfig): WebhookOptions | null =>
        config.url && config.secret
          ? {
              url: config.url,
              secret: config.secret,
              timeoutMs: config.timeoutMs,
              retryBaseMs: config.retryBaseMs,
              maxBackoffMs: 3_600_000,
              maxAttempts: config.maxAttempts,
              concurrency: 4,
              pollMs: config.pollMs,
            }
          : null,
    },
    WebhookDeliveryWorker,
    WebhookOutboxWriter,
  ],
})
export class WebhooksModule {}
