import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import type { AppConfig } from '../../config';
import { redactSecrets, redactUrl } from '../common/scrub-secrets';
import type { AuthContext } from '../sessions';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A client- or proxy-supplied id is kept only if it is short and plain (it lands in log lines). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Every place a credential can appear in what pino-http serialises. Bodies are never logged;
 * the body paths are there for any code that logs an object carrying one (`*` = any key).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  'refreshToken',
  'accessToken',
  'csrfToken',
  'refreshHash',
  'refreshHistory',
  '*.password',
  '*.refreshToken',
  '*.accessToken',
  '*.csrfToken',
  '*.refreshHash',
  '*.refreshHistory',
];

/** pino-http's serialised request, with the URL and query redacted and secret-named fields. */
function serializeRequest(req: Record<string, unknown>): unknown {
  const { query: _query, ...rest } = req;
  return redactSecrets({ ...rest, url: redactUrl(req.url as string | undefined) });
}

/** The incoming `x-request-id` when it is safe to log, else a fresh UUID; echoed on the response. */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id =
    typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/**
 * Who made the request, once a guard has said so (the response line is written last). On the
 * login route `auth` holds the user alone: the session does not exist until the handler runs.
 */
export function authProps(req: IncomingMessage): Record<string, string> {
  const auth = (req as IncomingMessage & { auth?: Partial<AuthContext> }).auth;
  return {
    ...(auth?.user ? { userId: auth.user.id } : {}),
    ...(auth?.session ? { sessionId: auth.session.id } : {}),
  };
}

/**
 * The request id alone, for `LOG_LEVEL=silent`: pino-http is not installed then (it builds a
 * child logger and serialises the request on every request even when nothing is written), yet
 * responses still carry X-Request-Id and a 5xx body still quotes it.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  (req as IncomingMessage & { id?: string }).id = requestIdFor(req, res);
  next();
}

/**
 * nestjs-pino settings: JSON lines on stdout (or `destination`), one per request and event. At
 * `silent` the HTTP logger is mounted on no route (see assignRequestId); the logger itself stays.
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  const options: Options = {
    level: config.logLevel,
    genReqId: requestIdFor,
    customProps: authProps,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: serializeRequest,
      // The response's status is what matters; its headers (helmet's dozen) would double each line.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // Whatever else is logged (an object given to logger.info, an error's extra fields).
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
  };
  const pinoHttp: Params['pinoHttp'] = destination ? [options, destination] : options;
  return config.logLevel === 'silent' ? { pinoHttp, forRoutes: [] } : { pinoHttp };
}
