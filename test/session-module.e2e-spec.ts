import { Controller, Get, Module, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { getModelToken } from '@nestjs/mongoose';
import type { Request } from 'express';
import { Model, Types } from 'mongoose';
import { allConfigs, validateEnv } from '../config';
import { AllExceptionsFilter } from '../src/common/all-exceptions.filter';
import { conflict } from '../src/common/api.exception';
import { Clock } from '../src/common/clock';
import { CommonModule } from '../src/common/common.module';
import { createValidationPipe } from '../src/common/validation';
import { DatabaseModule } from '../src/database/database.module';
import {
  AllowExpiredSession,
  AuthContext,
  AuthUser,
  CurrentSession,
  CurrentUser,
  GroupsGuard,
  Public,
  RequireGroups,
  Roles,
  RolesGuard,
  SessionContext,
  SessionData,
  SessionDataInterceptor,
  SessionDataRef,
  SessionGuard,
  SessionModule,
  TokenResponse,
} from '../src/sessions';
import {
  bearer,
  createTestApp,
  createUser,
  login,
  TEST_SESSION_OPTIONS,
  TestApp,
} from './support/app';

const calls: string[] = [];

/** A feature module of "another app", protected by the exported guards and decorators. */
@Controller('probe')
class ProbeController {
  constructor(private readonly clock: Clock) {}

  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('me')
  me(
    @CurrentUser() user: AuthUser,
    @CurrentUser('username') username: string,
    @CurrentSession() session: SessionContext,
    @CurrentSession('id') sessionId: string,
  ) {
    return { user, username, sessionId, sessionGroups: session.groups, state: session.state };
  }

  @Roles('admin', 'auditor')
  @Get('staff')
  staff() {
    return { ok: true };
  }

  @RequireGroups('g1', 'g2')
  @Get('both-groups')
  groups() {
    return { ok: true };
  }

  @AllowExpiredSession()
  @Get('expired-ok')
  expiredOk(@CurrentSession('state') state: string) {
    return { state };
  }

  @Post('visit')
  visit(@SessionData() data: Record<string, unknown>) {
    data.visits = ((data.visits as number) ?? 0) + 1;
    return data;
  }

  @Get('peek')
  peek(@SessionData() data: Record<string, unknown>) {
    return data;
  }

  @Post('shorten')
  shorten(@SessionData('handle') ref: SessionDataRef) {
    ref.expiresAt = new Date(this.clock.nowMs() + 60_000);
    return { expiresAt: ref.expiresAt.toISOString() };
  }

  @Get('tenant')
  tenant(@Req() req: Request) {
    return { tenant: req.headers['x-tenant'] };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    CommonModule,
    DatabaseModule,
    SessionModule.forRootAsync({
      inject: [Clock],
      useFactory: (clock: Clock) => ({
        ...TEST_SESSION_OPTIONS,
        secrets: undefined,
        idleTimeoutSeconds: 600,
        clock,
        getTokenSecret: (req: Request) =>
          `tenant-secret-${String(req.headers['x-tenant'] ?? 'none')}-0123456789abcdef`,
        hooks: {
          onRequest: [
            (auth: AuthContext) => {
              calls.push('onRequest:1');
              return { ...auth, user: { ...auth.user, roles: [...auth.user.roles, 'h1'] } };
            },
            async (auth: AuthContext) => {
              calls.push(`onRequest:2:${auth.user.roles.join(',')}`);
              return { ...auth, user: { ...auth.user, roles: [...auth.user.roles, 'h2'] } };
            },
          ],
          onRefreshTokens: [
            (body: TokenResponse) => ({ ...body, hooked: 'a' }),
            (body: TokenResponse & { hooked?: string }) => ({
              ...body,
              hooked: `${body.hooked}b`,
              at: clock.now().toISOString(),
            }),
          ],
          onUpsertSessionError: [
            (error: unknown) => new Error(`first saw ${(error as { code?: number }).code}`),
            (error: unknown) => conflict(`second saw "${(error as Error).message}"`),
          ],
        },
      }),
    }),
  ],
  controllers: [ProbeController],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
class ProbeAppModule {}

describe('SessionModule in another app: guards, decorators, hooks (e2e)', () => {
  let t: TestApp;
  const get = (path: string, token: string, tenant = 'a') =>
    t.http().get(path).set('Authorization', bearer(token)).set('X-Tenant', tenant);
  const loginAs = async (username: string, groups?: string[]) => {
    const res = await t
      .http()
      .post('/auth/login')
      .set('X-Tenant', 'a')
      .send({ username, password: `${username}-password`, groups });
    expect(res.status).toBe(201);
    return res.body as TokenResponse & { hooked: string; at: string };
  };

  beforeAll(async () => {
    t = await createTestApp({}, { module: ProbeAppModule });
    await createUser(t, { username: 'alice', password: 'alice-password', groups: ['g1', 'g2'] });
    await createUser(t, { username: 'root', password: 'root-password', roles: ['admin'] });
  });
  afterAll(() => t.close());
  beforeEach(() => (calls.length = 0));

  it('denies by default and lets @Public() through', async () => {
    await t.http().get('/probe/public').expect(200, { ok: true });
    const res = await t.http().get('/probe/me');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('TOKEN_MISSING');
  });

  it('gives handlers the user and session, after the onRequest waterfall in order', async () => {
    const s = await loginAs('alice', ['g1']);
    const res = await get('/probe/me', s.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      username: 'alice',
      sessionId: s.session.id,
      sessionGroups: ['g1'],
      state: 'active',
      user: { username: 'alice', roles: ['h1', 'h2'], groups: ['g1', 'g2'] },
    });
    expect(calls).toEqual(['onRequest:1', 'onRequest:2:h1']);
  });

  it('runs onRefreshTokens on login and refresh, each hook getting the previous result', async () => {
    const s = await loginAs('alice');
    expect(s.hooked).toBe('ab');
    expect(s.at).toBe(t.clock.now().toISOString());
    const r = await t
      .http()
      .post('/auth/refresh')
      .set('X-Tenant', 'a')
      .send({ refreshToken: s.refreshToken });
    expect(r.body.hooked).toBe('ab');
  });

  it('signs and verifies with the per-request secret from getTokenSecret', async () => {
    const s = await loginAs('alice');
    expect((await get('/probe/me', s.accessToken, 'a')).status).toBe(200);
    const other = await get('/probe/me', s.accessToken, 'b');
    expect(other.status).toBe(401);
    expect(other.body.code).toBe('TOKEN_INVALID');
  });

  it('@Roles needs one of the roles (403 FORBIDDEN)', async () => {
    const alice = await loginAs('alice');
    const root = await loginAs('root');
    const denied = await get('/probe/staff', alice.accessToken);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('FORBIDDEN');
    await get('/probe/staff', root.accessToken).expect(200);
  });

  it('@RequireGroups needs the session to be authenticated for every group', async () => {
    const one = await loginAs('alice', ['g1']);
    const both = await loginAs('alice', ['g1', 'g2']);
    const denied = await get('/probe/both-groups', one.accessToken);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('GROUP_FORBIDDEN');
    await get('/probe/both-groups', both.accessToken).expect(200);
    // Reauth can switch the session's groups.
    const re = await t
      .http()
      .post('/auth/reauth')
      .set('Authorization', bearer(one.accessToken))
      .set('X-Tenant', 'a')
      .send({ password: 'alice-password', groups: ['g1', 'g2'] });
    expect(re.status).toBe(200);
    await get('/probe/both-groups', re.body.accessToken).expect(200);
  });

  it('@AllowExpiredSession admits an expired session but never an ended one', async () => {
    const s = await loginAs('alice');
    t.clock.advance(601_000);
    expect((await get('/probe/expired-ok', s.accessToken)).body).toEqual({ state: 'expired' });
    expect((await get('/probe/me', s.accessToken)).body.code).toBe('SESSION_EXPIRED');
    const e = await loginAs('alice');
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(e.accessToken))
      .set('X-Tenant', 'a')
      .expect(204);
    const ended = await get('/probe/expired-ok', e.accessToken);
    expect(ended.status).toBe(401);
    expect(ended.body.code).toBe('SESSION_ENDED');
  });

  it('@SessionData loads once, persists only on change, and can move the expiry', async () => {
    // The sessions collection's model, registered by SessionModule for its store alone.
    const model = t.app.get<Model<unknown>>(getModelToken('Session'), { strict: false });
    const writes = jest.spyOn(model, 'updateOne');
    const s = await loginAs('alice');
    const post = (path: string) =>
      t.http().post(path).set('Authorization', bearer(s.accessToken)).set('X-Tenant', 'a');
    expect((await post('/probe/visit')).body).toEqual({ visits: 1 });
    expect((await post('/probe/visit')).body).toEqual({ visits: 2 });
    expect(writes).toHaveBeenCalledTimes(2);
    expect((await get('/probe/peek', s.accessToken)).body).toEqual({ visits: 2 });
    expect(writes).toHaveBeenCalledTimes(2);
    writes.mockRestore();

    const shortened = await post('/probe/shorten');
    const doc = await t.connection
      .collection('sessions')
      .findOne({ _id: new Types.ObjectId(s.session.id) });
    expect(doc!.expiresAt.toISOString()).toBe(shortened.body.expiresAt);
    t.clock.advance(60_000);
    const res = await get('/probe/me', s.accessToken);
    expect(res.body.code).toBe('SESSION_EXPIRED');
  });

  it('passes a failed session write through the onUpsertSessionError waterfall', async () => {
    // A unique index no real deployment has, so the next session insert fails with E11000.
    await t.connection
      .collection('sessions')
      .createIndex(
        { label: 1 },
        { unique: true, partialFilterExpression: { label: { $type: 'string' } } },
      );
    await t
      .http()
      .post('/auth/login')
      .set('X-Tenant', 'a')
      .send({ username: 'root', password: 'root-password', label: 'dup' })
      .expect(201);
    const res = await t
      .http()
      .post('/auth/login')
      .set('X-Tenant', 'a')
      .send({ username: 'root', password: 'root-password', label: 'dup' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'CONFLICT', message: 'second saw "first saw 11000"' });
  });

  it('keeps guards per app: a second app in the same process does not capture logins', async () => {
    const second = await createTestApp();
    try {
      await login(second, 'nobody', 'x').catch(() => undefined);
      await loginAs('alice');
    } finally {
      await second.close();
    }
  });
});

@Controller('guarded')
@UseGuards(SessionGuard, RolesGuard, GroupsGuard)
@UseInterceptors(SessionDataInterceptor)
class GuardedController {
  @Get()
  me(@CurrentUser('username') username: string, @SessionData() data: Record<string, unknown>) {
    return { username, data };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }
}

@Controller('open')
class OpenController {
  @Get()
  open() {
    return { open: true };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    CommonModule,
    DatabaseModule,
    SessionModule.forRoot({ ...TEST_SESSION_OPTIONS, globalGuards: false }),
  ],
  controllers: [GuardedController, OpenController],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
class PerControllerAppModule {}

describe('SessionModule.forRoot({ globalGuards: false }) (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: PerControllerAppModule });
    await createUser(t, { username: 'alice', password: 'alice-password' });
  });
  afterAll(() => t.close());

  it('protects only the controllers that apply the guards', async () => {
    await t.http().get('/open').expect(200, { open: true });
    expect((await t.http().get('/guarded')).body.code).toBe('TOKEN_MISSING');
    const s = await login(t, 'alice', 'alice-password');
    const me = await t.http().get('/guarded').set('Authorization', bearer(s.accessToken));
    expect(me.body).toEqual({ username: 'alice', data: {} });
    const admin = await t.http().get('/guarded/admin').set('Authorization', bearer(s.accessToken));
    expect(admin.status).toBe(403);
    expect(admin.body.code).toBe('FORBIDDEN');
  });

  // Was: with no APP_GUARD nothing authenticated the module's own routes, so /sessions/* and
  // logout answered 401 with a valid token (the data interceptor found no session).
  it('keeps the module’s own bearer routes protected and working', async () => {
    const noToken = await t.http().get('/sessions/current');
    expect(noToken.status).toBe(401);
    expect(noToken.body.code).toBe('TOKEN_MISSING');
    const s = await login(t, 'alice', 'alice-password');
    const auth = bearer(s.accessToken);
    const current = await t.http().get('/sessions/current').set('Authorization', auth);
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ id: s.session.id, current: true });
    await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', auth)
      .send({ a: 1 })
      .expect(200);
    await t.http().get('/sessions/current/data').set('Authorization', auth).expect(200, { a: 1 });
    const listed = await t.http().get('/sessions').set('Authorization', auth).expect(200);
    expect(listed.body.map((x: { id: string }) => x.id)).toContain(s.session.id);
    await t.http().post('/auth/logout').set('Authorization', auth).expect(204);
    const after = await t.http().get('/sessions/current').set('Authorization', auth);
    expect(after.body.code).toBe('SESSION_ENDED');
  });
});

/** A host app with no global pipe or filter of its own: the module's routes still validate. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    DatabaseModule,
    SessionModule.forRoot(TEST_SESSION_OPTIONS),
  ],
})
class BareHostModule {}

describe('SessionModule in a host app without a global pipe or filter (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: BareHostModule });
    await createUser(t, { username: 'alice', password: 'alice-password' });
  });
  afterAll(() => t.close());

  const expectValidationFailed = (res: { status: number; body: unknown }) => {
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      code: 'VALIDATION_FAILED',
    });
  };

  it('answers 400 VALIDATION_FAILED for POST /auth/refresh {}', async () => {
    expectValidationFailed(await t.http().post('/auth/refresh').send({}));
    expectValidationFailed(
      await t.http().post('/auth/refresh').send({ refreshToken: 'x', extra: 1 }),
    );
  });

  it('answers 400 VALIDATION_FAILED for GET /sessions/not-an-id', async () => {
    const s = await login(t, 'alice', 'alice-password');
    expectValidationFailed(
      await t.http().get('/sessions/not-an-id').set('Authorization', bearer(s.accessToken)),
    );
    expectValidationFailed(
      await t.http().get('/sessions?state=bogus').set('Authorization', bearer(s.accessToken)),
    );
  });

  it('gives its own errors the contract shape (401 TOKEN_MISSING, 401 INVALID_CREDENTIALS)', async () => {
    const missing = await t.http().get('/sessions/current');
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ statusCode: 401, code: 'TOKEN_MISSING' });
    const wrong = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: 'wrong-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'INVALID_CREDENTIALS',
    });
  });
});

/** A host route under the host's own @nestjs/throttler settings. */
@Controller('host-limited')
class HostLimitedController {
  @Public()
  @UseGuards(ThrottlerGuard)
  @Get()
  hit() {
    return { ok: true };
  }
}

/** A feature module of the host, relying on the host's global ThrottlerModule. */
@Module({ controllers: [HostLimitedController] })
class HostFeatureModule {}

/** A host that rate-limits its own routes with @nestjs/throttler, as many Nest apps do. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    DatabaseModule,
    SessionModule.forRoot({ ...TEST_SESSION_OPTIONS, loginRateLimit: { limit: 3, ipLimit: 1000 } }),
    ThrottlerModule.forRoot([{ name: 'host', ttl: 60_000, limit: 2 }]),
    HostFeatureModule,
  ],
})
class ThrottledHostModule {}

describe('SessionModule next to the host’s own ThrottlerModule (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: ThrottledHostModule });
    await createUser(t, { username: 'alice', password: 'alice-password' });
  });
  afterAll(() => t.close());

  it('leaves the host’s limits to the host: its route allows exactly its 2 per minute', async () => {
    await t.http().get('/host-limited').expect(200);
    await t.http().get('/host-limited').expect(200);
    const third = await t.http().get('/host-limited');
    expect(third.status).toBe(429);
  });

  it('keeps its own login limit (3 per IP and username), not the host’s', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t
        .http()
        .post('/auth/login')
        .send({ username: 'alice', password: `wrong-password-${i}` });
      expect(res.status).toBe(401);
    }
    const fourth = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' });
    expect(fourth.status).toBe(429);
    expect(fourth.body.code).toBe('RATE_LIMITED');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
  });
});
