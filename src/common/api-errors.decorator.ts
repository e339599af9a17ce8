import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { ErrorCode } from './error-codes';
import { ErrorResponseDto } from './error-response.dto';

/** The HTTP status each contract error code is sent with. */
export const STATUS_OF_CODE: Record<ErrorCode, number> = {
  [ErrorCode.VALIDATION_FAILED]: 400,
  [ErrorCode.INVALID_CREDENTIALS]: 401,
  [ErrorCode.TOKEN_MISSING]: 401,
  [ErrorCode.TOKEN_INVALID]: 401,
  [ErrorCode.SESSION_EXPIRED]: 401,
  [ErrorCode.SESSION_ENDED]: 401,
  [ErrorCode.REFRESH_TOKEN_INVALID]: 401,
  [ErrorCode.REFRESH_TOKEN_REUSED]: 401,
  [ErrorCode.SIGNATURE_INVALID]: 401,
  [ErrorCode.GROUP_FORBIDDEN]: 403,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.INTERNAL_ERROR]: 500,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

/** What a bearer-protected route answers when the token or its session is not good. */
export const BEARER_ERRORS = [
  ErrorCode.TOKEN_MISSING,
  ErrorCode.TOKEN_INVALID,
  ErrorCode.SESSION_EXPIRED,
  ErrorCode.SESSION_ENDED,
] as const;

/** Groups codes (and bare statuses, meaning every code of that status) by status. */
export function errorCodesByStatus(items: (ErrorCode | number)[]): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  const add = (status: number, codes: ErrorCode[]) =>
    byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), ...codes])]);
  for (const item of items) {
    if (typeof item === 'number') {
      const codes = Object.values(ErrorCode).filter((c) => STATUS_OF_CODE[c] === item);
      add(item, codes);
    } else {
      add(STATUS_OF_CODE[item], [item]);
    }
  }
  return byStatus;
}

/** The OpenAPI response object for one status: the error shape with `code` narrowed. */
export function errorResponseSchema(status: number, codes: ErrorCode[]) {
  return {
    description: `${STATUS_CODES[status] ?? 'Error'}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
    schema: {
      allOf: [
        { $ref: getSchemaPath(ErrorResponseDto) },
        {
          properties: {
            statusCode: { type: 'number', enum: [status] },
            code: { type: 'string', enum: codes },
          },
        },
      ],
    },
  };
}

/**
 * Documents the error responses of a route, in the contract's error shape with the exact
 * codes: `@ApiErrors(ErrorCode.INVALID_CREDENTIALS, ErrorCode.GROUP_FORBIDDEN, 400)`. A bare
 * status stands for every code sent with it. 500 and 503 are added to every route by the
 * OpenAPI setup, and the bearer errors (401) to every route that needs a token.
 */
export function ApiErrors(...items: (ErrorCode | number)[]): MethodDecorator & ClassDecorator {
  const decorators = [...errorCodesByStatus(items)].map(([status, codes]) =>
    ApiResponse({ status, ...errorResponseSchema(status, codes) }),
  );
  return applyDecorators(ApiExtraModels(ErrorResponseDto), ...decorators);
}
