import type { OpenAPIObject } from '@nestjs/swagger';
import { errorCodesOf, errorResponse } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { addCommonResponses } from './openapi';

const codes = (doc: OpenAPIObject, path: string, method: 'get' | 'post', status: number) =>
  errorCodesOf(doc.paths[path][method]!.responses[status]);

describe('addCommonResponses', () => {
  const document = (): OpenAPIObject => ({
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/open': { post: { responses: { 201: { description: 'ok' } } } },
      '/upload': {
        put: {
          requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { 200: { description: 'ok' } },
        },
      },
      '/mine': {
        get: {
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'ok' },
            401: errorResponse(401, [ErrorCode.SIGNATURE_INVALID]),
          },
        },
      },
      '/health': {
        get: { responses: { 503: { description: 'down', content: {} } } },
      },
    },
  });

  it('adds 500 and 503 to every operation', () => {
    const doc = addCommonResponses(document());
    expect(codes(doc, '/open', 'post', 503)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(codes(doc, '/open', 'post', 500)).toEqual(['INTERNAL_ERROR']);
    expect(doc.paths['/open'].post!.responses[401]).toBeUndefined();
    expect(doc.paths['/open'].post!.responses[413]).toBeUndefined();
  });

  it('writes each added error in the OpenAPI 3 shape: content by media type, no bare schema', () => {
    const response = addCommonResponses(document()).paths['/open'].post!.responses[503] as object;
    expect(Object.keys(response)).toEqual(['description', 'content']);
    expect(Object.keys((response as { content: object }).content)).toEqual(['application/json']);
  });

  it('adds 400 and 413 to routes that take a body', () => {
    const doc = addCommonResponses(document());
    const put = (status: number) => errorCodesOf(doc.paths['/upload'].put!.responses[status]);
    expect(put(400)).toEqual(['VALIDATION_FAILED']);
    expect(put(413)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('adds the bearer errors to routes that need a token, keeping codes already declared', () => {
    const doc = addCommonResponses(document());
    expect(codes(doc, '/mine', 'get', 401)).toEqual([
      'SIGNATURE_INVALID',
      'TOKEN_MISSING',
      'TOKEN_INVALID',
      'SESSION_EXPIRED',
      'SESSION_ENDED',
    ]);
  });

  it('leaves a status a route documents its own way alone', () => {
    const doc = addCommonResponses(document());
    expect(doc.paths['/health'].get!.responses[503]).toEqual({ description: 'down', content: {} });
  });
});
