import { gzipSync } from 'node:zlib';
import { bearer, createTestApp, createUser, login, TEST_PLATFORM, TestApp } from './support/app';

/**
 * What each HTTP adapter does on its own before Nest sees a request (URL decoding, body
 * decompression and parsing, proxy trust, request ids), held to one behaviour. The suite runs
 * in both jest projects (jest.config.js), so each expectation is checked on Express and Fastify.
 */
describe(`HTTP platform parity (e2e, ${TEST_PLATFORM ?? 'the default platform'})`, () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT: '4kb' });
    await createUser(t, { username: 'alice', password: 'alice-password' });
    token = (await login(t, 'alice', 'alice-password')).accessToken;
  });
  afterAll(() => t.close());

  /** POST raw bytes (superagent would JSON-encode a Buffer sent as JSON). */
  const postRaw = (path: string, bytes: Buffer, encoding: string) =>
    t
      .http()
      .post(path)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .serialize((b: unknown) => b as string)
      .send(bytes as unknown as string);

  const errorShape = (statusCode: number, code: string) => ({
    statusCode,
    error: expect.any(String),
    code,
    message: expect.any(String),
  });

  it('answers a URL that cannot be decoded 400 in the error shape, with the usual headers', async () => {
    // Fastify's router refuses it before any Nest layer (it used to answer FST_ERR_BAD_URL).
    const res = await t.http().get('/sessions/%ff%fe').set('Authorization', bearer(token));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errorShape(400, 'VALIDATION_FAILED'));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes a long path parameter to the route (Fastify would answer 414 past 100 characters)', async () => {
    const res = await t
      .http()
      .get(`/sessions/${'a'.repeat(300)}`)
      .set('Authorization', bearer(token));
    expect([400, 404]).toContain(res.status);
    expect(res.body).toEqual(
      errorShape(res.status, res.status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND'),
    );
  });

  it('inflates a gzip body, and refuses undecodable or unsupported encodings with 400', async () => {
    const body = gzipSync(JSON.stringify({ username: 'alice', password: 'alice-password' }));
    const ok = await postRaw('/auth/login', body, 'gzip');
    expect(ok.status).toBe(201);
    for (const [encoding, bytes] of [
      ['gzip', Buffer.from('\x1f\x8b\x08\x00 not a gzip stream')],
      ['gzip', body.subarray(0, 12)],
      ['compress', body],
      ['gzip, br', body],
    ] as const) {
      const res = await postRaw('/auth/login', bytes, encoding);
      expect({ encoding, status: res.status, body: res.body }).toEqual({
        encoding,
        status: 400,
        body: errorShape(400, 'VALIDATION_FAILED'),
      });
    }
  });

  it('counts the inflated size against BODY_LIMIT (a small compressed bomb is 413)', async () => {
    const bomb = gzipSync(JSON.stringify({ username: 'alice', password: 'x'.repeat(200_000) }));
    expect(bomb.length).toBeLessThan(4096);
    const res = await postRaw('/auth/login', bomb, 'gzip');
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errorShape(413, 'PAYLOAD_TOO_LARGE'));
  });

  it('parses JSON as body-parser does: merge-patch type, empty body, scalars, depth', async () => {
    const patch = await t
      .http()
      .patch('/sessions/current/data')
      .set('Authorization', bearer(token))
      .set('Content-Type', 'application/merge-patch+json')
      .send('{"theme":"dark"}');
    expect(patch.status).toBe(200);
    expect(patch.body).toEqual({ theme: 'dark' });

    // An empty JSON body is an empty object: the DTO then names the missing field.
    const empty = await t.http().post('/auth/refresh').set('Content-Type', 'application/json');
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual(errorShape(400, 'VALIDATION_FAILED'));
    expect(empty.body.message).toMatch(/refreshToken/);

    for (const raw of ['"a string"', '42', '{"username":', '[1,2']) {
      const res = await t
        .http()
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send(raw);
      expect({ raw, status: res.status, body: res.body }).toEqual({
        raw,
        status: 400,
        body: errorShape(400, 'VALIDATION_FAILED'),
      });
    }

    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    const tooDeep = await t
      .http()
      .put('/sessions/current/data')
      .set('Authorization', bearer(token))
      .set('Content-Type', 'application/json')
      .send(deep);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.message).toMatch(/nested deeper than 32 levels/);
  });

  it('names every response with its request id, unmatched routes and errors included', async () => {
    const missing = await t.http().get('/no/such/route').set('X-Request-Id', 'edge-7');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(errorShape(404, 'NOT_FOUND'));
    expect(missing.headers['x-request-id']).toBe('edge-7');
    expect(missing.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('records the client IP through a trusted proxy only (TRUST_PROXY as a hop count)', async () => {
    const direct = await t
      .http()
      .post('/auth/login')
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ username: 'alice', password: 'alice-password' });
    expect(direct.body.session.ip).toBe('127.0.0.1');

    const proxied = await createTestApp({ TRUST_PROXY: '1' });
    try {
      await createUser(proxied, { username: 'bob', password: 'bob-password-1' });
      const res = await proxied
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', '198.51.100.9, 203.0.113.7')
        .send({ username: 'bob', password: 'bob-password-1' });
      expect(res.status).toBe(201);
      // One trusted hop: the address that hop saw, not what the client claimed before it.
      expect(res.body.session.ip).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
  });
});
