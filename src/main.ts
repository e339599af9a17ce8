import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { appConfig, AppConfig, authConfig, AuthConfig } from '../config';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';

async function bootstrap(): Promise<void> {
  // bufferLogs: lines written before the pino logger is ready are held, then written through it.
  // rawBody: the signed remote routes verify the HMAC over the body bytes exactly as sent.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bufferLogs: true,
    rawBody: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);
  // process.exit(0) after the hooks, rather than re-raising the signal, so that a clean
  // shutdown exits with status 0 and pino has flushed its last lines.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const { port } = app.get<AppConfig>(appConfig.KEY);
  await app.listen(port);
  logger.log(`nest-sessions listening on port ${port}`, 'Bootstrap');
  const auth = app.get<AuthConfig>(authConfig.KEY);
  if (auth.adminPasswordGenerated) {
    logger.warn(
      `First sign-in: POST /auth/login with username "${auth.adminUsername}" and password ` +
        `"${auth.adminPassword}" (generated for this run: the in-memory database starts empty; ` +
        'set ADMIN_USERNAME and ADMIN_PASSWORD to choose them)',
      'Bootstrap',
    );
  }
}

void bootstrap();
