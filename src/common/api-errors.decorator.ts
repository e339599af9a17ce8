import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from './openapi';
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
  [ErrorCode.REAUTH_REQUIRED]: 401,
  [ErrorCode.GROUP_FORBIDDEN]: 403,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.CSRF_FAILED]: 403,
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

/** The shared error shape narrowed to one status and the codes a route sends with it. */
export function errorSchema(status: number, codes: ErrorCode[]) {
  return {
    allOf: [
      { $ref: getSchemaPath(ErrorResponseDto) },
      {
        type: 'object',
        properties: {
          statusCode: { type: 'number', enum: [status] },
          code: { type: 'string', enum: codes },
        },
      },
    ],
  };
}

/** The description of an error response: the reason phrase and the codes, so a reader sees them at a glance. */
export function errorDescription(status: number, codes: ErrorCode[]): string {
  return `${STATUS_CODES[status] ?? 'Error'}: ${codes.map((c) => `\`${c}\``).join(', ')}`;
}

/**
 * The OpenAPI 3 response object for one error status (`content` keyed by media type, never
 * OpenAPI 2's bare `schema`), as `@ApiErrors` and the common responses in openapi.ts write it.
 */
export function errorResponse(status: number, codes: ErrorCode[]) {
  return {
    description: errorDescription(status, codes),
    content: { 'application/json': { schema: errorSchema(status, codes) } },
  };
}

/**
 * The codes an error response built by `errorResponse` or `@ApiErrors` carries; [] for any other
 * response (e.g. /health's own 503 body).
 */
export function errorCodesOf(response: unknown): ErrorCode[] {
  const content =
    (response as { content?: Record<string, { schema?: unknown }> } | undefined)?.content ?? {};
  const schema = content['application/json']?.schema as
    { allOf?: [unknown, { properties?: { code?: { enum?: ErrorCode[] } } }] } | undefined;
  return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

/**
 * The one way routes document their errors, in the contract's error shape with the exact codes:
 * `@ApiErrors(ErrorCode.INVALID_CREDENTIALS, ErrorCode.GROUP_FORBIDDEN, 400)`. A bare status
 * stands for every code sent with it. 500 and 503 are added to every route by the OpenAPI setup,
 * and the bearer errors (401) to every route that needs a token; `test/docs.e2e-spec.ts` fails
 * on an error response documented any other way.
 */
export function ApiErrors(...items: (ErrorCode | number)[]): MethodDecorator & ClassDecorator {
  // `content` given whole: errors are JSON even on a route that also produces CSV.
  const decorators = [...errorCodesByStatus(items)].map(([status, codes]) =>
    ApiResponse({ status, ...errorResponse(status, codes) }),
  );
  return applyDecorators(ApiExtraModels(ErrorResponseDto), ...decorators);
}
