import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { ApiException, RateLimitedException } from './api.exception';
import { isDatabaseUnavailable } from './database-unavailable';
import { ErrorBody, ErrorCode } from './error-codes';
import { BodyTooDeepError } from './json-body';
import { redactUrl, scrubSecrets } from './scrub-secrets';

const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.TOKEN_INVALID,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

interface ErrorLike {
  name?: string;
  message?: string;
  code?: number | string;
  type?: string;
  status?: number;
}

function messageOf(response: unknown, fallback: string): string {
  if (typeof response === 'string') return response;
  if (response && typeof response === 'object' && 'message' in response) {
    const m = (response as { message: unknown }).message;
    if (Array.isArray(m)) return m.join('; ');
    if (typeof m === 'string') return m;
  }
  return fallback;
}

/** Maps anything thrown to the contract's status, code and message, without leaking internals. */
export function toErrorBody(thrown: unknown): ErrorBody {
  // Nest >= 12's express adapter wraps body-parser's errors in an HttpException (keeping the
  // original as `cause`); they are answered from the original, as before, so an unreadable body
  // stays 400 VALIDATION_FAILED rather than taking body-parser's 415.
  const exception = bodyParserErrorIn(thrown) ?? thrown;
  if (exception instanceof ApiException) {
    const status = exception.getStatus();
    return body(status, exception.code, messageOf(exception.getResponse(), exception.message));
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code =
      CODE_FOR_STATUS[status] ??
      (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.VALIDATION_FAILED);
    const message =
      status === HttpStatus.TOO_MANY_REQUESTS
        ? 'Too many attempts, try again later'
        : messageOf(exception.getResponse(), exception.message);
    return body(status, code, message);
  }
  const err = (exception ?? {}) as ErrorLike;
  // body-parser's own errors arrive here before any route runs.
  if (exception instanceof BodyTooDeepError) {
    return body(400, ErrorCode.VALIDATION_FAILED, exception.message);
  }
  if (err.type === 'entity.parse.failed') {
    return body(400, ErrorCode.VALIDATION_FAILED, 'The request body is not valid JSON');
  }
  if (err.type === 'entity.too.large' || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return body(413, ErrorCode.PAYLOAD_TOO_LARGE, 'The request body is too large');
  }
  // Any other body-parser refusal (unsupported charset or encoding: 415, aborted: 400) is a
  // body that cannot be read, which the contract answers 400 VALIDATION_FAILED; keeping 415
  // would pair VALIDATION_FAILED with a status the contract does not give it.
  // Fastify's (an unknown content type: 415, a wrong Content-Length: 400) are the same case.
  if (
    (typeof err.type === 'string' &&
      typeof err.status === 'number' &&
      err.status >= 400 &&
      err.status < 500) ||
    isFastifyBodyError(err)
  ) {
    return body(400, ErrorCode.VALIDATION_FAILED, 'The request body could not be read');
  }
  // A body whose Content-Encoding (gzip, deflate, br) does not decompress: body-parser passes
  // zlib's error on with status 400 but no `type`.
  if (
    typeof err.code === 'string' &&
    /^(Z_|ERR_ZLIB|ERR_BROTLI|ERR__ERROR)/.test(err.code) &&
    typeof err.status === 'number' &&
    err.status < 500
  ) {
    return body(400, ErrorCode.VALIDATION_FAILED, 'The request body could not be decompressed');
  }
  if (err.code === 11000) {
    return body(409, ErrorCode.CONFLICT, 'A record with the same unique value already exists');
  }
  if (err.name === 'CastError' || err.name === 'ValidationError' || err.name === 'BSONError') {
    return body(400, ErrorCode.VALIDATION_FAILED, 'A value has the wrong type or format');
  }
  if (isDatabaseUnavailable(exception)) {
    return body(
      503,
      ErrorCode.SERVICE_UNAVAILABLE,
      'The database cannot be reached; try again shortly',
    );
  }
  return body(500, ErrorCode.INTERNAL_ERROR, 'Internal server error');
}

/** What an HTTP adapter wrapped (body-parser's errors on Express, Fastify's own on Fastify). */
function bodyParserErrorIn(exception: unknown): ErrorLike | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  const cause = exception.cause as ErrorLike | undefined;
  if (!cause || typeof cause !== 'object') return undefined;
  return typeof cause.type === 'string' || isFastifyBodyError(cause) ? cause : undefined;
}

/** Fastify's refusals of a request body (`FST_ERR_CTP_*`: type, length, size, emptiness). */
function isFastifyBodyError(err: ErrorLike): boolean {
  return typeof err.code === 'string' && err.code.startsWith('FST_ERR_CTP_');
}

function body(statusCode: number, code: ErrorCode, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', code, message };
}

interface RawResponse {
  headersSent?: boolean;
  destroy?: () => void;
  setHeader?: unknown;
  hasHeader(name: string): boolean;
}

/** The one place that shapes error responses (registered as APP_FILTER). */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<{ id?: string | number; method?: string; url?: string }>();
    const reply = ctx.getResponse<RawResponse | { raw: RawResponse }>();
    // Fastify's reply wraps the Node response; Express's response is one.
    const response = 'raw' in reply ? reply.raw : reply;
    const errorBody = toErrorBody(exception);

    // Express refuses a URL it cannot decode before the request-id middleware runs: the
    // error answer still names one, like every other response.
    if (
      request.id === undefined &&
      'setHeader' in response &&
      !response.hasHeader(REQUEST_ID_HEADER)
    ) {
      request.id = requestIdFor(request as IncomingMessage, response as ServerResponse);
    }
    if (errorBody.statusCode >= 500) {
      errorBody.requestId = request.id !== undefined ? String(request.id) : undefined;
      // Duck-typed: an error from another realm (a vm context) is no `instanceof Error`.
      const stack = (exception as { stack?: unknown } | null)?.stack;
      const detail = typeof stack === 'string' ? stack : String(exception);
      // An unexpected error's text may quote a value it choked on: never let a credential through.
      this.logger.error(
        `${request.method} ${redactUrl(request.url)} failed: ${scrubSecrets(detail ?? '')}`,
      );
    }
    // A streamed response (export) that fails midway cannot change its status any more:
    // cut it so the client sees a truncated transfer instead of a silently short file.
    if (response.headersSent) {
      response.destroy?.();
      return;
    }
    if (exception instanceof RateLimitedException) {
      this.adapterHost.httpAdapter.setHeader(
        reply,
        'Retry-After',
        String(exception.retryAfterSeconds),
      );
    }
    this.adapterHost.httpAdapter.reply(reply, errorBody, errorBody.statusCode);
  }
}
