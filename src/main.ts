import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { appConfig, AppConfig, authConfig, AuthConfig } from '../config';
import { AppModule } from './app.module';
import { configureApp, createHttpAdapter, type NestHttpApplication } from './app.setup';

async function bootstrap(): Promise<void> {
  // bufferLogs: lines written before the pino logger is ready are held, then written through it.
  // rawBody: the signed remote routes verify the HMAC over the body bytes exactly as sent.
  // HTTP_PLATFORM picks the adapter; the same validated config the app reads later.
  const app = await NestFactory.create<NestHttpApplication>(
    AppModule,
    createHttpAdapter(appConfig()),
    { bufferLogs: true, rawBody: true },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);
  // process.exit(0) after the hooks, rather than re-raising the signal, so that a clean
  // shutdown exits with status 0 and pino has flushed its last lines.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const { port } = app.get<AppConfig>(appConfig.KEY);
  // Fastify listens on localhost unless told otherwise; Express on every interface.
  await app.listen(port, '0.0.0.0');
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
