import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { appConfig, AppConfig, authConfig, AuthConfig } from '../config';
import { jsonBodyReviver } from './common/json-body';
import { setupOpenApi } from './operations/openapi';

/**
 * Express-level settings shared by main.ts and the e2e tests, so both serve the same app.
 * Call before `init()`/`listen()`.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<AppConfig>(appConfig.KEY);

  // `trust proxy` decides what `req.ip` (and so the session's recorded IP and the login rate
  // limit key) is: only with TRUST_PROXY set does X-Forwarded-For count.
  app.set('trust proxy', config.trustProxy);
  if (config.trustProxy === true) {
    // Refused in production (config/env.validation.ts); tolerated elsewhere, loudly.
    new Logger('Bootstrap').warn(
      'TRUST_PROXY=true: any client can choose its IP (and rate-limit key) with X-Forwarded-For; set a hop count or the proxy subnets instead',
    );
  }

  // Security headers. The CSP is helmet's default (scripts from 'self' only; Swagger UI loads
  // its scripts as files, so /docs works under it) minus upgrade-insecure-requests, which
  // would make a browser fetch /docs' assets over https from a plain-http deployment.
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );

  // CORS only for the configured origins; with none, no CORS headers at all (same-origin only).
  // With cookie transport, a listed origin of the same site (app.example.com calling
  // api.example.com) sends the cookies (credentials) and the CSRF header.
  const cookies = app.get<AuthConfig>(authConfig.KEY).tokenTransport !== 'header';
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: cookies,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'X-CSRF-Token'],
      exposedHeaders: ['X-Request-Id'],
      maxAge: 600,
    });
  }

  // Registered before Nest's defaults, which are then skipped (same parser names). The reviver
  // bounds nesting before any pipe or class-transformer sees the body. A JSON merge patch
  // (RFC 7396) is JSON: PATCH /sessions/current/data applies exactly those semantics.
  app.useBodyParser('json', {
    limit: config.bodyLimit,
    reviver: jsonBodyReviver(),
    type: ['application/json', 'application/merge-patch+json'],
  });
  app.useBodyParser('urlencoded', { limit: config.bodyLimit, extended: true });

  setupOpenApi(app);
}
