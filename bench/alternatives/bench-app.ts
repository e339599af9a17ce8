import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  UnauthorizedException,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import MongoStore from 'connect-mongo';
import session from 'express-session';
import { randomUUID } from 'node:crypto';

/**
 * What every compared app answers on `GET /sessions/current`: the same fields as nest-sessions'
 * API (docs/api.md, "Own sessions"), so that serialisation and bytes on the wire are alike and
 * the comparison is about how each app decides that the caller is signed in.
 */
export interface BenchIdentity {
  sessionId: string;
  userId: string;
  username: string;
  roles: string[];
  groups: string[];
  createdAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

export function currentSessionView(id: BenchIdentity, lastSeenAt: string) {
  return {
    id: id.sessionId,
    userId: id.userId,
    groups: id.groups,
    ip: id.ip,
    userAgent: id.userAgent,
    label: null,
    createdAt: id.createdAt,
    lastSeenAt,
    expiresAt: id.expiresAt,
    expiredAt: null,
    endReason: null,
    state: 'active',
    current: true,
    valid: true,
    user: { id: id.userId, username: id.username, roles: id.roles, groups: id.groups },
  };
}

/** The identity a bench-only login hands out (these apps check no password: not what is measured). */
export function benchIdentity(
  username: string,
  sessionId: string,
  req: { ip?: string; headers: Record<string, unknown> },
): BenchIdentity {
  const now = Date.now();
  return {
    sessionId,
    userId: `user-${username}`,
    username,
    roles: ['user'],
    groups: [],
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 7 * 24 * 3600 * 1000).toISOString(),
    ip: req.ip ?? null,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
  };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Readiness probe for the bench harness (these apps have no database check worth measuring). */
@Controller('health')
export class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

/** Creates a compared app quietly (BENCH_APP_LOG=1 shows errors), lets `configure` add middleware, listens on PORT. */
export async function serveBenchApp(
  module: Type<unknown>,
  configure: (app: NestExpressApplication) => void = () => undefined,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    logger: process.env.BENCH_APP_LOG ? ['error', 'warn'] : false,
  });
  configure(app);
  app.enableShutdownHooks();
  await app.listen(Number(requiredEnv('PORT')), '127.0.0.1');
  return app;
}

/** The claims the passport-jwt alternatives sign and read back. */
export interface JwtClaims {
  sub: string;
  sid: string;
  username: string;
  roles: string[];
  groups: string[];
  iat: number;
  exp: number;
}

/** GET /sessions/current as a passport-jwt app answers it: everything from the token. */
export function jwtCurrentView(req: Request & { user: JwtClaims }) {
  const c = req.user;
  return currentSessionView(
    {
      sessionId: c.sid,
      userId: c.sub,
      username: c.username,
      roles: c.roles,
      groups: c.groups,
      createdAt: new Date(c.iat * 1000).toISOString(),
      expiresAt: new Date(c.exp * 1000).toISOString(),
      ip: req.ip ?? null,
      userAgent: req.headers['user-agent'] ?? null,
    },
    new Date().toISOString(),
  );
}

declare module 'express-session' {
  interface SessionData {
    identity: BenchIdentity;
  }
}

/** The express-session alternatives' check: a session holding an identity, else 401. */
@Injectable()
export class SignedInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!context.switchToHttp().getRequest<Request>().session?.identity) {
      throw new UnauthorizedException();
    }
    return true;
  }
}

/** express-session login: a new session id (session fixation), the identity stored in it. */
export async function expressSessionLogin(req: Request, username: string | undefined) {
  await new Promise<void>((done, fail) => req.session.regenerate((e) => (e ? fail(e) : done())));
  req.session.identity = benchIdentity(username ?? 'bench', randomUUID(), req);
  await new Promise<void>((done, fail) => req.session.save((e) => (e ? fail(e) : done())));
  return { sessionId: req.session.identity.sessionId };
}

/**
 * express-session with connect-mongo as its documentation sets it up, both peers alike:
 * `touchAfter: 60`, as nest-sessions writes lastSeenAt at most once a minute.
 */
export function expressSessionMiddleware(defaultDbName: string) {
  return session({
    secret: requiredEnv('SESSION_SECRET'),
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 7 * 24 * 3600 * 1000 },
    store: MongoStore.create({
      mongoUrl: requiredEnv('MONGODB_URI'),
      dbName: process.env.SESSION_DB ?? defaultDbName,
      touchAfter: 60,
    }),
  });
}
