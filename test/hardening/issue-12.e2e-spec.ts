import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createTestApp, createUser, login, TestApp } from '../support/app';
import { assertErrorShape, deepArrayJson, deepJson } from '../support/hostile';

const PASSWORD = 'a-long-password-for-issue-12';

/**
 * Issue 12, findings 4 and 7, each as it was reported: unauthenticated bodies that used to
 * answer 500, and the smaller leaks. Each request is sent as an attacker would, over HTTP.
 */
describe('issue 12: bad input never 5xx, nothing echoed (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'ann', password: PASSWORD });
    token = (await login(t, 'ann', PASSWORD)).accessToken;
  });
  afterAll(() => t?.close());

  const raw = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    t
      .http()
      .post(path)
      .set({ 'Content-Type': 'application/json', ...headers })
      .serialize((b: unknown) => b as string)
      .send(body as string);

  const expect400 = (what: string, res: { status: number; body: unknown }) => {
    expect({ what, status: res.status }).toEqual({ what, status: 400 });
    expect(assertErrorShape(what, res.status, res.body)).toBe('VALIDATION_FAILED');
  };

  describe('finding 4: nesting deeper than class-transformer’s stack', () => {
    // ~4 KB each: under any body limit, ~2000 levels deep.
    const bodies: Record<string, [string, string]> = {
      'login, deep groups': [
        '/auth/login',
        `{"username":"ann","password":"${PASSWORD}","groups":${deepArrayJson(2000)}}`,
      ],
      'login, deep username': ['/auth/login', `{"username":${deepArrayJson(2000)},"password":"x"}`],
      'refresh, deep token': ['/auth/refresh', `{"refreshToken":${deepArrayJson(2000)}}`],
      'refresh, deep object': ['/auth/refresh', `{"refreshToken":"x","a":${deepJson(2000)}}`],
      'login, deep array body': ['/auth/login', deepArrayJson(2000)],
    };
    it.each(Object.entries(bodies))('%s: 400 VALIDATION_FAILED', async (what, [path, body]) => {
      expect(Buffer.byteLength(body)).toBeLessThan(20_000);
      const res = await raw(path, body);
      expect400(what, res);
      expect(res.body.message).toMatch(/nested deeper than \d+ levels/);
    });

    it('still takes a body within the depth limit', async () => {
      await t
        .http()
        .put('/sessions/current/data')
        .set('Authorization', `Bearer ${token}`)
        .send({ a: { b: { c: { d: { e: { f: { g: 1 } } } } } } })
        .expect(200);
    });
  });

  describe('finding 4: compressed bodies that do not decompress', () => {
    const valid = Buffer.from(JSON.stringify({ username: 'ann', password: 'wrong-password-1' }));
    const garbage = Buffer.from('this is not compressed at all, whatever the header says');
    const cases: Record<string, [string, Buffer]> = {
      'gzip garbage': ['gzip', garbage],
      'gzip truncated': ['gzip', gzipSync(valid).subarray(0, 12)],
      'gzip header, junk after': [
        'gzip',
        Buffer.concat([gzipSync(valid).subarray(0, 10), garbage]),
      ],
      'deflate garbage': ['deflate', garbage],
      'deflate truncated': ['deflate', deflateSync(valid).subarray(0, 5)],
      'br garbage': ['br', garbage],
      'br truncated': ['br', brotliCompressSync(valid).subarray(0, 4)],
      'unknown encoding': ['compress', garbage],
    };
    it.each(Object.entries(cases))('%s: 400 VALIDATION_FAILED', async (what, [encoding, body]) => {
      expect400(what, await raw('/auth/login', body, { 'Content-Encoding': encoding }));
    });

    it('still reads a well-formed compressed body', async () => {
      for (const [encoding, body] of [
        ['gzip', gzipSync(valid)],
        ['deflate', deflateSync(valid)],
        ['br', brotliCompressSync(valid)],
      ] as const) {
        const res = await raw('/auth/login', body, { 'Content-Encoding': encoding });
        expect({ encoding, status: res.status, code: res.body.code }).toEqual({
          encoding,
          status: 401,
          code: 'INVALID_CREDENTIALS',
        });
      }
    });
  });

  describe('finding 7', () => {
    it('a JSON syntax error does not echo the body', async () => {
      const marker = 'SECRET-MARKER-hunter2';
      for (const body of [
        `{"username":"ann","password":"${marker}"`,
        `{"password":"${marker}",}`,
        `${marker}`,
        `{"a":"${marker}"} trailing`,
      ]) {
        const res = await raw('/auth/login', body);
        expect400(body, res);
        expect(res.text).not.toContain(marker);
        expect(res.text).not.toContain('hunter2');
      }
    });

    it('a client-chosen X-Request-Id is echoed only when it matches the safe pattern', async () => {
      const kept = await t.http().get('/health').set('X-Request-Id', 'edge-42.abc_Z:9');
      expect(kept.headers['x-request-id']).toBe('edge-42.abc_Z:9');
      for (const hostile of ['a b', '"><script>', 'x'.repeat(129), '{"level":60}']) {
        const res = await t.http().get('/health').set('X-Request-Id', hostile);
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    it('PATCH /sessions/current/data takes application/merge-patch+json as a JSON merge patch', async () => {
      const auth = { Authorization: `Bearer ${token}` };
      await t
        .http()
        .put('/sessions/current/data')
        .set(auth)
        .send({ a: 1, b: { c: 2, d: 3 } });
      const res = await t
        .http()
        .patch('/sessions/current/data')
        .set({ ...auth, 'Content-Type': 'application/merge-patch+json' })
        .send(JSON.stringify({ a: null, b: { d: null, e: 4 } }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ b: { c: 2, e: 4 } });
      const bad = await t
        .http()
        .patch('/sessions/current/data')
        .set({ ...auth, 'Content-Type': 'application/merge-patch+json' })
        .send('{not json');
      expect400('merge patch syntax error', bad);
    });
  });
});
