/**
 * The production build with one bench-only controller added, for measuring what SessionGuard
 * costs and nothing else: `GET /bench/public` (`@Public()`) and `GET /bench/protected` run the
 * same trivial handler, so their difference is the guard. Everything else — AppModule, its global
 * guards, pipe, filter and interceptors, `configureApp()` (helmet, body parsers, OpenAPI), the
 * pino logger — is loaded from `dist/` and bootstrapped as `src/main.ts` does (keep the two in
 * step). Nothing here exists in the product; `src/` has no bench-only route.
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';

// The built code is the point (dist/ has no type declarations, so it is loaded untyped).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dist = (path: string) => require(resolve(__dirname, '..', '..', 'dist', 'src', path));
const { AppModule } = dist('app.module');
const { configureApp } = dist('app.setup');
const { Public } = dist('sessions/decorators/public.decorator') as {
  Public: () => MethodDecorator;
};

const INFO = { name: 'nest-sessions', probe: true };

@Controller('bench')
class GuardProbeController {
  @Public()
  @Get('public')
  open() {
    return INFO;
  }

  @Get('protected')
  guarded() {
    return INFO;
  }
}

@Module({ imports: [AppModule], controllers: [GuardProbeController] })
class GuardProbeModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(GuardProbeModule, {
    bufferLogs: true,
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  configureApp(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(Number(process.env.PORT));
}

void bootstrap();
