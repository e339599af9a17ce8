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
import { randomUUID } from 'node:crypto';
import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import MongoStore from 'connect-mongo';
import type { Request } from 'express';
import session from 'express-session';
import {
  benchIdentity,
  BenchIdentity,
  currentSessionView,
  HealthController,
  requiredEnv,
  serveBenchApp,
} from './bench-app';

declare module 'express-session' {
  interface SessionData {
    identity: BenchIdentity;
  }
}

@Injectable()
class SignedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.session.identity) throw new UnauthorizedException();
    return true;
  }
}

@Controller()
class BenchController {
  @Post('auth/login')
  @HttpCode(201)
  async login(@Body() body: { username?: string }, @Req() req: Request) {
    // A new id on login (session fixation), as express-session's README recommends.
    await new Promise<void>((done, fail) => req.session.regenerate((e) => (e ? fail(e) : done())));
    req.session.identity = benchIdentity(body.username ?? 'bench', randomUUID(), req);
    await new Promise<void>((done, fail) => req.session.save((e) => (e ? fail(e) : done())));
    return { sessionId: req.session.identity.sessionId };
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
  app.use(
    session({
      secret: requiredEnv('SESSION_SECRET'),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 7 * 24 * 3600 * 1000 },
      store: MongoStore.create({
        mongoUrl: requiredEnv('MONGODB_URI'),
        dbName: process.env.SESSION_DB ?? 'bench_express_session',
        touchAfter: 60,
      }),
    }),
  ),
);
