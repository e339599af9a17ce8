import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BEARER_ERRORS,
  errorCodesByStatus,
  errorCodesOf,
  errorResponse,
} from '../common/api-errors.decorator';
import { ErrorCode } from '../common/error-codes';
import { ErrorResponseDto } from '../common/error-response.dto';

export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/**
 * Adds what every route shares, so that route authors only declare what is particular to
 * theirs: a 503 (database unreachable) and a 500 on every operation, the bearer errors on every
 * operation that needs a token (and 403 CSRF_FAILED on those that change state), and 400 (malformed JSON) and 413 (over BODY_LIMIT) on every
 * operation that takes a body.
 */
export function addCommonResponses(document: OpenAPIObject): OpenAPIObject {
  const common = errorCodesByStatus([ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL_ERROR]);
  const bearer = errorCodesByStatus([...BEARER_ERRORS]);
  // With cookie transport, a state-changing request authenticated by the cookie needs X-CSRF-Token.
  const csrf = errorCodesByStatus([ErrorCode.CSRF_FAILED]);
  const body = errorCodesByStatus([ErrorCode.VALIDATION_FAILED, ErrorCode.PAYLOAD_TOO_LARGE]);
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation) continue;
      const needsToken = (operation.security ?? []).some((s) => 'bearer' in s);
      const shared = [
        ...common,
        ...(needsToken ? bearer : []),
        ...(needsToken && method !== 'get' && method !== 'head' && method !== 'options'
          ? csrf
          : []),
        ...(operation.requestBody ? body : []),
      ];
      for (const [status, codes] of shared) {
        const existing = operation.responses[status] as object | undefined;
        const declared = existing ? errorCodesOf(existing) : [];
        // A route that documents this status with a body of its own (/health's 503) keeps it.
        if (existing && declared.length === 0) continue;
        operation.responses[status] = errorResponse(status, [...new Set([...declared, ...codes])]);
      }
    }
  }
  return document;
}

/**
 * The version in package.json, found by walking up from this file (it sits at a different depth
 * under src/ and dist/src/; importing the JSON would copy it into dist/).
 */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nest-sessions')
    .setDescription(
      'Multi-device session management. Log in at `POST /auth/login`, then send the access ' +
        'token as `Authorization: Bearer <token>`. Every error has the shape `ErrorResponse` ' +
        'with a machine-readable `code`.',
    )
    .setVersion(packageVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] });
  return addCommonResponses(document);
}

/** Swagger UI at /docs and the OpenAPI document at /docs-json (both public, no token). */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const document = createOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'nest-sessions API',
  });
  return document;
}
