import type { NestExpressApplication } from '@nestjs/platform-express';
import { appConfig, AppConfig } from '../config';

/**
 * Express-level settings shared by main.ts and the e2e tests, so both serve the same app.
 * `trust proxy` decides what `req.ip` (and so the session's recorded IP and the login rate
 * limit key) is: only with TRUST_PROXY set does X-Forwarded-For count.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get<AppConfig>(appConfig.KEY);
  app.set('trust proxy', config.trustProxy);
}
