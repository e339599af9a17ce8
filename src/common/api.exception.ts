import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { ErrorBody, ErrorCode } from './error-codes';

/**
 * An HttpException that carries the contract's error `code`. Throw it (or one of the helpers
 * below) anywhere; the global filter turns it into the contract's error shape. Its response is
 * that shape already, so a host app's own routes (guarded by the exported guards) answer in it
 * too when the host registers no filter of ours and Nest's default one sends it as it is.
 */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(
      {
        statusCode: status,
        error: STATUS_CODES[status] ?? 'Error',
        code,
        message,
      } satisfies ErrorBody,
      status,
    );
  }
}

export const badRequest = (message: string) =>
  new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, message);
export const unauthorized = (code: ErrorCode, message: string) =>
  new ApiException(HttpStatus.UNAUTHORIZED, code, message);
export const forbidden = (message = 'Not allowed', code = ErrorCode.FORBIDDEN) =>
  new ApiException(HttpStatus.FORBIDDEN, code, message);
export const notFound = (message = 'Not found') =>
  new ApiException(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, message);
export const conflict = (message: string) =>
  new ApiException(HttpStatus.CONFLICT, ErrorCode.CONFLICT, message);
export const serviceUnavailable = (message = 'The database cannot be reached') =>
  new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE, message);

/** 429 RATE_LIMITED; the error filter sends `Retry-After` with the seconds given. */
export class RateLimitedException extends ApiException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.RATE_LIMITED, message);
  }
}
