import { createHash } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, login, TestApp } from './support/app';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('auth (e2e)', () => {
  let t: TestApp;
  const sessions = () => t.connection.collection('sessions');
  const byId = (id: string) => sessions().findOne({ _id: new Types.ObjectId(id) });

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'alice', password: 'alice-password', groups: ['g1', 'g2'] });
    await createUser(t, { username: 'bob', password: 'bob-password' });
  });
  afterAll(() => t.close());

  describe('POST /auth/login', () => {
    it('creates a session recording IP, user agent and label, and answers with tokens', async () => {
      const res = await t
        .http()
        .post('/auth/login')
        .set('User-Agent', 'ua/1')
        .send({ username: 'alice', password: 'alice-password', label: 'laptop' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(typeof res.body.accessToken).toBe('string');
      expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.body.session).toMatchObject({
        state: 'active',
        current: true,
        label: 'laptop',
        userAgent: 'ua/1',
        ip: '127.0.0.1',
        groups: [],
        endReason: null,
        expiredAt: null,
        createdAt: t.clock.now().toISOString(),
        expiresAt: new Date(t.clock.nowMs() + 604800 * 1000).toISOString(),
      });
      const stored = await byId(res.body.session.id);
      expect(stored).toMatchObject({ username: 'alice', state: 'active', ip: '127.0.0.1' });
      // Only the hash of the refresh token is stored.
      expect(stored!.refreshHash).toBe(sha256(res.body.refreshToken));
      expect(JSON.stringify(stored)).not.toContain(res.body.refreshToken);
    });

    it('makes a new session with a new id on every login', async () => {
      const a = await login(t, 'alice', 'alice-password');
      const b = await login(t, 'alice', 'alice-password');
      expect(a.session.id).not.toBe(b.session.id);
    });

    it('answers unknown user and wrong password the same way', async () => {
      const wrong = await t
        .http()
        .post('/auth/login')
        .send({ username: 'alice', password: 'nope' });
      const unknown = await t
        .http()
        .post('/auth/login')
        .send({ username: 'zed', password: 'nope' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid username or password',
      });
      expect(unknown.body).toEqual(wrong.body);
    });

    it('refuses a malformed body with 400, unknown fields included', async () => {
      for (const body of [
        {},
        { username: 'alice' },
        { username: 'alice', password: 5 },
        { username: 'alice', password: 'alice-password', admin: true },
        { username: 'alice', password: 'alice-password', groups: 'g1' },
      ]) {
        const res = await t.http().post('/auth/login').send(body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    });

    it('refuses operator objects where strings belong, and broken JSON, with 400', async () => {
      const attempts = [
        t
          .http()
          .post('/auth/login')
          .send({ username: { $ne: null }, password: 'x' }),
        t
          .http()
          .post('/auth/login')
          .send({ username: 'alice', password: { $gt: '' } }),
        t
          .http()
          .post('/auth/refresh')
          .send({ refreshToken: { $ne: null } }),
        t
          .http()
          .post('/auth/refresh')
          .send({ refreshToken: 'x'.repeat(513) }),
        t.http().post('/auth/login').set('Content-Type', 'application/json').send('{"username":'),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      expect(await sessions().countDocuments({ username: { $ne: 'alice' } })).toBe(0);
    });

    it('authenticates the session against groups the user is in, and refuses others', async () => {
      const ok = await login(t, 'alice', 'alice-password', { groups: ['g2', 'g1', 'g1'] });
      expect(ok.session.groups).toEqual(['g2', 'g1']);
      const bad = await t
        .http()
        .post('/auth/login')
        .send({ username: 'alice', password: 'alice-password', groups: ['g1', 'other'] });
      expect(bad.status).toBe(403);
      expect(bad.body.code).toBe('GROUP_FORBIDDEN');
      const count = await sessions().countDocuments({ groups: 'other' });
      expect(count).toBe(0);
    });

    it('records the forwarded client IP only when a proxy is trusted', async () => {
      const res = await t
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ username: 'alice', password: 'alice-password' });
      expect(res.body.session.ip).toBe('127.0.0.1');
      const proxied = await createTestApp({ TRUST_PROXY: 'loopback' });
      try {
        await createUser(proxied, { username: 'p', password: 'p-password' });
        const behind = await proxied
          .http()
          .post('/auth/login')
          .set('X-Forwarded-For', '203.0.113.7')
          .send({ username: 'p', password: 'p-password' });
        expect(behind.body.session.ip).toBe('203.0.113.7');
      } finally {
        await proxied.close();
      }
    });
  });

  describe('access tokens', () => {
    it('needs a bearer token on protected routes (TOKEN_MISSING)', async () => {
      for (const header of [undefined, 'Basic abc', 'Bearer']) {
        const req = t.http().get('/sessions');
        if (header) req.set('Authorization', header);
        const res = await req;
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('TOKEN_MISSING');
      }
    });

    it('refuses bad, tampered, unsigned, wrongly typed and expired tokens (TOKEN_INVALID)', async () => {
      const { accessToken } = await login(t, 'alice', 'alice-password');
      const [h, p, s] = accessToken.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const none = `${enc({ alg: 'none', typ: 'JWT' })}.${p}.`;
      const tampered = `${h}.${enc({ ...payload, sub: new Types.ObjectId().toHexString() })}.${s}`;
      const refreshTyped = new JwtService().sign(
        { ...payload, typ: 'refresh' },
        { secret: 'test-3f9c1a7e5b2d8f4a6c0e9b7d1f3a5c8e2b' },
      );
      for (const token of ['garbage', `${accessToken}x`, none, tampered, refreshTyped]) {
        const res = await t.http().get('/sessions').set('Authorization', bearer(token));
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('TOKEN_INVALID');
      }
      t.clock.advance(901 * 1000);
      const expired = await t.http().get('/sessions').set('Authorization', bearer(accessToken));
      expect(expired.status).toBe(401);
      expect(expired.body.code).toBe('TOKEN_INVALID');
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates the refresh token: the old one stops being the stored one', async () => {
      const first = await login(t, 'alice', 'alice-password');
      t.clock.advance(1000);
      const res = await t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken });
      expect(res.status).toBe(200);
      expect(res.body.session.id).toBe(first.session.id);
      expect(res.body.refreshToken).not.toBe(first.refreshToken);
      expect(res.body.accessToken).not.toBe(first.accessToken);
      const stored = await byId(first.session.id);
      expect(stored!.refreshHash).toBe(sha256(res.body.refreshToken));
      expect(stored!.refreshHistory).toEqual([sha256(first.refreshToken)]);
      const me = await t
        .http()
        .get('/sessions/current')
        .set('Authorization', bearer(res.body.accessToken));
      expect(me.status).toBe(200);
    });

    it('answers concurrent refreshes with one identical pair and never forks the session', async () => {
      const first = await login(t, 'alice', 'alice-password');
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      const pairs = new Set(answers.map((a) => `${a.body.accessToken} ${a.body.refreshToken}`));
      expect(pairs.size).toBe(1);
      const stored = await byId(first.session.id);
      expect(stored!.refreshHash).toBe(sha256(answers[0].body.refreshToken));
      expect(stored!.refreshHistory).toEqual([sha256(first.refreshToken)]);
      expect(
        await sessions().countDocuments({ username: 'alice', refreshHash: stored!.refreshHash }),
      ).toBe(1);
      // The one pair works.
      const next = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: answers[0].body.refreshToken });
      expect(next.status).toBe(200);
    });

    it('replays the same pair inside the grace window, and revokes the session outside it', async () => {
      const first = await login(t, 'alice', 'alice-password');
      const a = await t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken });
      t.clock.advance(9000);
      const b = await t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken });
      expect(b.status).toBe(200);
      expect(b.body.refreshToken).toBe(a.body.refreshToken);
      expect(b.body.accessToken).toBe(a.body.accessToken);
      t.clock.advance(1000);
      const late = await t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken });
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('REFRESH_TOKEN_REUSED');
      expect(await byId(first.session.id)).toMatchObject({
        state: 'ended',
        endReason: 'refresh_reuse',
        expiredAt: t.clock.now(),
      });
      // Both the thief's and the victim's newest tokens are dead now.
      const newest = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: a.body.refreshToken });
      expect(newest.status).toBe(401);
      expect(newest.body.code).toBe('REFRESH_TOKEN_REUSED');
      const access = await t
        .http()
        .get('/sessions')
        .set('Authorization', bearer(a.body.accessToken));
      expect(access.status).toBe(401);
      expect(access.body.code).toBe('SESSION_ENDED');
    });

    it('detects reuse of a token two rotations old', async () => {
      const first = await login(t, 'alice', 'alice-password');
      const second = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: first.refreshToken });
      await t.http().post('/auth/refresh').send({ refreshToken: second.body.refreshToken });
      const res = await t.http().post('/auth/refresh').send({ refreshToken: first.refreshToken });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('REFRESH_TOKEN_REUSED');
      expect(await byId(first.session.id)).toMatchObject({
        state: 'ended',
        endReason: 'refresh_reuse',
      });
    });

    it('refuses unknown tokens and malformed bodies', async () => {
      const res = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: 'x'.repeat(43) });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('REFRESH_TOKEN_INVALID');
      const bad = await t.http().post('/auth/refresh').send({ refreshToken: 1, extra: true });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });

    it('refuses to refresh a signed-out session', async () => {
      const s = await login(t, 'alice', 'alice-password');
      await t.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
      const res = await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SESSION_ENDED');
    });
  });

  describe('POST /auth/reauth', () => {
    it('confirms the password, keeps the session id, issues fresh tokens, switches groups', async () => {
      const s = await login(t, 'alice', 'alice-password', { groups: ['g1'] });
      t.clock.advance(2000);
      const res = await t
        .http()
        .post('/auth/reauth')
        .set('Authorization', bearer(s.accessToken))
        .send({ password: 'alice-password', groups: ['g2'] });
      expect(res.status).toBe(200);
      expect(res.body.session).toMatchObject({ id: s.session.id, groups: ['g2'] });
      expect(res.body.refreshToken).not.toBe(s.refreshToken);
      expect(await byId(s.session.id)).toMatchObject({ groups: ['g2'], refreshHistory: [] });
      // The pre-reauth refresh token is simply invalid (not reuse: the session stays live).
      const old = await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken });
      expect(old.body.code).toBe('REFRESH_TOKEN_INVALID');
      const fresh = await t
        .http()
        .post('/auth/refresh')
        .send({ refreshToken: res.body.refreshToken });
      expect(fresh.status).toBe(200);
    });

    it('keeps the groups when none are given', async () => {
      const s = await login(t, 'alice', 'alice-password', { groups: ['g1'] });
      const res = await t
        .http()
        .post('/auth/reauth')
        .set('Authorization', bearer(s.accessToken))
        .send({ password: 'alice-password' });
      expect(res.body.session.groups).toEqual(['g1']);
    });

    it('refuses a wrong password, a foreign group, a missing token and a bad body', async () => {
      const s = await login(t, 'alice', 'alice-password');
      const auth = bearer(s.accessToken);
      const wrong = await t
        .http()
        .post('/auth/reauth')
        .set('Authorization', auth)
        .send({ password: 'x' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      const group = await t
        .http()
        .post('/auth/reauth')
        .set('Authorization', auth)
        .send({ password: 'alice-password', groups: ['admins'] });
      expect(group.status).toBe(403);
      expect(group.body.code).toBe('GROUP_FORBIDDEN');
      const none = await t.http().post('/auth/reauth').send({ password: 'alice-password' });
      expect(none.body.code).toBe('TOKEN_MISSING');
      const bad = await t.http().post('/auth/reauth').set('Authorization', auth).send({ pass: 1 });
      expect(bad.status).toBe(400);
      expect((await byId(s.session.id))!.refreshHash).toBe(sha256(s.refreshToken));
    });
  });

  describe('POST /auth/logout', () => {
    it('ends the current session; its token then answers SESSION_ENDED', async () => {
      const s = await login(t, 'bob', 'bob-password');
      const auth = bearer(s.accessToken);
      expect((await t.http().get('/sessions').set('Authorization', auth)).status).toBe(200);
      const res = await t.http().post('/auth/logout').set('Authorization', auth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await byId(s.session.id)).toMatchObject({
        state: 'ended',
        endReason: 'logout',
        expiredAt: t.clock.now(),
      });
      const after = await t.http().get('/sessions').set('Authorization', auth);
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('SESSION_ENDED');
      const again = await t.http().post('/auth/logout').set('Authorization', auth);
      expect(again.body.code).toBe('SESSION_ENDED');
    });
  });
});

describe('login rate limit (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOGIN_RATE_LIMIT: '3' });
    await createUser(t, { username: 'carol', password: 'carol-password' });
  });
  afterAll(() => t.close());

  it('answers 429 RATE_LIMITED past LOGIN_RATE_LIMIT attempts per IP and username', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t.http().post('/auth/login').send({ username: 'carol', password: 'wrong' });
      expect(res.status).toBe(401);
    }
    const limited = await t
      .http()
      .post('/auth/login')
      .send({ username: 'Carol', password: 'carol-password' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    // Another username from the same IP is counted separately.
    const other = await t.http().post('/auth/login').send({ username: 'dave', password: 'x' });
    expect(other.status).toBe(401);
  });
});
