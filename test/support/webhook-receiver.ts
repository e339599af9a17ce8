import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRequestSignature } from '../../src/admin/remote/request-signature';

export interface Delivery {
  key: string;
  type: string;
  body: string;
  event: { id: string; type: string; occurredAt: string; data: Record<string, unknown> };
  signatureOk: boolean;
}

/** How the receiver answers a delivery: a status, or `hang` (never answers until closed). */
export type Answer = number | 'hang';

/**
 * A webhook receiver on a free local port: records every delivery (checking its signature
 * against `secret` like a peer checks a remote call) and answers as `answer` says.
 */
export async function startWebhookReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  let answer: (d: Delivery, attempt: number) => Answer = () => 200;
  const attempts = new Map<string, number>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => req.headers[name] as string | undefined;
      const signatureOk = verifyRequestSignature(
        [secret],
        {
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0],
          body: raw,
          timestamp: header('x-signature-timestamp'),
          nonce: header('x-signature-nonce'),
          audience: header('x-signature-audience'),
        },
        header('x-signature'),
        Date.now(),
        300,
        [origin],
      ).ok;
      const body = raw.toString('utf8');
      const delivery: Delivery = {
        key: header('idempotency-key') ?? '',
        type: header('x-event-type') ?? '',
        body,
        event: JSON.parse(body),
        signatureOk,
      };
      const attempt = (attempts.get(delivery.key) ?? 0) + 1;
      attempts.set(delivery.key, attempt);
      deliveries.push(delivery);
      waiters.forEach((w) => w());
      const a = answer(delivery, attempt);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/hooks/sessions`,
    deliveries,
    /** Distinct events by idempotency key (what a receiver that dedupes keeps). */
    unique: () => [...new Map(deliveries.map((d) => [d.key, d])).values()],
    answer: (fn: (d: Delivery, attempt: number) => Answer) => (answer = fn),
    /** Resolves once `check()` holds (re-checked on every delivery and every 50 ms). */
    waitFor: (check: () => boolean, what: string, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => run(), 50);
        const timer = setTimeout(() => {
          done();
          reject(new Error(`webhook receiver: timed out waiting for ${what}`));
        }, timeoutMs);
        const done = () => {
          clearInterval(poll);
          clearTimeout(timer);
          waiters.delete(run);
        };
        const run = () => {
          if (check()) {
            done();
            resolve();
          }
        };
        waiters.add(run);
        run();
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
