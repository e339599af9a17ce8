/**
 * The stateless upper bound: a minimal Nest app (same Nest and platform-express as nest-sessions)
 * whose `GET /sessions/current` is protected by passport-jwt's `AuthGuard('jwt')`. A valid
 * signature is all it checks — no session lookup, so nothing can be revoked before the token
 * expires. Started as its own process by `bench/alternatives.bench.ts`.
 *
 * JWT_KEY_MODE=string (default) passes the secret as a string, as passport-jwt's README and most
 * apps do; JWT_KEY_MODE=keyobject passes a crypto KeyObject made once at start-up (jsonwebtoken
 * otherwise re-parses a string secret on every verify, see docs/benchmarks.md and docs/security.md).
 */
import 'reflect-metadata';
import { createSecretKey, randomUUID } from 'node:crypto';
import { Body, Controller, Get, Injectable, Module, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { sign } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import {
  benchIdentity,
  HealthController,
  jwtCurrentView,
  JwtClaims,
  requiredEnv,
  serveBenchApp,
} from './bench-app';

const secret = requiredEnv('JWT_SECRET');
const key =
  process.env.JWT_KEY_MODE === 'keyobject' ? createSecretKey(Buffer.from(secret)) : secret;
const TTL_SECONDS = 900;

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt's typings say string | Buffer; jsonwebtoken accepts a KeyObject as well.
      secretOrKey: key as string,
      algorithms: ['HS256'],
    });
  }

  validate(claims: JwtClaims): JwtClaims {
    return claims;
  }
}

@Controller()
class BenchController {
  @Post('auth/login')
  login(@Body() body: { username?: string }, @Req() req: Request) {
    const identity = benchIdentity(body.username ?? 'bench', randomUUID(), req);
    const accessToken = sign(
      {
        sub: identity.userId,
        sid: identity.sessionId,
        username: identity.username,
        roles: identity.roles,
        groups: identity.groups,
      },
      key,
      { algorithm: 'HS256', expiresIn: TTL_SECONDS },
    );
    return { accessToken, tokenType: 'Bearer', expiresIn: TTL_SECONDS };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('sessions/current')
  current(@Req() req: Request & { user: JwtClaims }) {
    return jwtCurrentView(req);
  }
}

@Module({
  imports: [PassportModule],
  controllers: [HealthController, BenchController],
  providers: [JwtStrategy],
})
class JwtBenchModule {}

void serveBenchApp(JwtBenchModule);
