import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '../config';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  // rawBody: the signed remote routes verify the HMAC over the body bytes exactly as sent.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  app.enableShutdownHooks();
  const { port } = app.get(ConfigService).getOrThrow<AppConfig>('app');
  await app.listen(port);
  new Logger('Bootstrap').log(`nest-sessions listening on port ${port}`);
}

void bootstrap();
