/**
 * The production build with one bench-only controller added, for measuring what SessionGuard
 * costs and nothing else: `GET /bench/public` (`@Public()`) and `GET /bench/protected` run the
 * same trivial handler, so their difference is the guard. Everything else is the built product,
 * unchanged: `dist/src/main.js` itself is run, and only the root module it passes to
 * `NestFactory.create` is swapped for one that imports AppModule and adds this controller — so
 * the bootstrap (logger, `configureApp()`, shutdown hooks) is main.ts's own and cannot drift.
 * Nothing here exists in the product; `src/` has no bench-only route.
 *
 * For `bench/alternatives.bench.ts` it also serves the two alternatives on the same stack
 * (helmet, pino, validation pipe, exception filter, global guards: everything the product
 * runs), so the comparison isolates the session check. Both routes are `@Public()` to
 * SessionGuard and protected by their own mechanism instead:
 * - `GET /bench/jwt/current` behind passport-jwt's `AuthGuard('jwt')` (KeyObject secret, its
 *   fastest), token from `POST /bench/jwt/login`;
 * - `GET /bench/express-session/current` behind express-session + connect-mongo (mounted on
 *   these routes only, `touchAfter: 60` as in the minimal app), cookie from
 *   `POST /bench/express-session/login`.
 * Both answer the same JSON as `GET /sessions/current` (bench/alternatives/bench-app.ts).
 */
import 'reflect-metadata';
import { createSecretKey, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Injectable,
  MiddlewareConsumer,
  Module,
  NestModule,
  Post,
  Req,
  UseGuards,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import MongoStore from 'connect-mongo';
import type { Request } from 'express';
import session from 'express-session';
import { sign } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import {
  benchIdentity,
  currentSessionView,
  expressSessionLogin,
  jwtCurrentView,
  JwtClaims,
  SignedInGuard,
} from '../alternatives/bench-app';

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

const jwtKey = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? ''));
const JWT_TTL_SECONDS = 900;

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKey as unknown as string,
      algorithms: ['HS256'],
    });
  }

  validate(claims: JwtClaims): JwtClaims {
    return claims;
  }
}

@Controller('bench')
class AlternativesProbeController {
  @Public()
  @Post('jwt/login')
  jwtLogin(@Body() body: { username?: string }, @Req() req: Request) {
    const id = benchIdentity(body.username ?? 'bench', randomUUID(), req);
    const claims = { sub: id.userId, sid: id.sessionId, username: id.username };
    const accessToken = sign({ ...claims, roles: id.roles, groups: id.groups }, jwtKey, {
      algorithm: 'HS256',
      expiresIn: JWT_TTL_SECONDS,
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: JWT_TTL_SECONDS };
  }

  @Public()
  @UseGuards(AuthGuard('jwt'))
  @Get('jwt/current')
  jwtCurrent(@Req() req: Request & { user: JwtClaims }) {
    return jwtCurrentView(req);
  }

  @Public()
  @Post('express-session/login')
  @HttpCode(201)
  sessionLogin(@Body() body: { username?: string }, @Req() req: Request) {
    return expressSessionLogin(req, body.username);
  }

  @Public()
  @UseGuards(SignedInGuard)
  @Get('express-session/current')
  sessionCurrent(@Req() req: Request) {
    return currentSessionView(req.session.identity!, new Date().toISOString());
  }
}

@Module({
  imports: [AppModule, PassportModule],
  controllers: [GuardProbeController, AlternativesProbeController],
  providers: [JwtStrategy, SignedInGuard],
})
class GuardProbeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    const mongoUrl = process.env.MONGODB_URI;
    // Without MONGODB_URI the product runs its in-process engine: no store for express-session.
    if (!mongoUrl) return;
    consumer
      .apply(
        session({
          secret: process.env.JWT_SECRET ?? '',
          resave: false,
          saveUninitialized: false,
          cookie: { httpOnly: true, sameSite: 'lax', maxAge: 7 * 24 * 3600 * 1000 },
          store: MongoStore.create({
            mongoUrl,
            dbName: 'bench_express_session_stack',
            touchAfter: 60,
          }),
        }),
      )
      .forRoutes('bench/express-session/*path');
  }
}

const create = NestFactory.create.bind(NestFactory) as (
  module: unknown,
  ...rest: unknown[]
) => unknown;
(NestFactory as unknown as { create: typeof create }).create = (module, ...rest) =>
  create(module === AppModule ? GuardProbeModule : module, ...rest);
dist('main');
