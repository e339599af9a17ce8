import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Types } from 'mongoose';
import { newNonce, signRequest } from '../src/admin/remote/request-signature';
import { freePort } from './support/app-process';
import { createTestApp, createUser, login, TestApp } from './support/app';

const PASSWORD = 'correct horse battery staple';
const SECRET = 'peer-secret-for-the-e2e-tests-0123456789';
const PATH = '/remote/sessions/invalidate';
/** The origin the receiver under test is reached under (its PEER_SELF). */
const SELF = 'http://receiver.peer.test';

async function userWithSessions(t: TestApp, username: string, n: number) {
  await createUser(t, { username, password: PASSWORD });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(String((await login(t, username, PASSWORD)).session.id));
    t.clock.advance(1000);
  }
  return ids;
}

const statesOf = async (t: TestApp, username: string) =>
  (
    await t.connection.collection('sessions').find({ username }).sort({ createdAt: 1 }).toArray()
  ).map((s) => [s.state, s.endReason]);

describe('Remote signed routes (e2e)', () => {
  let t: TestApp;
  let ids: string[];
  beforeEach(async () => {
    t = await createTestApp({ PEER_SECRET: SECRET, PEER_SELF: SELF });
    ids = await userWithSessions(t, 'alice', 2);
  });
  afterEach(() => t.close());

  const nowSeconds = () => String(Math.floor(t.clock.nowMs() / 1000));
  function signed(
    body: string,
    opts: { secret?: string; ts?: string; path?: string; audience?: string; nonce?: string } = {},
  ) {
    const ts = opts.ts ?? nowSeconds();
    const nonce = opts.nonce ?? newNonce();
    const audience = opts.audience ?? SELF;
    const sig = signRequest(opts.secret ?? SECRET, {
      method: 'POST',
      audience,
      path: opts.path ?? PATH,
      timestamp: ts,
      nonce,
      body,
    });
    return {
      'Content-Type': 'application/json',
      'X-Signature-Timestamp': ts,
      'X-Signature-Nonce': nonce,
      'X-Signature-Audience': audience,
      'X-Signature': sig,
    };
  }
  const post = (path: string, body: string, headers: Record<string, string>) =>
    t.http().post(path).set(headers).send(body);
  const expectRefused = async (res: { status: number; body: { code?: string } }) => {
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('SIGNATURE_INVALID');
    expect(await statesOf(t, 'alice')).toEqual([
      ['active', null],
      ['active', null],
    ]);
  };

  it('applies a correctly signed invalidate and validate', async () => {
    const body = JSON.stringify({ username: 'alice', sessionId: ids[0] });
    const res = await post(PATH, body, signed(body)).expect(200);
    expect(res.body).toEqual({ invalidated: 1, errors: [] });
    expect(await statesOf(t, 'alice')).toEqual([
      ['expired', 'admin'],
      ['active', null],
    ]);

    const vpath = '/remote/sessions/validate';
    const vbody = JSON.stringify({ username: 'alice', sessionId: ids[0] });
    const v = await post(vpath, vbody, signed(vbody, { path: vpath })).expect(200);
    expect(v.body).toEqual({ validated: ids[0], expired: 1, errors: [] });
    expect(await statesOf(t, 'alice')).toEqual([
      ['active', null],
      ['expired', 'superseded'],
    ]);
  });

  it('verifies the raw bytes, so any JSON formatting the signer chose is accepted', async () => {
    const body = `{ "username" : "alice",\n  "sessionId": "${ids[1]}" }`;
    await post(PATH, body, signed(body)).expect(200, { invalidated: 1, errors: [] });
  });

  it('refuses a wrong signature: another secret, a changed body, another path', async () => {
    const body = JSON.stringify({ username: 'alice' });
    await expectRefused(await post(PATH, body, signed(body, { secret: SECRET + 'x' })));
    await expectRefused(await post(PATH, body, { ...signed(JSON.stringify({ username: 'bob' })) }));
    await expectRefused(
      await post(PATH, body, signed(body, { path: '/remote/sessions/validate' })),
    );
    await expectRefused(await post(PATH, body, { ...signed(body), 'X-Signature': 'f'.repeat(64) }));
  });

  it('refuses missing signature headers', async () => {
    const body = JSON.stringify({ username: 'alice' });
    const { 'X-Signature': _sig, ...noSig } = signed(body);
    const { 'X-Signature-Timestamp': _ts, ...noTs } = signed(body);
    const { 'X-Signature-Nonce': _n, ...noNonce } = signed(body);
    const { 'X-Signature-Audience': _a, ...noAudience } = signed(body);
    for (const headers of [noSig, noTs, noNonce, noAudience]) {
      await expectRefused(await post(PATH, body, headers));
    }
  });

  it('refuses a call signed for another audience, even one this secret signs', async () => {
    const body = JSON.stringify({ username: 'alice' });
    await expectRefused(
      await post(PATH, body, signed(body, { audience: 'http://other.peer.test' })),
    );
  });

  it('verifies under any listed secret: the second one still passes during rotation', async () => {
    const next = 'next-peer-secret-for-the-e2e-tests-012345';
    const rotated = await createTestApp({ PEER_SECRET: `${next},${SECRET}`, PEER_SELF: SELF });
    try {
      await userWithSessions(rotated, 'bob', 1);
      const body = JSON.stringify({ username: 'bob' });
      for (const secret of [next, SECRET]) {
        await rotated
          .http()
          .post(PATH)
          .set(signed(body, { secret, ts: String(Math.floor(rotated.clock.nowMs() / 1000)) }))
          .send(body)
          .expect(200);
      }
      const other = signed(body, { secret: 'not-a-listed-secret-0123456789abcdef' });
      await rotated.http().post(PATH).set(other).send(body).expect(401);
    } finally {
      await rotated.close();
    }
  });

  it('refuses a stale signature, older or newer than 300 s', async () => {
    const body = JSON.stringify({ username: 'alice' });
    const old = String(Math.floor(t.clock.nowMs() / 1000) - 301);
    const future = String(Math.floor(t.clock.nowMs() / 1000) + 301);
    await expectRefused(await post(PATH, body, signed(body, { ts: old })));
    await expectRefused(await post(PATH, body, signed(body, { ts: future })));

    const headers = signed(body);
    t.clock.advance(301_000);
    await expectRefused(await post(PATH, body, headers));
  });

  it('refuses a replayed nonce, even after the first call was answered', async () => {
    const body = JSON.stringify({ username: 'alice', sessionId: ids[0] });
    const headers = signed(body);
    await post(PATH, body, headers).expect(200, { invalidated: 1, errors: [] });
    // revive it locally so a replay would be observable
    await t.connection
      .collection('sessions')
      .updateOne(
        { _id: new Types.ObjectId(ids[0]) },
        { $set: { state: 'active', endReason: null, expiredAt: null } },
      );
    await expectRefused(await post(PATH, body, headers));
  });

  it('validates the body of a signed call like the admin route', async () => {
    const body = JSON.stringify({ username: 'alice', extra: 1 });
    const res = await post(PATH, body, signed(body)).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const unknown = JSON.stringify({ username: 'nobody' });
    expect((await post(PATH, unknown, signed(unknown)).expect(404)).body.code).toBe('NOT_FOUND');
  });

  it('ignores a bearer token: admin tokens do not replace the signature', async () => {
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    const { accessToken } = await login(t, 'root', PASSWORD);
    const body = JSON.stringify({ username: 'alice' });
    const res = await t
      .http()
      .post(PATH)
      .set({ 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` })
      .send(body);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('SIGNATURE_INVALID');
  });
});

describe('Remote routes without PEER_SECRET (e2e)', () => {
  it('refuses every call, signed or not', async () => {
    const t = await createTestApp();
    try {
      await userWithSessions(t, 'alice', 1);
      const body = JSON.stringify({ username: 'alice' });
      const ts = String(Math.floor(t.clock.nowMs() / 1000));
      const res = await t
        .http()
        .post(PATH)
        .set({
          'Content-Type': 'application/json',
          'X-Signature-Timestamp': ts,
          'X-Signature-Nonce': 'nonce-0123456789abcdef',
          'X-Signature-Audience': SELF,
          'X-Signature': signRequest(SECRET, {
            method: 'POST',
            audience: SELF,
            path: PATH,
            timestamp: ts,
            nonce: 'nonce-0123456789abcdef',
            body,
          }),
        })
        .send(body);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SIGNATURE_INVALID');
      expect(await statesOf(t, 'alice')).toEqual([['active', null]]);
    } finally {
      await t.close();
    }
  });
});

describe('distribute=true to peer instances (e2e)', () => {
  const TIMEOUT_MS = 1000;
  let origin: TestApp;
  let healthy: TestApp;
  let healthyUrl: string;
  let deadUrl: string;
  let hanging: Server;
  let hangingUrl: string;
  let originIds: string[];
  let admin: string;

  /**
   * The peer's sessions are written straight into its database. Logging in through HTTP would
   * not do: passport keeps one strategy per name for the whole process, so with several apps in
   * one test process a login is checked by whichever app was created last (the origin here).
   */
  async function peerUserWithSessions(t: TestApp, username: string, n: number) {
    const { id } = await createUser(t, { username, password: PASSWORD });
    const now = t.clock.nowMs();
    const docs = Array.from({ length: n }, (_, i) => ({
      userId: new Types.ObjectId(id),
      username,
      groups: [],
      ip: '198.51.100.1',
      userAgent: 'peer-test',
      label: null,
      state: 'active',
      createdAt: new Date(now + i * 1000),
      lastSeenAt: new Date(now + i * 1000),
      expiresAt: new Date(now + 7 * 86400_000),
      expiredAt: null,
      endReason: null,
      refreshHash: new Types.ObjectId().toHexString(),
      refreshHistory: [],
      rotatedAt: null,
      data: {},
    }));
    await t.connection.collection('sessions').insertMany(docs);
  }

  beforeAll(async () => {
    // Nothing listens on a port below 1024 here (1023 is not on fetch's list of refused ports),
    // and no bind to port 0 is ever given one. A port freed by a stopped app could be handed to
    // the next listener: the healthy peer did get it once, with the suite on both platforms.
    deadUrl = 'http://127.0.0.1:1023';
    hanging = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    // The healthy peer itself has the dead peer configured: if a remote call fanned out again,
    // its failure would show up as one more error string.
    const port = await freePort();
    healthyUrl = `http://127.0.0.1:${port}`;
    healthy = await createTestApp({
      PEER_SECRET: SECRET,
      PEER_HOSTS: deadUrl,
      PEER_SELF: healthyUrl,
    });
    await healthy.app.listen(port, '127.0.0.1');

    origin = await createTestApp({
      PEER_SECRET: SECRET,
      PEER_HOSTS: `${healthyUrl},${deadUrl},${hangingUrl}`,
      PEER_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    await createUser(origin, { username: 'root', password: PASSWORD, roles: ['admin'] });
    admin = (await login(origin, 'root', PASSWORD)).accessToken;
  });
  afterAll(async () => {
    await origin?.close();
    await healthy?.close();
    hanging?.closeAllConnections();
    await new Promise((r) => hanging?.close(r));
  });
  beforeEach(async () => {
    for (const t of [origin, healthy]) {
      await t.connection.collection('sessions').deleteMany({ username: 'alice' });
      await t.connection.collection('users').deleteMany({ username: 'alice' });
    }
    originIds = await userWithSessions(origin, 'alice', 2);
    await peerUserWithSessions(healthy, 'alice', 3);
  });

  const deadAndSlow = () => [
    expect.stringMatching(new RegExp(`^${deadUrl}: ECONNREFUSED$`)),
    `${hangingUrl}: timeout after ${TIMEOUT_MS} ms`,
  ];
  const distributed = (op: string, body: object) =>
    origin
      .http()
      .post(`/admin/sessions/${op}?distribute=true`)
      .set({ Authorization: `Bearer ${admin}` })
      .send(body)
      .expect(200);

  it('invalidates on every peer and reports the stopped and the silent one', async () => {
    const res = await distributed('invalidate', { username: 'alice' });
    expect(res.body).toEqual({ invalidated: 2, errors: deadAndSlow() });
    expect(await statesOf(origin, 'alice')).toEqual([
      ['expired', 'admin'],
      ['expired', 'admin'],
    ]);
    expect(await statesOf(healthy, 'alice')).toEqual([
      ['expired', 'admin'],
      ['expired', 'admin'],
      ['expired', 'admin'],
    ]);
  });

  it("validates the user's latest session on every peer", async () => {
    const res = await distributed('validate', { username: 'alice' });
    expect(res.body).toEqual({ validated: originIds[1], expired: 1, errors: deadAndSlow() });
    expect(await statesOf(healthy, 'alice')).toEqual([
      ['expired', 'superseded'],
      ['expired', 'superseded'],
      ['active', null],
    ]);
  });

  it('reports a peer that answers with an error, by its status and code', async () => {
    // that session id exists only on the origin: the healthy peer answers 404
    const res = await distributed('invalidate', { username: 'alice', sessionId: originIds[0] });
    expect(res.body).toEqual({
      invalidated: 1,
      errors: [
        `${healthyUrl}: HTTP 404 NOT_FOUND: No such session for this user`,
        ...deadAndSlow(),
      ],
    });
    expect(await statesOf(healthy, 'alice')).toEqual([
      ['active', null],
      ['active', null],
      ['active', null],
    ]);
  });

  it('without distribute, touches no peer', async () => {
    await origin
      .http()
      .post('/admin/sessions/invalidate')
      .set({ Authorization: `Bearer ${admin}` })
      .send({ username: 'alice' })
      .expect(200, { invalidated: 2, errors: [] });
    expect(await statesOf(healthy, 'alice')).toEqual([
      ['active', null],
      ['active', null],
      ['active', null],
    ]);
  });
});
