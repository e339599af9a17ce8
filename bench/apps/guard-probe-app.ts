/**
 * The production build with one bench-only controller added, for measuring what SessionGuard
 * costs and nothing else: `GET /bench/public` (`@Public()`) and `GET /bench/protected` run the
 * same trivial handler, so their difference is the guard. Everything else is the built product,
 * unchanged: `dist/src/main.js` itself is run, and only the root module it passes to
 * `NestFactory.create` is swapped for one that imports AppModule and adds this controller — so
 * the bootstrap (logger, `configureApp()`, shutdown hooks) is main.ts's own and cannot drift.
 * Nothing here exists in the product; `src/` has no bench-only route.
 */
import 'reflect-metadata';
import { resolve } from 'node:path';
import { Controller, Get, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

// The built code is the point (dist/ has no type declarations, so it is loaded untyped).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dist = (path: string) => require(resolve(__dirname, '..', '..', 'dist', 'src', path));
const { AppModule } = dist('app.module') as { AppModule: Type<unknown> };
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

const create = NestFactory.create.bind(NestFactory) as (
  module: unknown,
  ...rest: unknown[]
) => unknown;
(NestFactory as unknown as { create: typeof create }).create = (module, ...rest) =>
  create(module === AppModule ? GuardProbeModule : module, ...rest);
dist('main');
