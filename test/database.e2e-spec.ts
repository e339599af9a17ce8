import { startEmbeddedMongo, type EmbeddedMongo } from '../packages/embedded-mongo/src';
import { bearer, createTestApp, createUser, login, TestApp } from './support/app';

const quiet = { warn: () => undefined };

/** Polls a real external condition (a restarted server being noticed), not the service's clock. */
async function eventually<T>(attempt: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000) {
  const until = Date.now() + ms;
  let last: T = await attempt();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    last = await attempt();
  }
  return last;
}

describe('database outage (e2e)', () => {
  let engine: EmbeddedMongo;
  let t: TestApp;

  beforeAll(async () => {
    engine = await startEmbeddedMongo({ logger: quiet });
    t = await createTestApp(
      {},
      {
        db: { uri: `${engine.uri}/outage`, dbName: 'outage', stop: async () => undefined },
      },
    );
    await createUser(t, { username: 'alice', password: 'alice-password' });
  });
  afterAll(async () => {
    await t.close();
    await engine.stop();
  });

  it('answers 503 SERVICE_UNAVAILABLE while the database is down, and recovers by itself', async () => {
    const s = await login(t, 'alice', 'alice-password');
    await engine.stop();

    const started = Date.now();
    const down = await t
      .http()
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' });
    expect(down.status).toBe(503);
    expect(down.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SERVICE_UNAVAILABLE',
      message: expect.any(String),
      // 5xx bodies carry the request id, the one to quote when reporting the problem.
      requestId: down.headers['x-request-id'],
    });
    expect(down.body.message).not.toMatch(/127\.0\.0\.1/);
    expect(Date.now() - started).toBeLessThan(8000);
    const listing = await t.http().get('/sessions').set('Authorization', bearer(s.accessToken));
    expect(listing.status).toBe(503);
    expect(listing.body.code).toBe('SERVICE_UNAVAILABLE');

    // A new (empty) engine on the same port: the same app reconnects without a restart.
    engine = await startEmbeddedMongo({ port: engine.port, logger: quiet });
    const back = await eventually(
      () => t.http().post('/auth/login').send({ username: 'alice', password: 'alice-password' }),
      (res) => res.status !== 503,
    );
    // The in-memory engine lost the user: a 401 proves the database answered again.
    expect(back.status).toBe(401);
    await createUser(t, { username: 'alice', password: 'alice-password' });
    const again = await login(t, 'alice', 'alice-password');
    await t.http().get('/sessions').set('Authorization', bearer(again.accessToken)).expect(200);
  });
});
