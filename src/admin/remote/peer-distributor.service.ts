import { Inject, Injectable, Logger } from '@nestjs/common';
import { peerConfig, PeerConfig } from '../../../config';
import { Clock } from '../../common/clock';
import { peerOrigin, signatureHeaders } from './request-signature';

export type RemoteOperation = 'validate' | 'invalidate';

/** Path of the signed remote route for an operation, identical on every instance. */
export const remotePath = (op: RemoteOperation) => `/remote/sessions/${op}`;

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  // fetch wraps socket errors as "fetch failed" with the useful part in `cause`.
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

async function describeResponse(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    if (body.code) return `HTTP ${res.status} ${body.code}: ${body.message ?? ''}`.trim();
  } catch {
    // not the contract's error shape; fall through to the status alone
  }
  return `HTTP ${res.status}`;
}

/**
 * Sends an admin operation to every PEER_HOSTS entry at once, each call signed for that peer
 * alone (its origin as the audience, a nonce of its own) with the first PEER_SECRET, so a call
 * captured on its way to one peer is refused by every other instance. Each call is bounded by
 * PEER_TIMEOUT_MS, so a slow or dead peer delays the answer by at most that long; every failure
 * becomes one `"<peer>: <what went wrong>"` string, never an exception.
 */
@Injectable()
export class PeerDistributor {
  private readonly logger = new Logger(PeerDistributor.name);

  constructor(
    @Inject(peerConfig.KEY) private readonly config: PeerConfig,
    private readonly clock: Clock,
  ) {}

  async distribute(op: RemoteOperation, body: object): Promise<string[]> {
    const { hosts, secrets, timeoutMs } = this.config;
    if (hosts.length === 0) return [];
    const [secret] = secrets;
    if (!secret) return hosts.map((h) => `${h}: not sent, PEER_SECRET is not configured`);
    const path = remotePath(op);
    const payload = JSON.stringify(body);
    const results = await Promise.all(
      hosts.map(async (host): Promise<string[]> => {
        try {
          const res = await fetch(host + path, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              ...signatureHeaders(
                secret,
                { method: 'POST', audience: peerOrigin(host), path, body: payload },
                this.clock.nowMs(),
              ),
            },
            body: payload,
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (!res.ok) return [`${host}: ${await describeResponse(res)}`];
          const answer = (await res.json()) as { errors?: unknown };
          return Array.isArray(answer.errors)
            ? answer.errors.map((e) => `${host}: ${String(e)}`)
            : [];
        } catch (err) {
          return [`${host}: ${describeFailure(err, timeoutMs)}`];
        }
      }),
    );
    const errors = results.flat();
    if (errors.length) this.logger.warn(`${op} distribution: ${errors.join('; ')}`);
    return errors;
  }
}
