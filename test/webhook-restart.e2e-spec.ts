import { MongoClient } from 'mongodb';
import { AppProcess, startAppProcess } from './support/app-process';
import { startTestDatabase, TestDatabase } from './support/database';
import { startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';

const ADMIN = { username: 'root', password: 'a-long-admin-password-for-tests' };
const SECRET = 'webhook-restart-secret-0123456789abcdef';
const SIGN_INS = 6;

/**
 * The webhook outbox across a crash (issue 14): the real app process is killed with SIGKILL
 * while a delivery is in flight, then started again on the same database; the receiver, which
 * dedupes by idempotency key, ends with every event exactly once.
 */
describe('webhook delivery across a crash (e2e)', () => {
  let db: TestDatabase;
  let hook: WebhookReceiver;
  let app: AppProcess | undefined;
  let client: MongoClient;

  const start = () =>
    startAppProcess({
      MONGODB_URI: db.uri,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'webhook-restart-8d2f6b0a4e9c7d1b3f5a2e8c6d0b4f9a',
      PASSWORD_HASH_MEMORY_KIB: '1024',
      PASSWORD_HASH_TIME_COST: '1',
      SWEEP_ENABLED: 'false',
      WEBHOOK_URL: hook.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_POLL_MS: '100',
    });
  const signIn = async (base: string) => {
    const res = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { session: { id: string } }).session.id;
  };

  beforeAll(async () => {
    db = await startTestDatabase();
    hook = await startWebhookReceiver(SECRET);
    client = await MongoClient.connect(db.uri);
  });
  afterAll(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.kill('SIGKILL');
      await app.exited;
    }
    await client.close();
    await hook.close();
    await db.stop();
  });

  it('delivers every event exactly once by idempotency key after a SIGKILL mid-delivery', async () => {
    const outbox = client.db().collection('webhook_outbox');
    // Every delivery hangs until the process is gone: the kill lands mid-delivery for sure.
    hook.answer(() => 'hang');
    app = await start();
    const sessions: string[] = [];
    for (let i = 0; i < SIGN_INS; i++) sessions.push(await signIn(app.url));
    // All written to the outbox, and at least one delivery in flight.
    const deadline = Date.now() + 20_000;
    while ((await outbox.countDocuments({ type: 'session.created' })) < SIGN_INS) {
      if (Date.now() > deadline) throw new Error('the events never reached the outbox');
      await new Promise((r) => setTimeout(r, 50));
    }
    await hook.waitFor(() => hook.deliveries.length > 0, 'a delivery in flight');
    const inFlight = hook.deliveries.map((d) => d.key);
    app.kill('SIGKILL');
    await app.exited;

    // Nothing was acknowledged, so nothing is gone from the outbox.
    expect(await outbox.countDocuments({})).toBe(SIGN_INS);
    hook.answer(() => 200);
    app = await start();
    await hook.waitFor(
      () => hook.unique().filter((d) => d.type === 'session.created').length === SIGN_INS,
      'every session.created',
      30_000,
    );
    const drained = Date.now() + 20_000;
    while ((await outbox.countDocuments({})) > 0 && Date.now() < drained) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await outbox.countDocuments({})).toBe(0);

    const created = hook.unique().filter((d) => d.type === 'session.created');
    expect(created.map((d) => d.event.data.sessionId).sort()).toEqual([...sessions].sort());
    // A key delivered more than once (the one cut off by the kill) carried the same event.
    for (const key of new Set(hook.deliveries.map((d) => d.key))) {
      expect(new Set(hook.deliveries.filter((d) => d.key === key).map((d) => d.body)).size).toBe(1);
    }
    expect(inFlight.every((k) => created.some((d) => d.key === k))).toBe(true);
    expect(hook.deliveries.every((d) => d.signatureOk && d.key === d.event.id)).toBe(true);

    // The restarted app keeps delivering new events.
    const after = await signIn(app.url);
    await hook.waitFor(
      () => hook.unique().some((d) => d.event.data.sessionId === after),
      'an event after the restart',
    );
  }, 120_000);
});
