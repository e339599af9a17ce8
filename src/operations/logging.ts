import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import type { AppConfig } from '../../config';
import { requestIdFor } from '../common/request-id';
import { redactSecrets, redactUrl } from '../common/scrub-secrets';

export { REQUEST_ID_HEADER, requestIdFor, requestIdOf } from '../common/request-id';
import type { AuthContext } from '../sessions';

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
  if (config.logLevel === 'silent') return { pinoHttp, forRoutes: [] };
  // nestjs-pino's default route pattern (`{/*splat}`) is not matched by Fastify's middleware
  // layer (middie): no request would be logged there. The pattern every route matches on both.
  return { pinoHttp, forRoutes: [{ path: '*path', method: RequestMethod.ALL }] };
}
