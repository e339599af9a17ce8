import { Controller, Delete, Get, Module, Post } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { parseSetCookie, type SetCookie } from 'cookie';
import { CookieAccessInfo } from 'cookiejar';
import { Types } from 'mongoose';
import request from 'supertest';
import { allConfigs, validateEnv } from '../config';
import { CommonModule } from '../src/common/common.module';
import { DatabaseModule } from '../src/database/database.module';
import { CurrentSession, SessionModule } from '../src/sessions';
import { bearer, createTestApp, createUser, TEST_SESSION_OPTIONS, TestApp } from './support/app';

type Agent = ReturnType<typeof request.agent>;

/** The Set-Cookie lines of a response, by cookie name. */
function setCookies(res: request.Response): Record<string, SetCookie & { value: string }> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return Object.fromEntries(
    (raw ?? []).map((line) => {
      const c = parseSetCookie(line);
      return [c.name, { ...c, value: c.value ?? '' }];
    }),
  );
}

/** A browser-like client: a cookie jar, and the CSRF token its page script would read. */
async function browserLogin(
  t: TestApp,
  username: string,
  password: string,
): Promise<{ agent: Agent; csrf: string; sessionId: string; res: request.Response }> {
  const agent = request.agent(t.app.getHttpServer());
  const res = await agent.post('/auth/login').send({ username, password });
  expect(res.status).toBe(201);
  return { agent, csrf: setCookies(res).csrf_token.value, sessionId: res.body.session.id, res };
}

describe('cookie transport with CSRF (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');
  const byId = (id: string) => sessions().findOne({ _id: new Types.ObjectId(id) });

  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'cookie' });
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
    await createUser(t, { username: 'mallory', password: 'mallory-password' });
  });
  afterAll(() => t.close());

  it('login sets HttpOnly token cookies and a readable CSRF cookie, and leaves tokens out of the body', async () => {
    const { res, csrf } = await browserLogin(t, 'alice', 'alice-password-1');
    const cookies = setCookies(res);
    expect(Object.keys(cookies).sort()).toEqual([
      'access_token',
      'csrf_token',
      'device_token',
      'refresh_token',
    ]);
    // The trusted-device token: only the login, of the site itself, ever needs it.
    expect(cookies.device_token).toMatchObject({
      httpOnly: true,
      path: '/auth',
      sameSite: 'strict',
      maxAge: 15552000,
    });
    expect(cookies.access_token).toMatchObject({
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
      maxAge: 900,
    });
    expect(cookies.refresh_token).toMatchObject({
      httpOnly: true,
      path: '/auth',
      sameSite: 'strict',
      maxAge: 604800,
    });
    expect(cookies.csrf_token.httpOnly).toBeFalsy();
    expect(cookies.csrf_token).toMatchObject({ path: '/', sameSite: 'lax' });
    // Plain HTTP outside production: Secure cookies would never come back.
    for (const c of Object.values(cookies)) expect(c.secure).toBeFalsy();

    expect(res.body).not.toHaveProperty('accessToken');
    expect(res.body).not.toHaveProperty('refreshToken');
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, csrfToken: csrf });
    expect(JSON.stringify(res.body)).not.toContain(cookies.access_token.value);
    expect(JSON.stringify(res.body)).not.toContain(cookies.refresh_token.value);
  });

  it('authenticates by the access cookie; GET requests need no CSRF header', async () => {
    const { agent, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    const current = await agent.get('/sessions/current').expect(200);
    expect(current.body).toMatchObject({ id: sessionId, current: true });
    await agent.get('/sessions').expect(200);
    await agent.get('/sessions/current/data').expect(200);
  });

  it('refuses a state-changing cookie request without X-CSRF-Token, and changes nothing', async () => {
    const victim = await browserLogin(t, 'alice', 'alice-password-1');
    const other = await browserLogin(t, 'alice', 'alice-password-1');

    const attempts = [
      victim.agent.delete(`/sessions/${other.sessionId}`),
      victim.agent.delete('/sessions?scope=others'),
      victim.agent.patch(`/sessions/${other.sessionId}`).send({ label: 'pwned' }),
      victim.agent.put('/sessions/current/data').send({ evil: true }),
      victim.agent.post('/auth/logout'),
      victim.agent.post('/auth/reauth').send({ password: 'alice-password-1' }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'CSRF_FAILED' });
    }
    expect(await byId(other.sessionId)).toMatchObject({ state: 'active', label: null });
    expect(await byId(victim.sessionId)).toMatchObject({ state: 'active' });
    expect((await byId(victim.sessionId))?.data ?? {}).toEqual({});
  });

  it('refuses a wrong, forged or empty X-CSRF-Token', async () => {
    const { agent, csrf } = await browserLogin(t, 'alice', 'alice-password-1');
    const target = await browserLogin(t, 'alice', 'alice-password-1');
    for (const header of [
      'x',
      '',
      csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A'),
      'A'.repeat(43),
      csrf + csrf,
      `${csrf}, ${csrf}`,
      csrf.toLowerCase() === csrf ? csrf.toUpperCase() : csrf.toLowerCase(),
      'x'.repeat(8000),
    ]) {
      const res = await agent.delete(`/sessions/${target.sessionId}`).set('X-CSRF-Token', header);
      expect([res.status, res.body.code]).toEqual([403, 'CSRF_FAILED']);
    }
    expect(await byId(target.sessionId)).toMatchObject({ state: 'active' });
  });

  it('refuses the CSRF token of another session, also when it is planted as the CSRF cookie (cookie tossing)', async () => {
    const victim = await browserLogin(t, 'alice', 'alice-password-1');
    const attacker = await browserLogin(t, 'mallory', 'mallory-password');
    const sameUser = await browserLogin(t, 'alice', 'alice-password-1');
    for (const foreign of [attacker.csrf, sameUser.csrf]) {
      // Header only: it does not match the victim's CSRF cookie.
      const plain = await victim.agent
        .delete('/sessions?scope=others')
        .set('X-CSRF-Token', foreign);
      expect([plain.status, plain.body.code]).toEqual([403, 'CSRF_FAILED']);
      // Header and cookie both the foreign token (a sibling subdomain planted the cookie):
      // they match each other, but the token was not made for the victim's session.
      const access = setCookies(victim.res).access_token.value;
      const tossed = await t
        .http()
        .delete('/sessions?scope=others')
        .set('Cookie', `access_token=${access}; csrf_token=${foreign}`)
        .set('X-CSRF-Token', foreign);
      expect([tossed.status, tossed.body.code]).toEqual([403, 'CSRF_FAILED']);
    }
    expect(await byId(sameUser.sessionId)).toMatchObject({ state: 'active' });
  });

  it('accepts the matching X-CSRF-Token: DELETE /sessions/:id signs the other device out', async () => {
    const me = await browserLogin(t, 'alice', 'alice-password-1');
    const other = await browserLogin(t, 'alice', 'alice-password-1');
    await me.agent.delete(`/sessions/${other.sessionId}`).set('X-CSRF-Token', me.csrf).expect(204);
    expect(await byId(other.sessionId)).toMatchObject({ state: 'ended', endReason: 'logout' });
    const refused = await other.agent.get('/sessions/current');
    expect([refused.status, refused.body.code]).toEqual([401, 'SESSION_ENDED']);
  });

  it('scopes the refresh cookie to /auth: not sent elsewhere, and useless as an access cookie', async () => {
    const { agent, res } = await browserLogin(t, 'alice', 'alice-password-1');
    const host = new URL(res.request.url).hostname;
    const names = (path: string) =>
      agent.jar.getCookies(new CookieAccessInfo(host, path, false, false)).map((c) => c.name);
    expect(names('/sessions').sort()).toEqual(['access_token', 'csrf_token']);
    expect(names('/account').sort()).toEqual(['access_token', 'csrf_token']);
    expect(names('/auth/refresh').sort()).toEqual([
      'access_token',
      'csrf_token',
      'device_token',
      'refresh_token',
    ]);

    const refresh = setCookies(res).refresh_token.value;
    const misuse = await t.http().get('/sessions/current').set('Cookie', `access_token=${refresh}`);
    expect([misuse.status, misuse.body.code]).toEqual([401, 'TOKEN_INVALID']);
  });

  it('POST /auth/refresh with an empty body rotates the refresh cookie and sets new cookies', async () => {
    const { agent, res, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    const before = setCookies(res);
    t.clock.advance(1000);
    const rotated = await agent.post('/auth/refresh').expect(200);
    const after = setCookies(rotated);
    expect(rotated.body).not.toHaveProperty('refreshToken');
    expect(rotated.body.session.id).toBe(sessionId);
    expect(after.refresh_token.value).not.toBe(before.refresh_token.value);
    expect(after.access_token.value).not.toBe(before.access_token.value);
    // One CSRF token per session: what a tab kept from the login still matches after a refresh.
    expect(after.csrf_token.value).toBe(before.csrf_token.value);
    expect(rotated.body.csrfToken).toBe(after.csrf_token.value);
    await agent.get('/sessions/current').expect(200);
    await agent
      .patch(`/sessions/${sessionId}`)
      .set('X-CSRF-Token', before.csrf_token.value)
      .send({ label: 'still in step' })
      .expect(200);

    // The rotated-away cookie, replayed after the grace window, revokes the session.
    t.clock.advance(60_000);
    const replay = await t
      .http()
      .post('/auth/refresh')
      .set('Cookie', `refresh_token=${before.refresh_token.value}`);
    expect([replay.status, replay.body.code]).toEqual([401, 'REFRESH_TOKEN_REUSED']);
    expect(await byId(sessionId)).toMatchObject({ state: 'ended', endReason: 'refresh_reuse' });
  });

  it('two tabs refreshing with the same cookie at once get the very same cookies (no fork)', async () => {
    const { res, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    const refresh = setCookies(res).refresh_token.value;
    t.clock.advance(1000);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        t.http().post('/auth/refresh').set('Cookie', `refresh_token=${refresh}`),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const pairs = new Set(
      answers.map((a) => {
        const c = setCookies(a);
        return `${c.access_token.value} ${c.refresh_token.value} ${c.csrf_token.value}`;
      }),
    );
    expect(pairs.size).toBe(1);
    const [access] = [...pairs][0].split(' ');
    const current = await t.http().get('/sessions/current').set('Cookie', `access_token=${access}`);
    expect(current.body).toMatchObject({ id: sessionId, state: 'active' });
  });

  it('POST /auth/refresh without body or cookie is 401 REFRESH_TOKEN_INVALID; a body token wins over the cookie', async () => {
    const none = await t.http().post('/auth/refresh');
    expect([none.status, none.body.code]).toEqual([401, 'REFRESH_TOKEN_INVALID']);
    const empty = await t.http().post('/auth/refresh').send({});
    expect([empty.status, empty.body.code]).toEqual([401, 'REFRESH_TOKEN_INVALID']);

    const a = await browserLogin(t, 'alice', 'alice-password-1');
    const b = await browserLogin(t, 'alice', 'alice-password-1');
    const res = await a.agent
      .post('/auth/refresh')
      .send({ refreshToken: setCookies(b.res).refresh_token.value })
      .expect(200);
    expect(res.body.session.id).toBe(b.sessionId);
  });

  it('reauth with the CSRF header answers with fresh cookies', async () => {
    const { agent, csrf, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    const res = await agent
      .post('/auth/reauth')
      .set('X-CSRF-Token', csrf)
      .send({ password: 'alice-password-1' })
      .expect(200);
    expect(res.body.session.id).toBe(sessionId);
    expect(Object.keys(setCookies(res)).sort()).toEqual([
      'access_token',
      'csrf_token',
      'refresh_token',
    ]);
    expect(res.body).not.toHaveProperty('accessToken');
  });

  it('logout needs the CSRF header, ends the session and clears the cookies', async () => {
    const { agent, csrf, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    const res = await agent.post('/auth/logout').set('X-CSRF-Token', csrf).expect(204);
    const cleared = setCookies(res);
    expect(Object.keys(cleared).sort()).toEqual(['access_token', 'csrf_token', 'refresh_token']);
    for (const c of Object.values(cleared)) {
      expect(c.value).toBe('');
      expect(c.maxAge).toBe(0);
    }
    expect(cleared.refresh_token.path).toBe('/auth');
    expect(await byId(sessionId)).toMatchObject({ state: 'ended', endReason: 'logout' });
    const after = await agent.get('/sessions/current');
    expect([after.status, after.body.code]).toEqual([401, 'TOKEN_MISSING']);
  });

  it('refuses a cross-site cookie login (login CSRF) before creating a session', async () => {
    const count = await sessions().countDocuments({ username: 'mallory' });
    const res = await t
      .http()
      .post('/auth/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .type('form')
      .send({ username: 'mallory', password: 'mallory-password' });
    expect([res.status, res.body.code]).toEqual([403, 'CSRF_FAILED']);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessions().countDocuments({ username: 'mallory' })).toBe(count);
    // Same-site navigation from the app's own page is fine.
    await t
      .http()
      .post('/auth/login')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ username: 'mallory', password: 'mallory-password' })
      .expect(201);
  });

  it('answers hostile Cookie headers with 401, never 500', async () => {
    const { res } = await browserLogin(t, 'alice', 'alice-password-1');
    const access = setCookies(res).access_token.value;
    for (const cookie of [
      'access_token=%E0%A4%A',
      'access_token=',
      'access_token',
      `access_token="${access}`,
      ';;;=;',
      `access_token=${'x'.repeat(6000)}`,
      'access_token=a; access_token=b',
    ]) {
      const r = await t.http().get('/sessions/current').set('Cookie', cookie);
      expect({ cookie: cookie.slice(0, 40), status: r.status }).toEqual({
        cookie: cookie.slice(0, 40),
        status: 401,
      });
      expect(['TOKEN_MISSING', 'TOKEN_INVALID']).toContain(r.body.code);
    }
    // The first of two same-named cookies counts (RFC 6265 orders the more specific first).
    await t
      .http()
      .get('/sessions/current')
      .set('Cookie', `access_token=${access}; access_token=planted`)
      .expect(200);
  });

  it('the bearer header wins over cookies and needs no CSRF token', async () => {
    // In cookie mode a server-side client still authenticates with the header: take the
    // access token from one browser's cookie jar and send it as a bearer token.
    const a = await browserLogin(t, 'alice', 'alice-password-1');
    const m = await browserLogin(t, 'mallory', 'mallory-password');
    const malloryAccess = setCookies(m.res).access_token.value;
    const res = await a.agent
      .get('/sessions/current')
      .set('Authorization', bearer(malloryAccess))
      .expect(200);
    expect(res.body.id).toBe(m.sessionId);
    // An invalid bearer token is refused: no falling back to the cookie.
    const bad = await a.agent.get('/sessions/current').set('Authorization', 'Bearer nope');
    expect([bad.status, bad.body.code]).toEqual([401, 'TOKEN_INVALID']);
    // A bearer request changes state without a CSRF header.
    await t
      .http()
      .patch(`/sessions/${m.sessionId}`)
      .set('Authorization', bearer(malloryAccess))
      .send({ label: 'by header' })
      .expect(200);
  });
});

describe('TOKEN_TRANSPORT=both (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'both' });
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('answers with the tokens in the body and the cookies, and checks CSRF on cookie requests', async () => {
    const { agent, res, csrf, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    expect(res.body).toMatchObject({ csrfToken: csrf });
    expect(res.body.accessToken).toBe(setCookies(res).access_token.value);
    expect(res.body.refreshToken).toBe(setCookies(res).refresh_token.value);
    const denied = await agent.patch(`/sessions/${sessionId}`).send({ label: 'x' });
    expect([denied.status, denied.body.code]).toEqual([403, 'CSRF_FAILED']);
    await agent
      .patch(`/sessions/${sessionId}`)
      .set('X-CSRF-Token', csrf)
      .send({ label: 'x' })
      .expect(200);
    await t
      .http()
      .patch(`/sessions/${sessionId}`)
      .set('Authorization', bearer(res.body.accessToken))
      .send({ label: 'y' })
      .expect(200);
  });

  it('answers a cross-site login with tokens in the body only, setting no cookie', async () => {
    const res = await t
      .http()
      .post('/auth/login')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ username: 'alice', password: 'alice-password-1' })
      .expect(201);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body.accessToken).toEqual(expect.any(String));
    expect(res.body).not.toHaveProperty('csrfToken');
  });
});

describe('TOKEN_TRANSPORT=header ignores cookies (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'header' });
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('sets no cookie, and a token sent as a cookie authenticates nothing', async () => {
    const res = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password-1' })
      .expect(201);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body).not.toHaveProperty('csrfToken');
    const cookie = `access_token=${res.body.accessToken}; refresh_token=${res.body.refreshToken}`;
    const get = await t.http().get('/sessions/current').set('Cookie', cookie);
    expect([get.status, get.body.code]).toEqual([401, 'TOKEN_MISSING']);
    const refresh = await t.http().post('/auth/refresh').set('Cookie', cookie);
    expect([refresh.status, refresh.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const logout = await t
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(res.body.accessToken))
      .expect(204);
    expect(logout.headers['set-cookie']).toBeUndefined();
  });
});

/** A host app's own routes, protected by the exported guard (registered globally by the module). */
@Controller('things')
class ThingsController {
  readonly removed: string[] = [];

  @Get()
  list(@CurrentSession('id') sid: string) {
    return { sid };
  }

  @Post()
  create(@CurrentSession('id') sid: string) {
    return { created: true, sid };
  }

  @Delete(':name')
  remove(@CurrentSession('id') sid: string) {
    this.removed.push(sid);
    return { removed: true };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    CommonModule,
    DatabaseModule,
    SessionModule.forRoot({
      ...TEST_SESSION_OPTIONS,
      transport: { tokens: 'cookie', cookies: { secure: false } },
    }),
  ],
  controllers: [ThingsController],
})
class HostAppModule {}

describe('cookie transport on a host app’s own routes (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: HostAppModule });
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('applies the CSRF check to the host’s state-changing routes through the exported guard', async () => {
    const { agent, csrf, sessionId } = await browserLogin(t, 'alice', 'alice-password-1');
    expect((await agent.get('/things').expect(200)).body).toEqual({ sid: sessionId });
    for (const res of [await agent.post('/things'), await agent.delete('/things/x')]) {
      expect([res.status, res.body.code]).toEqual([403, 'CSRF_FAILED']);
    }
    expect(t.app.get(ThingsController).removed).toEqual([]);
    await agent.post('/things').set('X-CSRF-Token', csrf).expect(201);
    await agent.delete('/things/x').set('X-CSRF-Token', csrf).expect(200);
    expect(t.app.get(ThingsController).removed).toEqual([sessionId]);
  });

  it('unauthenticated host routes stay 401 whatever CSRF header is sent', async () => {
    const res = await t.http().post('/things').set('X-CSRF-Token', 'x');
    expect([res.status, res.body.code]).toEqual([401, 'TOKEN_MISSING']);
  });
});

describe('cookie transport with CORS_ORIGINS (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'cookie', CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(() => t.close());

  it('lets a listed origin send its cookies and the CSRF header, and no other origin', async () => {
    const preflight = await t
      .http()
      .options('/sessions/abc')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'DELETE')
      .set('Access-Control-Request-Headers', 'x-csrf-token');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/X-CSRF-Token/i);
    const other = await t
      .http()
      .options('/sessions/abc')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'DELETE');
    // Without Allow-Origin the browser refuses the request, credentials or not.
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('cookie transport in production (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      NODE_ENV: 'production',
      TOKEN_TRANSPORT: 'cookie',
      JWT_SECRET: 'Vq3r9-LpXz2m-Hc8wT4k-Nf6yB1s-Jd7gQ0e-Ru5aK9',
      PASSWORD_HASH_MEMORY_KIB: '19456',
      PASSWORD_HASH_TIME_COST: '2',
    });
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('sends Secure cookies under __Host-/__Secure- names, and checks CSRF under those names', async () => {
    const res = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password-1' })
      .expect(201);
    const cookies = setCookies(res);
    expect(Object.keys(cookies).sort()).toEqual([
      '__Host-access_token',
      '__Host-csrf_token',
      '__Secure-device_token',
      '__Secure-refresh_token',
    ]);
    for (const c of Object.values(cookies)) {
      expect(c.secure).toBe(true);
      expect(c.domain).toBeUndefined();
    }
    expect(cookies['__Host-access_token'].path).toBe('/');
    expect(cookies['__Secure-refresh_token'].path).toBe('/auth');

    // Over HTTPS the browser sends them back under the same names.
    const access = cookies['__Host-access_token'].value;
    const csrf = cookies['__Host-csrf_token'].value;
    const jar = `__Host-access_token=${access}; __Host-csrf_token=${csrf}`;
    await t.http().get('/sessions/current').set('Cookie', jar).expect(200);
    const denied = await t.http().delete('/sessions?scope=others').set('Cookie', jar);
    expect([denied.status, denied.body.code]).toEqual([403, 'CSRF_FAILED']);
    await t
      .http()
      .delete('/sessions?scope=others')
      .set('Cookie', jar)
      .set('X-CSRF-Token', csrf)
      .expect(200);
    // The development names mean nothing here.
    const bare = await t.http().get('/sessions/current').set('Cookie', `access_token=${access}`);
    expect([bare.status, bare.body.code]).toEqual([401, 'TOKEN_MISSING']);
    const page = await t.http().get('/account').expect(200);
    expect(page.text).toContain('<meta name="csrf-cookie" content="__Host-csrf_token" />');
  });
});
