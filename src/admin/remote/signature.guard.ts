import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { peerConfig, PeerConfig } from '../../../config';
import { unauthorized } from '../../common/api.exception';
import { Clock } from '../../common/clock';
import { ErrorCode } from '../../common/error-codes';
import { ReplayCache } from './replay-cache';
import {
  SIGNATURE_HEADER,
  SIGNATURE_TIMESTAMP_HEADER,
  verifyRequestSignature,
} from './request-signature';

const MESSAGES = {
  missing: 'X-Signature and X-Signature-Timestamp headers are required',
  malformed: 'X-Signature must be 64 lowercase hex digits and X-Signature-Timestamp Unix seconds',
  stale: 'The signature timestamp is too far from the server clock',
  mismatch: 'The signature does not match the request',
} as const;

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}

/** The path exactly as the client sent it (so as it signed it), without the query string. */
function pathOf(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Admits a remote (peer) call only if it carries a fresh HMAC signature of its method, path,
 * timestamp and raw body under PEER_SECRET that has not been accepted before. Without a
 * configured secret every call is refused.
 */
@Injectable()
export class SignatureGuard implements CanActivate {
  private readonly logger = new Logger(SignatureGuard.name);

  constructor(
    @Inject(peerConfig.KEY) private readonly config: PeerConfig,
    private readonly clock: Clock,
    private readonly replays: ReplayCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { rawBody?: Buffer }>();
    if (!this.config.secret) {
      throw unauthorized(ErrorCode.SIGNATURE_INVALID, 'Remote calls are disabled (no PEER_SECRET)');
    }
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 || !!req.headers['transfer-encoding'];
    if (hasBody && !req.rawBody) {
      // The app was created without `rawBody: true`: nothing can be verified, so nothing passes.
      this.logger.error('Remote call refused: the raw request body is not available');
      throw unauthorized(ErrorCode.SIGNATURE_INVALID, MESSAGES.mismatch);
    }
    const timestamp = header(req, SIGNATURE_TIMESTAMP_HEADER);
    const signature = header(req, SIGNATURE_HEADER);
    const check = verifyRequestSignature(
      this.config.secret,
      { method: req.method, path: pathOf(req), timestamp, body: req.rawBody ?? Buffer.alloc(0) },
      signature,
      this.clock.nowMs(),
      this.config.maxClockSkewSeconds,
    );
    if (!check.ok) throw unauthorized(ErrorCode.SIGNATURE_INVALID, MESSAGES[check.reason]);
    if (!(await this.replays.remember(signature!, Number(timestamp)))) {
      throw unauthorized(ErrorCode.SIGNATURE_INVALID, 'This signature was already used');
    }
    return true;
  }
}
