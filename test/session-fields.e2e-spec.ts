import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, TestApp } from './support/app';

const FIREFOX_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const PASSWORD = 'fields-password-123';
const MINUTE = 60_000;

/** device, lastSeenIp and authenticatedAt on the Session object (issue 14). */
describe('session fields: device, lastSeenIp, authenticatedAt (e2e)', () => {
  let t: TestApp;
  const stored = (id: string) =>
    t.connection.collection('sessions').findOne({ _id: new Types.ObjectId(id) });
  /** A request from `ip` (the app trusts the loopback proxy, so X-Forwarded-For counts). */
  const from = (ip: string, method: 'get' | 'post', path: string, token?: string) => {
    const req = t.http()[method](path).set('X-Forwarded-For', ip);
    return token ? req.set('Authorization', bearer(token)) : req;
  };
  const loginFrom = async (ip: string, userAgent?: string) => {
    const req = from(ip, 'post', '/auth/login');
    if (userAgent !== undefined) req.set('User-Agent', userAgent);
    const res = await req.send({ username: 'ana', password: PASSWORD });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'loopback' });
    await createUser(t, { username: 'ana', password: PASSWORD, roles: ['admin'] });
  });
  afterAll(() => t.close());

  it('names the device from the user agent, in the answer, the listing and the store', async () => {
    const firefox = await loginFrom('203.0.113.7', FIREFOX_WINDOWS);
    const phone = await loginFrom('203.0.113.8', SAFARI_IPHONE);
    expect(firefox.session.device).toEqual({
      name: 'Firefox on Windows',
      browser: 'Firefox',
      os: 'Windows',
      type: 'desktop',
    });
    const list = await from('203.0.113.8', 'get', '/sessions', phone.accessToken).expect(200);
    const byId = new Map(list.body.map((s: any) => [s.id, s.device]));
    expect(byId.get(phone.session.id)).toEqual({
      name: 'Safari on iOS',
      browser: 'Safari',
      os: 'iOS',
      type: 'mobile',
    });
    expect(byId.get(firefox.session.id)).toEqual(firefox.session.device);
    expect((await stored(firefox.session.id))?.device).toEqual(firefox.session.device);
  });

  it('answers every device field null for an agent it cannot read, a missing one or a hostile one', async () => {
    const unknown = { name: null, browser: null, os: null, type: null };
    expect((await loginFrom('203.0.113.7', 'curl/8.4.0')).session.device).toEqual(unknown);
    expect((await loginFrom('203.0.113.7', '')).session.device).toEqual(unknown);
    // Oversized: the agent is cut to 512 characters before it is stored or parsed.
    const long = await loginFrom('203.0.113.7', `${FIREFOX_WINDOWS} ${'('.repeat(8000)}`);
    expect(long.session.userAgent).toHaveLength(512);
    expect(long.session.device.name).toBe('Firefox on Windows');
    const formula = await loginFrom('203.0.113.7', '=cmd|"/c calc"!A1');
    expect(formula.session.device).toEqual(unknown);
  });

  it('records lastSeenIp with the lazy lastSeenAt write, never on a request of its own', async () => {
    const s = await loginFrom('203.0.113.7', FIREFOX_WINDOWS);
    expect(s.session).toMatchObject({ ip: '203.0.113.7', lastSeenIp: '203.0.113.7' });

    // lastSeenAt is fresh: a request from elsewhere writes nothing, so nothing changes.
    await from('198.51.100.2', 'get', '/sessions/current', s.accessToken).expect(200);
    expect((await stored(s.session.id))?.lastSeenIp).toBe('203.0.113.7');

    // Once lastSeenAt is due, the same write records the new address.
    t.clock.advance(2 * MINUTE);
    const moved = await from('198.51.100.2', 'get', '/sessions/current', s.accessToken).expect(200);
    expect(moved.body).toMatchObject({ ip: '203.0.113.7', lastSeenIp: '198.51.100.2' });
    const doc = await stored(s.session.id);
    expect(doc).toMatchObject({ ip: '203.0.113.7', lastSeenIp: '198.51.100.2' });
    expect(doc?.lastSeenAt.toISOString()).toBe(moved.body.lastSeenAt);

    // A refresh is a use too.
    const refreshed = await from('192.0.2.44', 'post', '/auth/refresh')
      .send({ refreshToken: s.refreshToken })
      .expect(200);
    expect(refreshed.body.session).toMatchObject({ ip: '203.0.113.7', lastSeenIp: '192.0.2.44' });
  });

  it('sets authenticatedAt at login and reauth, and leaves it alone on refresh and use', async () => {
    const loginAt = t.clock.now().toISOString();
    const s = await loginFrom('203.0.113.7');
    expect(s.session.authenticatedAt).toBe(loginAt);
    expect(s.session.createdAt).toBe(loginAt);

    t.clock.advance(5 * MINUTE);
    const refreshed = await from('203.0.113.7', 'post', '/auth/refresh')
      .send({ refreshToken: s.refreshToken })
      .expect(200);
    expect(refreshed.body.session.authenticatedAt).toBe(loginAt);
    const current = await from(
      '203.0.113.7',
      'get',
      '/sessions/current',
      refreshed.body.accessToken,
    );
    expect(current.body.authenticatedAt).toBe(loginAt);

    t.clock.advance(5 * MINUTE);
    const reauthAt = t.clock.now().toISOString();
    const reauthed = await from('203.0.113.9', 'post', '/auth/reauth', refreshed.body.accessToken)
      .send({ password: PASSWORD })
      .expect(200);
    expect(reauthed.body.session).toMatchObject({
      id: s.session.id,
      authenticatedAt: reauthAt,
      createdAt: loginAt,
      lastSeenIp: '203.0.113.9',
    });
    const after = await from('203.0.113.9', 'get', '/sessions/current', reauthed.body.accessToken);
    expect(after.body.authenticatedAt).toBe(reauthAt);
    expect((await stored(s.session.id))?.authenticatedAt.toISOString()).toBe(reauthAt);
  });

  it('exports the new fields in the admin JSON and as CSV columns', async () => {
    const s = await loginFrom('203.0.113.7', FIREFOX_WINDOWS);
    const json = await from('203.0.113.7', 'get', '/admin/sessions?user=ana', s.accessToken).expect(
      200,
    );
    const mine = json.body.find((x: any) => x.id === s.session.id);
    expect(mine).toMatchObject({
      lastSeenIp: '203.0.113.7',
      authenticatedAt: s.session.authenticatedAt,
      device: { name: 'Firefox on Windows', type: 'desktop' },
    });
    const csv = await from(
      '203.0.113.7',
      'get',
      '/admin/sessions?user=ana&format=csv',
      s.accessToken,
    ).expect(200);
    const [header, ...rows] = csv.text.split('\r\n');
    expect(header.split(',').slice(-6)).toEqual([
      'lastSeenIp',
      'authenticatedAt',
      'deviceName',
      'deviceBrowser',
      'deviceOs',
      'deviceType',
    ]);
    const row = rows.find((r) => r.startsWith(`${s.session.id},`));
    expect(
      row?.endsWith(
        `,203.0.113.7,${s.session.authenticatedAt},Firefox on Windows,Firefox,Windows,desktop`,
      ),
    ).toBe(true);
  });
});
