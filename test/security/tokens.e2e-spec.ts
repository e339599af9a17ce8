import { Controller, Get, Module } from '@nestjs/common';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { AppModule } from '../../src/app.module';
import { RequireGroups } from '../../src/sessions';
import { SessionCheckService } from '../../src/sessions/session-check.service';
import { SessionsService } from '../../src/sessions/sessions.service';
import { bearer, createTestApp, createUser, login, TEST_ENV, TestApp } from '../support/app';

/**
 * Issue 11: the session generation in access tokens (finding 3: a reauth that adds groups must
 * not give the tokens issued before it the new powers), refresh successors keyed per session
 * (finding 1: a leaked JWT_SECRET plus old refresh tokens gives no current one), and a deleted
 * or disabled user's sessions (finding 5). All through HTTP against the real app.
 */
const PASSWORD = 'a-long-password-for-tokens';

@Controller('probe')
class ProbeController {
  @RequireGroups('g1', 'g2')
  @Get('both-groups')
  bothGroups() {
    return { ok: true };
  }
}

/** The app as it ships, plus one route that needs two groups (the app itself has none). */
@Module({ imports: [AppModule], controllers: [ProbeController] })
class HostModule {}

describe('access tokens, refresh successors and users (issue 11, e2e)', () => {
  let t: TestApp;
  let aliceId: string;

  beforeAll(async () => {
    t = await createTestApp({}, { module: HostModule });
    aliceId = (await createUser(t, { username: 'alice', password: PASSWORD, groups: ['g1', 'g2'] }))
      .id;
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.connection.collection('sessions').deleteMany({});
    await t.connection
      .collection('users')
      .updateOne({ username: 'alice' }, { $set: { disabledAt: null } });
  });

  const sessions = () => t.connection.collection('sessions');
  const stored = (id: string) => sessions().findOne({ _id: new ObjectId(id) });
  const get = (path: string, token: string) =>
    t.http().get(path).set('Authorization', bearer(token));
  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refreshToken });
  const reauth = (token: string, body: object) =>
    t.http().post('/auth/reauth').set('Authorization', bearer(token)).send(body);

  describe('finding 3: tokens from before a reauth', () => {
    it('a reauth that adds groups leaves the earlier access token without them: 401 TOKEN_INVALID', async () => {
      const before = await login(t, 'alice', PASSWORD, { groups: ['g1'] });
      // Used once so the session check has it cached, as a busy client would.
      expect((await get('/probe/both-groups', before.accessToken)).status).toBe(403);

      const res = await reauth(before.accessToken, { password: PASSWORD, groups: ['g1', 'g2'] });
      expect(res.status).toBe(200);
      expect(res.body.session.groups).toEqual(['g1', 'g2']);
      await get('/probe/both-groups', res.body.accessToken).expect(200);

      // The review's attack: the old token with the new groups.
      for (const path of ['/probe/both-groups', '/sessions/current', '/sessions']) {
        const old = await get(path, before.accessToken);
        expect({ path, status: old.status, code: old.body.code }).toEqual({
          path,
          status: 401,
          code: 'TOKEN_INVALID',
        });
      }
      // Nothing about the session itself changed: the new token keeps working.
      await get('/sessions/current', res.body.accessToken).expect(200);
    });

    it('carries the generation as gen, renewed by every reauth', async () => {
      const s = await login(t, 'alice', PASSWORD);
      const gen0 = claimsOf(s.accessToken).gen;
      expect(gen0).toEqual((await stored(s.session.id))!.generation);
      expect(Buffer.from(gen0 as string, 'base64url')).toHaveLength(16);
      const again = await reauth(s.accessToken, { password: PASSWORD }).expect(200);
      const gen1 = claimsOf(again.body.accessToken).gen;
      expect(gen1).not.toEqual(gen0);
      expect(gen1).toEqual((await stored(s.session.id))!.generation);
      // A refresh keeps the generation: tokens of one generation stay interchangeable.
      const rotated = await refresh(again.body.refreshToken).expect(200);
      expect(claimsOf(rotated.body.accessToken).gen).toEqual(gen1);
    });

    it('a token of a newer generation passes on an instance that cached the older one', async () => {
      // Another instance on the same database, which cached the session before the reauth.
      const other = await createTestApp({}, { db: t.db });
      try {
        const s = await login(t, 'alice', PASSWORD);
        await other
          .http()
          .get('/sessions/current')
          .set('Authorization', bearer(s.accessToken))
          .expect(200);
        const res = await reauth(s.accessToken, { password: PASSWORD }).expect(200);
        await other
          .http()
          .get('/sessions/current')
          .set('Authorization', bearer(res.body.accessToken))
          .expect(200);
        // Having read the new generation, that instance refuses the old token at once.
        const old = await other
          .http()
          .get('/sessions/current')
          .set('Authorization', bearer(s.accessToken));
        expect([old.status, old.body.code]).toEqual([401, 'TOKEN_INVALID']);
      } finally {
        await other.close();
      }
    });

    it('afterPasswordChange: ends the other sessions, renews this one, and refuses its older tokens', async () => {
      const current = await login(t, 'alice', PASSWORD);
      const other = await login(t, 'alice', PASSWORD);
      // What the guard puts on the request of `current`.
      const auth = await t.app
        .get(SessionCheckService)
        .authenticate(
          {
            sub: aliceId,
            sid: current.session.id,
            gen: claimsOf(current.accessToken).gen as string,
          },
          false,
        );
      const fresh = await t.app
        .get(SessionsService)
        .afterPasswordChange(auth, { secret: TEST_ENV.JWT_SECRET, ip: null, userAgent: null });
      expect(fresh.session.id).toBe(current.session.id);

      const old = await get('/sessions/current', current.accessToken);
      expect([old.status, old.body.code]).toEqual([401, 'TOKEN_INVALID']);
      expect((await refresh(current.refreshToken)).body.code).toBe('REFRESH_TOKEN_INVALID');
      await get('/sessions/current', fresh.accessToken).expect(200);
      await refresh(fresh.refreshToken).expect(200);

      expect(await stored(other.session.id)).toMatchObject({
        state: 'ended',
        endReason: 'password_changed',
        data: {},
      });
      const gone = await get('/sessions/current', other.accessToken);
      expect([gone.status, gone.body.code]).toEqual([401, 'SESSION_ENDED']);
    });
  });

  describe('finding 1: refresh successors are keyed per session, not by JWT_SECRET', () => {
    /** What the successor was before: HMAC over the presented token with a key from JWT_SECRET. */
    const derivedFromSecret = (presented: string) =>
      createHmac(
        'sha256',
        Buffer.from(
          hkdfSync(
            'sha256',
            TEST_ENV.JWT_SECRET,
            Buffer.alloc(0),
            'nest-sessions refresh rotation',
            32,
          ),
        ),
      )
        .update(presented)
        .digest('base64url');
    const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

    it('JWT_SECRET plus an old refresh token does not give the current one', async () => {
      const s = await login(t, 'alice', PASSWORD);
      const r1 = (await refresh(s.refreshToken).expect(200)).body.refreshToken;
      const r2 = (await refresh(r1).expect(200)).body.refreshToken;
      // The attacker's computation with the leaked secret, from either token they saw.
      for (const guess of [derivedFromSecret(s.refreshToken), derivedFromSecret(r1)]) {
        expect([r1, r2]).not.toContain(guess);
        expect((await stored(s.session.id))!.refreshHash).not.toBe(sha256(guess));
      }
      // The key is the session's own, random, and stays in the database.
      const keys = await sessions()
        .find({}, { projection: { rotationKey: 1 } })
        .toArray();
      expect(keys).toHaveLength(1);
      expect(Buffer.from(keys[0].rotationKey, 'base64url')).toHaveLength(32);
      const other = await login(t, 'alice', PASSWORD);
      expect(
        (await sessions().findOne({ _id: new ObjectId(other.session.id) }))!.rotationKey,
      ).not.toBe(keys[0].rotationKey);
      for (const res of [s, other]) expect(JSON.stringify(res)).not.toContain(keys[0].rotationKey);
    });

    it('a session made before rotation keys gets one at its first rotation; a replay in the grace window still answers the same pair', async () => {
      const s = await login(t, 'alice', PASSWORD);
      await sessions().updateOne(
        { _id: new ObjectId(s.session.id) },
        { $unset: { rotationKey: '', generation: '' } },
      );
      const [a, b] = await Promise.all([refresh(s.refreshToken), refresh(s.refreshToken)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body.refreshToken).toBe(b.body.refreshToken);
      expect(a.body.accessToken).toBe(b.body.accessToken);
      expect((await sessions().findOne({ _id: new ObjectId(s.session.id) }))!.rotationKey).toEqual(
        expect.any(String),
      );
      await refresh(a.body.refreshToken).expect(200);
    });
  });

  describe("finding 5: a deleted or disabled user's sessions", () => {
    it('the user document deleted in the database: refresh 401, requests 401', async () => {
      const s = await login(t, 'alice', PASSWORD);
      const backup = await t.connection.collection('users').findOne({ username: 'alice' });
      await get('/sessions/current', s.accessToken).expect(200); // cached now
      await t.connection.collection('users').deleteOne({ username: 'alice' });
      try {
        const refused = await refresh(s.refreshToken);
        expect([refused.status, refused.body.code]).toEqual([401, 'SESSION_EXPIRED']);
        // The refresh token was not rotated: nothing was issued for a user who is gone.
        expect((await stored(s.session.id))!.refreshHistory).toEqual([]);
        // The guard's check reads the user with the session: at the latest when the cached
        // copy lapses (SESSION_CACHE_TTL_MS), every request is refused.
        t.clock.advance(5000);
        const res = await get('/sessions/current', s.accessToken);
        expect([res.status, res.body.code]).toEqual([401, 'SESSION_EXPIRED']);
      } finally {
        await t.connection.collection('users').insertOne(backup!);
      }
    });

    it('disabledAt set: refresh 401, requests 401; cleared: they work again', async () => {
      const s = await login(t, 'alice', PASSWORD);
      await t.connection
        .collection('users')
        .updateOne({ username: 'alice' }, { $set: { disabledAt: t.clock.now() } });
      const refused = await refresh(s.refreshToken);
      expect([refused.status, refused.body.code]).toEqual([401, 'SESSION_EXPIRED']);
      t.clock.advance(5000);
      const res = await get('/sessions/current', s.accessToken);
      expect([res.status, res.body.code]).toEqual([401, 'SESSION_EXPIRED']);

      await t.connection
        .collection('users')
        .updateOne({ username: 'alice' }, { $set: { disabledAt: null } });
      await get('/sessions/current', s.accessToken).expect(200);
      await refresh(s.refreshToken).expect(200);
    });
  });
});

/** The payload of a JWT, unverified (the test reads what the service put in). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
