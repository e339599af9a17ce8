import { createTestApp, TestApp } from './support/app';

describe('HTTP hardening (e2e)', () => {
  describe('with defaults', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ BODY_LIMIT: '2kb' });
    });
    afterAll(() => t.close());

    it('sends the security headers and hides the framework', async () => {
      const res = await t.http().get('/health').expect(200);
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('sends no CORS headers when no origin is configured', async () => {
      const res = await t
        .http()
        .options('/auth/login')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('gives every response a request id, keeping a safe incoming one', async () => {
      const fresh = await t.http().get('/health');
      expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const kept = await t.http().get('/health').set('X-Request-Id', 'edge-42.abc');
      expect(kept.headers['x-request-id']).toBe('edge-42.abc');
      const replaced = await t.http().get('/health').set('X-Request-Id', 'x'.repeat(200));
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a body over BODY_LIMIT with 413 in the error shape, and accepts one under it', async () => {
      const big = await t
        .http()
        .post('/auth/login')
        .send({ username: 'ann', password: 'p'.repeat(3000) });
      expect(big.status).toBe(413);
      expect(big.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.any(String),
      });
      const small = await t.http().post('/auth/login').send({ username: 'ann', password: 'pw' });
      expect(small.status).toBe(401);
      expect(small.body.code).toBe('INVALID_CREDENTIALS');
    });
  });

  describe('with CORS_ORIGINS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ CORS_ORIGINS: 'https://app.example, https://admin.example' });
    });
    afterAll(() => t.close());

    it('answers preflights from a listed origin only', async () => {
      const allowed = await t
        .http()
        .options('/auth/login')
        .set('Origin', 'https://admin.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,authorization');
      expect(allowed.status).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example');
      expect(allowed.headers['access-control-allow-headers']).toMatch(/Authorization/i);
      // Header transport: no cookies, so no credentialed cross-origin requests.
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

      const other = await t
        .http()
        .options('/auth/login')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('exposes the request id to the browser on a cross-origin response', async () => {
      const res = await t.http().get('/health').set('Origin', 'https://app.example');
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(res.headers['access-control-expose-headers']).toMatch(/X-Request-Id/i);
    });

    it('lets a cross-origin script read and send back its trusted-device token', async () => {
      const preflight = await t
        .http()
        .options('/auth/login')
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,x-device-token');
      expect(preflight.headers['access-control-allow-headers']).toMatch(/X-Device-Token/i);
      const res = await t.http().get('/health').set('Origin', 'https://app.example');
      expect(res.headers['access-control-expose-headers']).toMatch(/X-Device-Token/i);
    });
  });
});
