import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { peerConfig, PeerConfig } from '../../../config';
import { unauthorized } from '../../common/api.exception';
import { Clock } from '../../common/clock';
import { ErrorCode } from '../../common/error-codes';
import { ReplayCache } from './replay-cache';
import {
  SIGNATURE_AUDIENCE_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_NONCE_HEADER,
  SIGNATURE_TIMESTAMP_HEADER,
  SignatureFailure,
  verifyRequestSignature,
} from './request-signature';

const MESSAGES: Record<SignatureFailure, string> = {
  missing:
    'X-Signature, X-Signature-Timestamp, X-Signature-Nonce and X-Signature-Audience headers are required',
  malformed:
    'X-Signature must be 64 lowercase hex digits, X-Signature-Timestamp Unix seconds and X-Signature-Nonce 16 to 64 of [A-Za-z0-9_-]',
  stale: 'The signature timestamp is too far from the server clock',
  audience: 'The signature is addressed to another instance',
  mismatch: 'The signature does not match the request',
};

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
 * Admits a remote (peer) call only if it carries a fresh HMAC signature, under one of the
 * PEER_SECRET secrets, of its method, audience, path, timestamp, nonce and raw body, addressed
 * to one of this instance's PEER_SELF origins, with a nonce not accepted before. Without a
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
    if (this.config.secrets.length === 0) {
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
    const nonce = header(req, SIGNATURE_NONCE_HEADER);
    const check = verifyRequestSignature(
      this.config.secrets,
      {
        method: req.method,
        audience: header(req, SIGNATURE_AUDIENCE_HEADER),
        path: pathOf(req),
        timestamp,
        nonce,
        body: req.rawBody ?? Buffer.alloc(0),
      },
      header(req, SIGNATURE_HEADER),
      this.clock.nowMs(),
      this.config.maxClockSkewSeconds,
      this.config.self,
    );
    if (!check.ok) throw unauthorized(ErrorCode.SIGNATURE_INVALID, MESSAGES[check.reason]);
    // Only a verified call spends its nonce, so nobody can burn nonces they could not sign.
    if (!(await this.replays.remember(nonce!, Number(timestamp)))) {
      throw unauthorized(ErrorCode.SIGNATURE_INVALID, 'This nonce was already used (replay)');
    }
    return true;
  }
}
