import { IN_MEMORY_NOTICE, startEmbeddedMongo } from '../packages/embedded-mongo/src';
import { createTestApp, TestApp } from './support/app';

const quiet = {
  logger: {
    warn: (message: string) => {
      if (!message.includes(IN_MEMORY_NOTICE)) console.warn(message);
    },
  },
};

describe('GET /health (e2e)', () => {
  let t: TestApp;
  let engine: Awaited<ReturnType<typeof startEmbeddedMongo>>;
  let port: number;

  beforeEach(async () => {
    // Its own engine, whatever MONGODB_URI says: this test stops and restarts the database.
    engine = await startEmbeddedMongo(quiet);
    port = Number(new URL(engine.uri).port);
    const uri = `${engine.uri}/health_test`;
    t = await createTestApp({}, { db: { uri, dbName: 'health_test', stop: async () => {} } });
  });
  afterEach(async () => {
    await t.close();
    await engine.stop();
  });

  /** Polls until the answer has the wanted status: the driver notices an outage (and a return) on its own schedule. */
  async function healthUntil(status: number, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const res = await t.http().get('/health');
      if (res.status === status || Date.now() > deadline) return res;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('answers 200 while the database is up, 503 while it is down, and 200 once it is back', async () => {
    const up = await t.http().get('/health');
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ status: 'ok', db: 'up' });
    expect(up.headers['cache-control']).toBe('no-store');

    await engine.stop();
    const started = Date.now();
    const down = await t.http().get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'error', db: 'down' });
    // Bounded by the ping timeout, not by the driver's server selection timeout (30 s).
    expect(Date.now() - started).toBeLessThan(2500);

    engine = await startEmbeddedMongo({ ...quiet, port });
    const back = await healthUntil(200, 15000);
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ status: 'ok', db: 'up' });
  });

  it('needs no token', async () => {
    const res = await t.http().get('/health');
    expect(res.status).toBe(200);
  });
});
