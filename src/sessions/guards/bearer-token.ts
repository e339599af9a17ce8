import type { Request } from 'express';

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(request: Request): string | null {
  const header = request.headers?.authorization;
  if (!header) return null;
  const match = BEARER.exec(header);
  return match ? match[1] : null;
}
