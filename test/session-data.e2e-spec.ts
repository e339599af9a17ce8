import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';

describe('session data (e2e)', () => {
  let t: TestApp;
  let s: LoggedIn;
  let other: LoggedIn;
  const stored = async (id: string) =>
    (await t.connection.collection('sessions').findOne({ _id: new Types.ObjectId(id) }))!.data;
  const send = (method: 'get' | 'patch' | 'put', body?: unknown, who = s) => {
    const req = t
      .http()
      [method]('/sessions/current/data')
      .set('Authorization', bearer(who.accessToken));
    if (body === undefined) return req;
    return typeof body === 'string'
      ? req.set('Content-Type', 'application/json').send(body)
      : req.send(body as object);
  };

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'alice', password: 'alice-password' });
    s = await login(t, 'alice', 'alice-password');
    other = await login(t, 'alice', 'alice-password');
  });
  afterAll(() => t.close());

  it('starts as {}', async () => {
    const res = await send('get');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it('PUT replaces, PATCH merges (null removes), per session', async () => {
    const put = await send('put', { cart: { a: 1, b: 2 }, theme: 'dark', list: [1, 2] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ cart: { a: 1, b: 2 }, theme: 'dark', list: [1, 2] });
    const patch = await send('patch', { cart: { b: null, c: 3 }, theme: null, list: [3] });
    expect(patch.status).toBe(200);
    expect(patch.body).toEqual({ cart: { a: 1, c: 3 }, list: [3] });
    expect(await stored(s.session.id)).toEqual({ cart: { a: 1, c: 3 }, list: [3] });
    expect((await send('get')).body).toEqual({ cart: { a: 1, c: 3 }, list: [3] });
    // Another session of the same user has its own data.
    expect((await send('get', undefined, other)).body).toEqual({});
    const replaced = await send('put', { only: true });
    expect(replaced.body).toEqual({ only: true });
    expect(await stored(s.session.id)).toEqual({ only: true });
  });

  it('refuses non-objects, operator/dotted/prototype keys, deep nesting and >16 KiB, storing nothing', async () => {
    await send('put', { keep: 1 }).expect(200);
    let deep: unknown = 1;
    for (let i = 0; i < 9; i++) deep = { d: deep };
    const bodies: unknown[] = [
      '[1,2]',
      '"text"',
      '{"$set":{"x":1}}',
      '{"a":{"b.c":1}}',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{}}}',
      { prototype: 1 },
      deep,
      { big: 'x'.repeat(16 * 1024) },
    ];
    for (const body of bodies) {
      for (const method of ['put', 'patch'] as const) {
        const res = await send(method, body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    }
    expect(await stored(s.session.id)).toEqual({ keep: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a PATCH whose merged result would exceed 16 KiB', async () => {
    await send('put', { a: 'x'.repeat(10_000) }).expect(200);
    const res = await send('patch', { b: 'y'.repeat(10_000) });
    expect(res.status).toBe(400);
    expect(await stored(s.session.id)).toEqual({ a: 'x'.repeat(10_000) });
  });

  it('needs a live session', async () => {
    expect((await t.http().get('/sessions/current/data')).body.code).toBe('TOKEN_MISSING');
    await t.http().post('/auth/logout').set('Authorization', bearer(other.accessToken));
    const res = await send('patch', { a: 1 }, other);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('SESSION_ENDED');
  });
});
