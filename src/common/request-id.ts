import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A client- or proxy-supplied id is kept only if it is short and plain (it lands in log lines). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming `x-request-id` when it is safe to log, else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The request's id, echoed on the response. On Fastify the adapter already chose it
 * (`genReqId`, platform/http-platform.ts) and left it on the raw request: that one is kept, so
 * the log line, the header and a 5xx body all quote the same id.
 */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const preset = (req as IncomingMessage & { id?: unknown }).id;
  const id = typeof preset === 'string' ? preset : requestIdOf(req);
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}
