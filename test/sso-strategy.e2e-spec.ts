import {
  Controller,
  Get,
  Injectable,
  Module,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
  type Type,
} from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { parse as parseCookies, parseSetCookie, serialize } from 'cookie';
import type { Request } from 'express';
import { Types } from 'mongoose';
import { randomBytes } from 'node:crypto';
import passport from 'passport';
import request from 'supertest';
import { allConfigs, validateEnv } from '../config';
import { AllExceptionsFilter } from '../src/common/all-exceptions.filter';
import { CommonModule } from '../src/common/common.module';
import { DatabaseModule } from '../src/database/database.module';
import {
  appendSetCookie,
  CurrentSession,
  type HeaderWritable,
  Public,
  SessionModule,
  SessionSignIn,
  type TokenTransportMode,
} from '../src/sessions';
import { UsersService } from '../src/users/users.service';
import { bearer, createTestApp, createUser, TEST_SESSION_OPTIONS, TestApp } from './support/app';

/**
 * A stand-in identity provider: after the person signs in there, it hands the app a one-time
 * code, which the app exchanges (once) for the person's profile.
 */
@Injectable()
class FakeIdentityProvider {
  private readonly codes = new Map<string, { email: string }>();

  authorize(email: string): string {
    const code = randomBytes(16).toString('base64url');
    this.codes.set(code, { email });
    return code;
  }

  exchange(code: string): { email: string } | null {
    const profile = this.codes.get(code) ?? null;
    this.codes.delete(code);
    return profile;
  }
}

/** The shape of `passport-custom`: the verify callback gets the request itself. */
class RequestStrategy extends passport.Strategy {
  constructor(
    private readonly verify: (req: Request, done: (err: unknown, user?: unknown) => void) => void,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    this.verify(req, (err, user) => {
      if (err) this.error(err as Error);
      else if (user) this.success(user);
      else this.fail(401);
    });
  }
}

const STATE_COOKIE = 'sso_state';

/** The host's OAuth-style callback strategy: checks `state` against this browser, exchanges the code. */
@Injectable()
class FakeSsoStrategy extends PassportStrategy(RequestStrategy, 'fake-sso') {
  constructor(private readonly idp: FakeIdentityProvider) {
    super();
  }

  validate(req: Request): { email: string } {
    const state = parseCookies(req.headers.cookie ?? '')[STATE_COOKIE];
    if (!state || req.query.state !== state) throw new UnauthorizedException('state mismatch');
    const profile = this.idp.exchange(String(req.query.code ?? ''));
    if (!profile) throw new UnauthorizedException('unknown or used code');
    return profile;
  }
}

/** What the host app writes: a start route (state) and a callback that ends in a session. */
@Controller('auth/sso')
class SsoController {
  constructor(
    private readonly signIn: SessionSignIn,
    private readonly users: UsersService,
  ) {}

  @Public()
  @Get('start')
  start(@Res({ passthrough: true }) res: HeaderWritable) {
    const state = randomBytes(16).toString('base64url');
    appendSetCookie(res, [
      serialize(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', path: '/auth/sso' }),
    ]);
    // A real app redirects to the provider with `state` in the URL.
    return { state };
  }

  @Public()
  @Get('callback')
  @UseGuards(AuthGuard('fake-sso'))
  async callback(@Req() req: Request, @Res({ passthrough: true }) res: HeaderWritable) {
    const { email } = req.user as { email: string };
    const user = await this.users.findByUsername(email);
    if (!user) throw new UnauthorizedException('no account for this identity');
    // The provider redirects the browser here across sites; `state` was checked above.
    return this.signIn.login(req, res, user, { label: 'SSO' }, { allowCrossSite: true });
  }
}

/** A host route protected by the module's global guard. */
@Controller('reports')
class ReportsController {
  @Get()
  list(@CurrentSession('id') sid: string) {
    return { sid };
  }
}

function ssoHostModule(tokens: TokenTransportMode): Type<unknown> {
  @Module({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
      CommonModule,
      DatabaseModule,
      SessionModule.forRoot({
        ...TEST_SESSION_OPTIONS,
        transport: { tokens, cookies: { secure: false } },
      }),
    ],
    controllers: [SsoController, ReportsController],
    providers: [
      FakeIdentityProvider,
      FakeSsoStrategy,
      { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ],
  })
  class SsoHostModule {}
  return SsoHostModule;
}

/** Runs the browser's side: start (state cookie), sign in at the provider, come back with the code. */
async function ssoSignIn(t: TestApp, email: string, headers: Record<string, string> = {}) {
  const agent = request.agent(t.app.getHttpServer());
  const { state } = (await agent.get('/auth/sso/start').expect(200)).body as { state: string };
  const code = t.app.get(FakeIdentityProvider).authorize(email);
  const res = await agent.get('/auth/sso/callback').query({ code, state }).set(headers);
  return { agent, res, code, state };
}

describe('signing in through another passport strategy (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');

  beforeAll(async () => {
    t = await createTestApp({}, { module: ssoHostModule('header') });
    await createUser(t, { username: 'alice@example.com', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('issues a session whose tokens work on protected routes, listed in GET /sessions', async () => {
    const { res } = await ssoSignIn(t, 'alice@example.com');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      session: { label: 'SSO', state: 'active', current: true },
    });
    const auth = bearer(res.body.accessToken);
    const id = res.body.session.id as string;

    expect((await t.http().get('/reports').set('Authorization', auth).expect(200)).body).toEqual({
      sid: id,
    });
    const listed = await t.http().get('/sessions').set('Authorization', auth).expect(200);
    expect(listed.body).toEqual([expect.objectContaining({ id, label: 'SSO', current: true })]);
    const stored = await sessions().findOne({ _id: new Types.ObjectId(id) });
    expect(stored).toMatchObject({ username: 'alice@example.com', state: 'active' });

    // A session like any other: it refreshes and signs out.
    const refreshed = await t
      .http()
      .post('/auth/refresh')
      .send({ refreshToken: res.body.refreshToken })
      .expect(200);
    expect(refreshed.body.session.id).toBe(id);
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(refreshed.body.accessToken))
      .expect(204);
    const after = await t
      .http()
      .get('/reports')
      .set('Authorization', bearer(refreshed.body.accessToken));
    expect([after.status, after.body.code]).toEqual([401, 'SESSION_ENDED']);
  });

  it('refuses a forged code, a replayed code, a wrong state and an unknown identity, creating no session', async () => {
    const before = await sessions().countDocuments();
    const agent = request.agent(t.app.getHttpServer());
    const { state } = (await agent.get('/auth/sso/start')).body as { state: string };
    const forged = await agent.get('/auth/sso/callback').query({ code: 'made-up', state });
    expect(forged.status).toBe(401);

    const first = await ssoSignIn(t, 'alice@example.com');
    expect(first.res.status).toBe(200);
    const replay = await first.agent
      .get('/auth/sso/callback')
      .query({ code: first.code, state: first.state });
    expect(replay.status).toBe(401);

    // Login CSRF: the attacker's own code, delivered to a browser that never started a sign-in.
    const code = t.app.get(FakeIdentityProvider).authorize('alice@example.com');
    const noState = await t.http().get('/auth/sso/callback').query({ code, state: 'guess' });
    expect(noState.status).toBe(401);

    const stranger = await ssoSignIn(t, 'nobody@example.com');
    expect(stranger.res.status).toBe(401);
    expect(stranger.res.body).toMatchObject({ statusCode: 401, code: expect.any(String) });
    expect(await sessions().countDocuments()).toBe(before + 1);
  });
});

describe('another strategy with TOKEN_TRANSPORT=cookie (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: ssoHostModule('cookie') });
    await createUser(t, { username: 'alice@example.com', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('sets the session cookies on the cross-site callback, and the cookie works like a login’s', async () => {
    const { agent, res } = await ssoSignIn(t, 'alice@example.com', {
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('accessToken');
    const names = ((res.headers['set-cookie'] as unknown as string[]) ?? []).map(
      (l) => parseSetCookie(l).name,
    );
    expect(names.sort()).toEqual(['access_token', 'csrf_token', 'refresh_token']);
    const listed = await agent.get('/sessions').expect(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ id: res.body.session.id, label: 'SSO', current: true }),
    ]);
    const denied = await agent.delete('/sessions?scope=others');
    expect([denied.status, denied.body.code]).toEqual([403, 'CSRF_FAILED']);
    await agent
      .delete('/sessions?scope=others')
      .set('X-CSRF-Token', res.body.csrfToken)
      .expect(200);
  });
});
