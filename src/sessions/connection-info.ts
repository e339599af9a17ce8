import type { Request } from 'express';
import { isIP } from 'node:net';

export interface ConnectionInfo {
  ip: string | null;
  userAgent: string | null;
}

const MAX_USER_AGENT_LENGTH = 512;

/**
 * The client's IP and user agent, the one place they are read. The IP is Express's `req.ip`,
 * which honours the `trust proxy` setting that `configureApp` applies from TRUST_PROXY (so
 * X-Forwarded-For counts only from trusted proxies). IPv4-mapped IPv6 addresses are shown as
 * plain IPv4.
 */
export function getConnectionInfo(req: Request): ConnectionInfo {
  // With a trusted proxy, req.ip is whatever X-Forwarded-For said, unchecked: any text up to
  // the header limit. What is not an address is not the client's IP; the peer's is kept instead.
  const claimed = req.ip && isIP(req.ip) ? req.ip : undefined;
  const raw = claimed ?? req.socket?.remoteAddress ?? null;
  const ip = raw?.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
  const agent = req.headers?.['user-agent'];
  return {
    ip: ip || null,
    userAgent: agent ? agent.slice(0, MAX_USER_AGENT_LENGTH) : null,
  };
}
