/** What the webhook worker needs; built from the environment in src/webhooks/webhooks.module.ts. */
export interface WebhookOptions {
  url: string;
  /** Signs every delivery like a remote call (X-Signature…), with the URL's origin as audience. */
  secret: string;
  /** One delivery attempt may take this long before it counts as failed. */
  timeoutMs: number;
  /** The first retry waits about this long; each later one twice as long, up to maxBackoffMs. */
  retryBaseMs: number;
  maxBackoffMs: number;
  /** After this many failed attempts an event is kept as `failed` and not tried again. */
  maxAttempts: number;
  /** Deliveries in flight at once on this instance. */
  concurrency: number;
  /** How often the worker looks for due entries when nothing wakes it. */
  pollMs: number;
}

export const WEBHOOK_OPTIONS = Symbol('WEBHOOK_OPTIONS');
