import type { OpenAPIObject } from '@nestjs/swagger';
import { errorResponseSchema } from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { addCommonResponses } from './openapi';

const codes = (doc: OpenAPIObject, path: string, method: 'get' | 'post', status: number) =>
  (
    doc.paths[path][method]!.responses[status] as unknown as {
      schema: { allOf: [unknown, { properties: { code: { enum: string[] } } }] };
    }
  ).schema.allOf[1].properties.code.enum;

describe('addCommonResponses', () => {
  const document = (): OpenAPIObject => ({
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/open': { post: { responses: { 201: { description: 'ok' } } } },
      '/mine': {
        get: {
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'ok' },
            401: errorResponseSchema(401, [ErrorCode.SIGNATURE_INVALID]),
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
