import { type INestApplication, Logger } from '@nestjs/common';
import { appConfig, AppConfig, authConfig, AuthConfig } from '../config';
import { setupOpenApi } from './operations/openapi';
import { configurePlatform } from './platform/http-platform';

export { createHttpAdapter, type NestHttpApplication } from './platform/http-platform';

/**
 * App-level settings shared by main.ts and the e2e tests, so both serve the same app, on
 * either HTTP platform (the adapter comes from `createHttpAdapter()`). Call before
 * `init()`/`listen()`.
 */
export function configureApp(app: INestApplication): void {
  const config = app.get<AppConfig>(appConfig.KEY);

  configurePlatform(app, config);
  if (config.trustProxy === true) {
    // Refused in production (config/env.validation.ts); tolerated elsewhere, loudly.
    new Logger('Bootstrap').warn(
      'TRUST_PROXY=true: any client can choose its IP (and rate-limit key) with X-Forwarded-For; set a hop count or the proxy subnets instead',
    );
  }

  // Security headers, the same on both platforms and on every response (404s and errors
  // included): Nest's built-in set, helmet 8's headers and defaults, computed once at start.
  // The CSP is the default (scripts from 'self' only; Swagger UI loads its scripts as files,
  // so /docs works under it) minus upgrade-insecure-requests, which would make a browser
  // fetch /docs' assets over https from a plain-http deployment.
  app.useSecurityHeaders({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });

  // CORS only for the configured origins; with none, no CORS headers at all (same-origin only).
  // With cookie transport, a listed origin of the same site (app.example.com calling
  // api.example.com) sends the cookies (credentials) and the CSRF header.
  const cookies = app.get<AuthConfig>(authConfig.KEY).tokenTransport !== 'header';
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins,
      credentials: cookies,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: [
        'Authorization',
        'Content-Type',
        'X-Request-Id',
        'X-CSRF-Token',
        'X-Device-Token',
      ],
      // A script keeps the device token it is handed (header transport) for its next login.
      exposedHeaders: ['X-Request-Id', 'X-Device-Token'],
      maxAge: 600,
    });
  }

  setupOpenApi(app);
}
