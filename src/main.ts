import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { appConfig, AppConfig } from '../config';
import { configureApp } from './app.setup';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // rawBody: the signed remote routes verify the HMAC over the body bytes exactly as sent.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { rawBody: true });
  configureApp(app);
  app.enableShutdownHooks();
  const { port } = app.get<AppConfig>(appConfig.KEY);
  await app.listen(port);
  new Logger('Bootstrap').log(`nest-sessions listening on port ${port}`);
}

void bootstrap();
