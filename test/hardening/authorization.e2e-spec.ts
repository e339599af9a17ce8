import { Types } from 'mongoose';
import { signatureHeaders } from '../../src/admin/remote/request-signature';
import {
  bearer,
  createTestApp,
  createUser,
  login,
  LoggedIn,
  TestApp,
  TEST_ENV,
} from '../support/app';
import {
  assertErrorShape,
  fetchOpenApi,
  fillPath,
  forgedAuthorizations,
  Operation,
  operationsOf,
  opName,
  orphanAuthorizations,
  RouteFacts,
  routeTable,
} from '../support/hostile';

const PASSWORD = 'a-long-password-for-authorization';
const PEER_SECRET = 'authorization-peer-secret-0123456789abcdef';
const PEER_SELF = 'http://authorization.peer.test';
// Shorter than the access token's 900 s, so an idle session is seen with a still-valid token.
const IDLE_SECONDS = 600;

/**
 * The routes that take no bearer token. Anything else the app serves must refuse a request
 * without one: adding a public route means adding it here, on purpose.
 */
const PUBLIC_ROUTES = new Set([
  'POST /auth/login',
  'POST /auth/refresh',
  'GET /health',
  'GET /account',
  'GET /account/account.js',
  'GET /account/account.css',
  'POST /remote/sessions/validate',
  'POST /remote/sessions/invalidate',
]);

/**
 * Issue #6 hardening: every protected route of the OpenAPI document against every kind of
 * caller that must be turned away, and proof that nothing crosses from one user to another.
 */
describe('authorization on every documented route (e2e)', () => {
  let t: TestApp;
  let ops: Operation[];
  let routes: RouteFacts[];
  const ids: Record<string, string> = {};
  const facts = (op: Operation) =>
    routes.find((r) => r.method === op.method && r.path === op.path)!;
  const protectedOps = () => ops.filter((op) => !facts(op).isPublic);
  const sessions = () => t.connection.collection('sessions');
  const snapshot = async () => ({
    sessions: await sessions().find().sort({ _id: 1 }).toArray(),
    users: await t.connection.collection('users').find().sort({ _id: 1 }).toArray(),
  });

  /** A request that is well-formed apart from who sends it. */
  const call = (op: Operation, authorization: string | undefined, sessionId: string) => {
    const req = t.http()[op.method](fillPath(op.path, { id: sessionId }));
    if (authorization !== undefined) req.set('Authorization', authorization);
    if (op.method === 'patch' && op.pathParams.length) req.send({ label: 'hijacked' });
    return req;
  };

  const expectError = (
    op: Operation,
    res: { status: number; body: unknown },
    status: number,
    code: string,
    who: string,
  ) => {
    const what = `${opName(op)} as ${who}`;
    if (res.status !== status) {
      throw new Error(
        `${what}: expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    expect(assertErrorShape(what, res.status, res.body)).toBe(code);
  };

  beforeAll(async () => {
    t = await createTestApp({
      PEER_SECRET,
      PEER_SELF,
      SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS),
    });
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      ids[name] = (await createUser(t, { username: name, password: PASSWORD })).id;
    }
    ids.root = (await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] })).id;
    ops = operationsOf(await fetchOpenApi(t));
    routes = routeTable(t);
  });
  afterAll(() => t.close());

  it('documents every route the app serves, and only those', () => {
    expect(ops.length).toBeGreaterThan(0);
    const documented = ops.map(opName).sort();
    const served = routes.map(opName).sort();
    expect(documented).toEqual(served);
  });

  it('keeps the public routes to the known few, and documents bearer security on the rest', () => {
    for (const op of ops) {
      const r = facts(op);
      if (r.isPublic) expect(PUBLIC_ROUTES).toContain(opName(op));
      expect({ route: opName(op), bearer: op.bearer }).toEqual({
        route: opName(op),
        bearer: !r.isPublic,
      });
    }
    expect(protectedOps().length).toBeGreaterThan(5);
  });

  it('answers 401 TOKEN_MISSING on every protected route without a token', async () => {
    const alice = await login(t, 'alice', PASSWORD);
    for (const op of protectedOps()) {
      expectError(op, await call(op, undefined, alice.session.id), 401, 'TOKEN_MISSING', 'nobody');
      expectError(
        op,
        await call(op, 'Basic YWxpY2U6cHc=', alice.session.id),
        401,
        'TOKEN_MISSING',
        'basic auth',
      );
    }
  });

  it('answers 401 TOKEN_INVALID to every forged, expired or malformed token on every protected route', async () => {
    const alice = await login(t, 'alice', PASSWORD);
    const forgeries = forgedAuthorizations({
      secret: TEST_ENV.JWT_SECRET,
      nowSeconds: Math.floor(t.clock.nowMs() / 1000),
      sub: ids.alice,
      sid: alice.session.id,
    });
    for (const op of protectedOps()) {
      for (const [name, authorization] of Object.entries(forgeries)) {
        expectError(
          op,
          await call(op, authorization, alice.session.id),
          401,
          'TOKEN_INVALID',
          name,
        );
      }
    }
    // A real access token past its own lifetime (ACCESS_TOKEN_TTL_SECONDS, 900 by default).
    t.clock.advance(901_000);
    for (const op of protectedOps()) {
      expectError(
        op,
        await call(op, bearer(alice.accessToken), alice.session.id),
        401,
        'TOKEN_INVALID',
        'expired jwt',
      );
    }
  }, 90_000);

  it('answers 401 SESSION_EXPIRED to a well-signed token naming a missing or another user’s session', async () => {
    const bob = await login(t, 'bob', PASSWORD);
    const before = await snapshot();
    const orphans = orphanAuthorizations({
      secret: TEST_ENV.JWT_SECRET,
      nowSeconds: Math.floor(t.clock.nowMs() / 1000),
      sub: ids.alice,
      otherUsersSid: bob.session.id,
    });
    for (const op of protectedOps()) {
      for (const [name, authorization] of Object.entries(orphans)) {
        expectError(
          op,
          await call(op, authorization, bob.session.id),
          401,
          'SESSION_EXPIRED',
          name,
        );
      }
    }
    expect(await snapshot()).toEqual(before);
  }, 90_000);

  it('answers 401 SESSION_ENDED everywhere once the session was signed out', async () => {
    const alice = await login(t, 'alice', PASSWORD);
    await t.http().post('/auth/logout').set('Authorization', bearer(alice.accessToken)).expect(204);
    const before = await snapshot();
    for (const op of protectedOps()) {
      expectError(
        op,
        await call(op, bearer(alice.accessToken), alice.session.id),
        401,
        'SESSION_ENDED',
        'signed out',
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  /** Every protected route with a session that expired by `expire`; allowed routes still answer. */
  const expiredEverywhere = async (who: string, expire: (s: LoggedIn) => Promise<void>) => {
    for (const op of protectedOps()) {
      const s = await login(t, who, PASSWORD);
      await expire(s);
      const res = await call(op, bearer(s.accessToken), s.session.id);
      if (!facts(op).allowExpired) {
        expectError(op, res, 401, 'SESSION_EXPIRED', `expired (${who})`);
        continue;
      }
      expect({ route: opName(op), status: res.status < 300 }).toEqual({
        route: opName(op),
        status: true,
      });
      if (res.body && typeof res.body === 'object' && 'id' in res.body) {
        // It shows the caller's own session, as not valid, and nobody else's.
        expect(res.body).toMatchObject({ id: s.session.id, state: 'expired', valid: false });
        expect(res.body.user.id).toBe(ids[who]);
      }
      // Whatever the route did, the session is not live again.
      const after = await sessions().findOne({ _id: new Types.ObjectId(s.session.id) });
      expect(after!.state).not.toBe('active');
    }
  };

  it('answers 401 SESSION_EXPIRED after the idle timeout, except on @AllowExpiredSession routes', async () => {
    expect(routes.some((r) => r.allowExpired)).toBe(true);
    await expiredEverywhere('carol', async () => {
      t.clock.advance((IDLE_SECONDS + 1) * 1000);
    });
  }, 90_000);

  it('answers 401 SESSION_EXPIRED after an admin invalidated the session, except on @AllowExpiredSession routes', async () => {
    await expiredEverywhere('dave', async (s) => {
      const admin = await login(t, 'root', PASSWORD);
      const res = await t
        .http()
        .post('/admin/sessions/invalidate')
        .set('Authorization', bearer(admin.accessToken))
        .send({ username: 'dave', sessionId: s.session.id });
      expect(res.status).toBe(200);
      expect(res.body.invalidated).toBe(1);
    });
  }, 90_000);

  it('answers 403 FORBIDDEN to a non-admin on every admin route, changing nothing', async () => {
    const adminOps = protectedOps().filter((op) => facts(op).roles.includes('admin'));
    expect(adminOps.map(opName)).toEqual(
      expect.arrayContaining([
        'GET /admin/sessions',
        'POST /admin/users',
        'POST /admin/sessions/invalidate-all',
      ]),
    );
    const alice = await login(t, 'alice', PASSWORD);
    const before = await snapshot();
    for (const op of adminOps) {
      const req = call(op, bearer(alice.accessToken), alice.session.id);
      // A valid body too, so that only the role stands in the way.
      if (op.method === 'post')
        req.send({ username: 'alice', password: 'x'.repeat(12), roles: ['admin'] });
      expectError(op, await req, 403, 'FORBIDDEN', 'non-admin');
    }
    expect(await snapshot()).toEqual(before);
    // Every admin route is in /admin, and nothing else needs a role.
    for (const r of routes)
      expect({ r: opName(r), admin: r.roles.includes('admin') }).toEqual({
        r: opName(r),
        admin: r.path.startsWith('/admin/'),
      });
  });

  it('answers 404 NOT_FOUND for another user’s session on every /sessions/{id} route, leaving it as it was', async () => {
    const alice = await login(t, 'alice', PASSWORD);
    const bob = await login(t, 'bob', PASSWORD);
    const idOps = protectedOps().filter(
      (op) => op.pathParams.includes('id') && !op.path.startsWith('/admin'),
    );
    expect(idOps.length).toBeGreaterThanOrEqual(3);
    const before = await snapshot();
    for (const op of idOps) {
      const theirs = await call(op, bearer(alice.accessToken), bob.session.id);
      expectError(op, theirs, 404, 'NOT_FOUND', 'another user');
      // Indistinguishable from an id that names nothing.
      const nothing = await call(op, bearer(alice.accessToken), new Types.ObjectId().toHexString());
      expect(nothing.body).toEqual(theirs.body);
    }
    // Bob's session is unchanged, and still works.
    const after = await snapshot();
    expect(after.sessions.find((s) => String(s._id) === bob.session.id)).toEqual(
      before.sessions.find((s) => String(s._id) === bob.session.id),
    );
    await t
      .http()
      .get('/sessions/current')
      .set('Authorization', bearer(bob.accessToken))
      .expect(200);
  });

  it('shows each user only their own sessions and data', async () => {
    const alice = await login(t, 'alice', PASSWORD);
    const bob = await login(t, 'bob', PASSWORD);
    await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', bearer(bob.accessToken))
      .send({ secret: 'bob-only' })
      .expect(200);
    for (const state of ['active', 'expired', 'ended', 'all']) {
      const res = await t
        .http()
        .get(`/sessions?state=${state}`)
        .set('Authorization', bearer(alice.accessToken));
      expect(res.status).toBe(200);
      for (const s of res.body) expect(s.userId).toBe(ids.alice);
      expect(JSON.stringify(res.body)).not.toContain('bob-only');
    }
    const data = await t
      .http()
      .get('/sessions/current/data')
      .set('Authorization', bearer(alice.accessToken));
    expect(data.body).toEqual({});
    const ended = await t
      .http()
      .delete('/sessions?scope=others')
      .set('Authorization', bearer(alice.accessToken));
    expect(ended.status).toBe(200);
    const bobs = await sessions().countDocuments({
      userId: new Types.ObjectId(ids.bob),
      state: 'active',
    });
    expect(bobs).toBeGreaterThan(0);
    await t
      .http()
      .get('/sessions/current')
      .set('Authorization', bearer(bob.accessToken))
      .expect(200);
  });

  describe('remote routes', () => {
    const remote = (all: Operation[]) => all.filter((op) => op.path.startsWith('/remote/'));
    const body = JSON.stringify({ username: 'alice' });
    const send = (path: string, headers: Record<string, string>, raw = body) =>
      t.http().post(path).set('Content-Type', 'application/json').set(headers).send(raw);

    it('answer 401 SIGNATURE_INVALID to a missing, wrong, stale, misdirected or replayed signature', async () => {
      const targets = remote(ops);
      expect(targets).toHaveLength(2);
      const admin = await login(t, 'root', PASSWORD);
      const before = await snapshot();
      for (const op of targets) {
        const now = t.clock.nowMs();
        const good = signatureHeaders(
          PEER_SECRET,
          { method: 'POST', audience: PEER_SELF, path: op.path, body },
          now,
        );
        const cases: Record<string, [Record<string, string>, string?]> = {
          none: [{}],
          bearerInstead: [{ Authorization: bearer(admin.accessToken) }],
          onlyTimestamp: [{ 'X-Signature-Timestamp': good['X-Signature-Timestamp'] }],
          otherSecret: [
            signatureHeaders(
              'another-secret-0123456789abcdef',
              { method: 'POST', audience: PEER_SELF, path: op.path, body },
              now,
            ),
          ],
          otherBody: [good, JSON.stringify({ username: 'bob' })],
          otherPath: [
            signatureHeaders(
              PEER_SECRET,
              { method: 'POST', audience: PEER_SELF, path: '/remote/sessions/other', body },
              now,
            ),
          ],
          upperHex: [{ ...good, 'X-Signature': good['X-Signature'].toUpperCase() }],
          // Correctly signed, for another receiver (a call captured on its way to another peer).
          otherAudience: [
            signatureHeaders(
              PEER_SECRET,
              { method: 'POST', audience: 'http://another.peer.test', path: op.path, body },
              now,
            ),
          ],
          // Signed for this receiver but claiming another audience in the header.
          audienceHeaderSwapped: [{ ...good, 'X-Signature-Audience': 'http://another.peer.test' }],
          noNonce: [{ ...good, 'X-Signature-Nonce': '' }],
          shortNonce: [
            signatureHeaders(
              PEER_SECRET,
              { method: 'POST', audience: PEER_SELF, path: op.path, body },
              now,
              'short',
            ),
          ],
          otherNonce: [{ ...good, 'X-Signature-Nonce': 'a-different-nonce-0123' }],
          stale: [
            signatureHeaders(
              PEER_SECRET,
              { method: 'POST', audience: PEER_SELF, path: op.path, body },
              now - 301_000,
            ),
          ],
          future: [
            signatureHeaders(
              PEER_SECRET,
              { method: 'POST', audience: PEER_SELF, path: op.path, body },
              now + 301_000,
            ),
          ],
          garbage: [{ 'X-Signature': 'zz', 'X-Signature-Timestamp': 'yesterday' }],
        };
        for (const [name, [headers, raw]] of Object.entries(cases)) {
          expectError(op, await send(op.path, headers, raw), 401, 'SIGNATURE_INVALID', name);
        }
      }
      expect(await snapshot()).toEqual(before);
      // A good signature passes once; the same one again is a replay.
      const op = targets[0];
      const good = signatureHeaders(
        PEER_SECRET,
        { method: 'POST', audience: PEER_SELF, path: op.path, body },
        t.clock.nowMs(),
      );
      expect((await send(op.path, good)).status).toBe(200);
      expectError(op, await send(op.path, good), 401, 'SIGNATURE_INVALID', 'replay');
      // The store is keyed by nonce: the same nonce under a new timestamp and signature is refused.
      t.clock.advance(2000);
      const resigned = signatureHeaders(
        PEER_SECRET,
        { method: 'POST', audience: PEER_SELF, path: op.path, body },
        t.clock.nowMs(),
        good['X-Signature-Nonce'],
      );
      expect(resigned['X-Signature']).not.toBe(good['X-Signature']);
      expectError(op, await send(op.path, resigned), 401, 'SIGNATURE_INVALID', 'nonce reuse');
      // Two calls with the same body in the same second are distinct (fresh nonces): both pass.
      const twins = [0, 1].map(() =>
        signatureHeaders(
          PEER_SECRET,
          { method: 'POST', audience: PEER_SELF, path: op.path, body },
          t.clock.nowMs(),
        ),
      );
      for (const h of twins) expect((await send(op.path, h)).status).toBe(200);
    });
  });
});
