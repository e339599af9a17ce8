import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { Types } from 'mongoose';
import { freePort } from './support/app-process';
import { createTestApp, createUser, login, TestApp } from './support/app';
import { storedSession } from './support/session-docs';

const PASSWORD = 'correct horse battery staple';
const SECRET = 'replay-attack-peer-secret-0123456789abcdef';

interface Captured {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The headers of a captured call that matter for a replay. */
const signed = (h: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    [
      'content-type',
      'x-signature',
      'x-signature-timestamp',
      'x-signature-nonce',
      'x-signature-audience',
    ]
      .filter((k) => typeof h[k] === 'string')
      .map((k) => [k, h[k] as string]),
  );

/**
 * A man in the middle in front of peer B: records every call (headers and body, as an attacker
 * on the wire would) and forwards it unchanged. B is configured to be reached under the
 * proxy's origin, as a peer behind a load balancer is.
 */
async function recordingProxy(port: number, target: () => string) {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      captured.push({ path: req.url!, headers: req.headers, body });
      void fetch(target() + req.url, { method: req.method, headers: signed(req.headers), body })
        .then(async (r) => {
          res.writeHead(r.status, { 'Content-Type': 'application/json' });
          res.end(await r.text());
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { captured, server };
}

/** Sessions written straight into a peer's database (see remote.e2e-spec: one passport per process). */
async function seedSessions(t: TestApp, username: string, n: number): Promise<string[]> {
  const { id } = await createUser(t, { username, password: PASSWORD });
  const now = t.clock.nowMs();
  const docs = Array.from({ length: n }, (_, i) => ({
    ...storedSession({
      userId: new Types.ObjectId(id),
      username,
      lastSeenAt: new Date(now + i * 1000),
      expiresAt: new Date(now + 7 * 86400_000),
    }),
    createdAt: new Date(now + i * 1000),
  }));
  await t.connection.collection('sessions').insertMany(docs);
  return docs.map((d) => String(d._id));
}

const statesOf = async (t: TestApp, username: string) =>
  (
    await t.connection.collection('sessions').find({ username }).sort({ createdAt: 1 }).toArray()
  ).map((s) => [s.state, s.endReason]);

/**
 * Issue 12, finding 3: a `distribute=true` call captured on the wire and replayed. Three
 * instances, each on its own database (separate sites): A distributes to B (behind a recording
 * proxy) and to C. Every replay of the captured call, to the sender itself, to the other peer
 * or again to its receiver, is 401 SIGNATURE_INVALID and changes nothing.
 */
describe('replaying a captured distributed call (e2e, three instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;
  let urls: { a: string; b: string; c: string; proxy: string };
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let admin: string;

  beforeAll(async () => {
    const [pa, pb, pc, pp] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const url = (p: number) => `http://127.0.0.1:${p}`;
    urls = { a: url(pa), b: url(pb), c: url(pc), proxy: url(pp) };
    proxy = await recordingProxy(pp, () => urls.b);
    b = await createTestApp({ PEER_SECRET: SECRET, PEER_SELF: urls.proxy });
    await b.app.listen(pb, '127.0.0.1');
    c = await createTestApp({ PEER_SECRET: SECRET, PEER_SELF: urls.c });
    await c.app.listen(pc, '127.0.0.1');
    // Created last: logins in this process go through the last app's passport strategy.
    a = await createTestApp({
      PEER_SECRET: SECRET,
      PEER_SELF: urls.a,
      PEER_HOSTS: `${urls.proxy},${urls.c}`,
    });
    await a.app.listen(pa, '127.0.0.1');
    await createUser(a, { username: 'root', password: PASSWORD, roles: ['admin'] });
    admin = (await login(a, 'root', PASSWORD)).accessToken;
  });
  afterAll(async () => {
    for (const t of [a, b, c]) await t?.close();
    proxy?.server.closeAllConnections();
    await new Promise((r) => proxy?.server.close(r));
  });
  beforeEach(async () => {
    proxy.captured.length = 0;
    for (const t of [a, b, c]) {
      await t.connection.collection('sessions').deleteMany({ username: 'alice' });
      await t.connection.collection('users').deleteMany({ username: 'alice' });
    }
  });

  const asAdmin = (path: string, body: object) =>
    a.http().post(path).set('Authorization', `Bearer ${admin}`).send(body).expect(200);
  const replay = (to: string, call: Captured) =>
    fetch(to + call.path, { method: 'POST', headers: signed(call.headers), body: call.body });

  it('refuses a captured validate replayed to the sender after the admin invalidated', async () => {
    await createUser(a, { username: 'alice', password: PASSWORD });
    const aIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      aIds.push((await login(a, 'alice', PASSWORD)).session.id);
      a.clock.advance(1000);
    }
    await seedSessions(b, 'alice', 2);
    await seedSessions(c, 'alice', 2);

    const v = await asAdmin('/admin/sessions/validate?distribute=true', { username: 'alice' });
    expect(v.body).toEqual({ validated: aIds[1], expired: 1, errors: [] });
    const [captured] = proxy.captured;
    expect(captured.path).toBe('/remote/sessions/validate');
    expect(captured.headers['x-signature-audience']).toBe(urls.proxy);

    // The admin then takes the latest session away on A.
    await asAdmin('/admin/sessions/invalidate', { username: 'alice', sessionId: aIds[1] });
    const aBefore = await statesOf(a, 'alice');
    expect(aBefore).toEqual([
      ['expired', 'superseded'],
      ['expired', 'admin'],
    ]);
    const cBefore = await statesOf(c, 'alice');
    const bBefore = await statesOf(b, 'alice');

    for (const [to, t, before] of [
      [urls.a, a, aBefore],
      [urls.c, c, cBefore],
      [urls.b, b, bBefore],
      [urls.proxy, b, bBefore],
    ] as const) {
      const res = await replay(to, captured);
      expect({
        to,
        status: res.status,
        code: ((await res.json()) as { code?: string }).code,
      }).toEqual({
        to,
        status: 401,
        code: 'SIGNATURE_INVALID',
      });
      expect(await statesOf(t, 'alice')).toEqual(before);
    }
  });

  it('signs each peer’s copy for that peer: the copy sent to C does not pass at B', async () => {
    await createUser(a, { username: 'alice', password: PASSWORD });
    await seedSessions(b, 'alice', 1);
    await seedSessions(c, 'alice', 1);
    await asAdmin('/admin/sessions/invalidate?distribute=true', { username: 'alice' });
    const [toB] = proxy.captured;
    // An attacker relabels B's copy as addressed to C: the audience is inside the HMAC.
    const relabelled = { ...toB, headers: { ...toB.headers, 'x-signature-audience': urls.c } };
    const res = await replay(urls.c, relabelled);
    expect(res.status).toBe(401);
  });

  it('delivers two identical calls made in the same second (distinct nonces)', async () => {
    await createUser(a, { username: 'alice', password: PASSWORD });
    await seedSessions(b, 'alice', 1);
    await seedSessions(c, 'alice', 1);
    const body = { username: 'alice' };
    const first = await asAdmin('/admin/sessions/invalidate?distribute=true', body);
    const second = await asAdmin('/admin/sessions/invalidate?distribute=true', body);
    expect(first.body.errors).toEqual([]);
    expect(second.body.errors).toEqual([]);
    expect(proxy.captured).toHaveLength(2);
    expect(proxy.captured[0].body).toBe(proxy.captured[1].body);
    expect(proxy.captured[0].headers['x-signature-timestamp']).toBe(
      proxy.captured[1].headers['x-signature-timestamp'],
    );
  });
});
