import { ErrorCode } from './error-codes';
import {
  errorCodesByStatus,
  errorCodesOf,
  errorResponse,
  STATUS_OF_CODE,
} from './api-errors.decorator';

describe('errorCodesByStatus', () => {
  it('groups explicit codes under their status', () => {
    expect(
      errorCodesByStatus([
        ErrorCode.INVALID_CREDENTIALS,
        ErrorCode.GROUP_FORBIDDEN,
        ErrorCode.TOKEN_MISSING,
      ]),
    ).toEqual(
      new Map([
        [401, [ErrorCode.INVALID_CREDENTIALS, ErrorCode.TOKEN_MISSING]],
        [403, [ErrorCode.GROUP_FORBIDDEN]],
      ]),
    );
  });

  it('expands a bare status to every code sent with it, without duplicates', () => {
    expect(errorCodesByStatus([403, ErrorCode.FORBIDDEN]).get(403)).toEqual([
      ErrorCode.GROUP_FORBIDDEN,
      ErrorCode.FORBIDDEN,
      ErrorCode.CSRF_FAILED,
    ]);
    expect(errorCodesByStatus([400]).get(400)).toEqual([ErrorCode.VALIDATION_FAILED]);
  });

  it('knows a status for every code', () => {
    for (const code of Object.values(ErrorCode)) expect(STATUS_OF_CODE[code]).toBeGreaterThan(399);
  });
});

describe('errorResponse', () => {
  it('is an OpenAPI 3 response: the shared error shape narrowed to the status and codes', () => {
    const r = errorResponse(404, [ErrorCode.NOT_FOUND]);
    expect(r.description).toBe('Not Found: `NOT_FOUND`');
    expect(Object.keys(r)).toEqual(['description', 'content']);
    const schema = r.content['application/json'].schema;
    expect(schema.allOf[0]).toEqual({ $ref: '#/components/schemas/ErrorResponseDto' });
    expect(schema.allOf[1]).toMatchObject({ properties: { statusCode: { enum: [404] } } });
    expect(errorCodesOf(r)).toEqual(['NOT_FOUND']);
  });

  it('finds no codes in a response that is not an error response', () => {
    expect(errorCodesOf({ description: 'down', content: {} })).toEqual([]);
    expect(errorCodesOf({ description: 'ok' })).toEqual([]);
  });
});
