/**
 * The usual stateful alternative: a minimal Nest app (same Nest and platform-express as
 * nest-sessions) using express-session with connect-mongo as its store, on the same database
 * server as nest-sessions (its own database name). `GET /sessions/current` answers only for a
 * cookie whose session exists in MongoDB; express-session reads the store on every request.
 * Started as its own process by `bench/alternatives.bench.ts`.
 *
 * `touchAfter: 60` makes connect-mongo write the expiry back at most once a minute per session,
 * the same write frequency nest-sessions uses for lastSeenAt, so neither side pays a write per
 * request; the default (0) would write on every request.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import {
  currentSessionView,
  expressSessionLogin,
  expressSessionMiddleware,
  HealthController,
  SignedInGuard,
  serveBenchApp,
} from './bench-app';

@Controller()
class BenchController {
  @Post('auth/login')
  @HttpCode(201)
  login(@Body() body: { username?: string }, @Req() req: Request) {
    return expressSessionLogin(req, body.username);
  }

  @UseGuards(SignedInGuard)
  @Get('sessions/current')
  current(@Req() req: Request) {
    return currentSessionView(req.session.identity!, new Date().toISOString());
  }
}

@Module({ controllers: [HealthController, BenchController], providers: [SignedInGuard] })
class ExpressSessionBenchModule {}

void serveBenchApp(ExpressSessionBenchModule, (app) =>
  app.use(expressSessionMiddleware('bench_express_session')),
);
