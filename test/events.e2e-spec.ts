import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { AppModule } from '../src/app.module';
import { SessionSweepService } from '../src/sweep/session-sweep.service';
import type { SessionEvent } from '../src/sessions';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';
import { startWebhookReceiver, WebhookReceiver } from './support/webhook-receiver';

const PASSWORD = 'events-password-1';
const SECRET = 'webhook-secret-0123456789-abcdefghij';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Session events through the webhook (issue 14): every event, signed, retried, never in the way. */
describe('session events and the webhook (e2e)', () => {
  let t: TestApp;
  let hook: WebhookReceiver;
  const outbox = () => t.connection.collection('webhook_outbox');
  const secretsSeen: string[] = [];
  /** The distinct events received so far of one type (dedupe by idempotency key). */
  const events = (type: string) =>
    hook
      .unique()
      .filter((d) => d.type === type)
      .map((d) => d.event);
  const eventFor = (type: string, match: (data: Record<string, unknown>) => boolean) =>
    hook
      .waitFor(() => events(type).some((e) => match(e.data)), type)
      .then(() => events(type).find((e) => match(e.data))!);
  const remember = (s: LoggedIn) => {
    secretsSeen.push(s.accessToken, s.refreshToken);
    return s;
  };

  beforeAll(async () => {
    hook = await startWebhookReceiver(SECRET);
    t = await createTestApp({
      WEBHOOK_URL: hook.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_POLL_MS: '50',
    });
    await createUser(t, { username: 'ann', password: PASSWORD });
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  it('delivers session.created, telling a new device from a known one', async () => {
    const first = remember(await login(t, 'ann', PASSWORD, { userAgent: FIREFOX }));
    const again = remember(await login(t, 'ann', PASSWORD, { userAgent: FIREFOX }));
    const phone = remember(await login(t, 'ann', PASSWORD, { userAgent: PHONE }));
    const byId = async (s: LoggedIn) =>
      (await eventFor('session.created', (d) => d.sessionId === s.session.id)).data;
    expect(await byId(first)).toEqual({
      sessionId: first.session.id,
      userId: first.session.userId,
      username: 'ann',
      ip: '127.0.0.1',
      userAgent: FIREFOX,
      device: { name: 'Firefox on Windows', browser: 'Firefox', os: 'Windows', type: 'desktop' },
      groups: [],
      newDevice: true,
    });
    expect((await byId(again)).newDevice).toBe(false);
    expect((await byId(phone)).newDevice).toBe(true);
  });

  it('delivers refreshed, reauthenticated, ended (logout, another device) and login.failed', async () => {
    const s = remember(await login(t, 'ann', PASSWORD));
    const other = remember(await login(t, 'ann', PASSWORD));
    const refreshed = remember(
      (await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200))
        .body,
    );
    await eventFor('session.refreshed', (d) => d.sessionId === s.session.id);
    const reauthed = remember(
      (
        await t
          .http()
          .post('/auth/reauth')
          .set('Authorization', bearer(refreshed.accessToken))
          .send({ password: PASSWORD })
          .expect(200)
      ).body,
    );
    await eventFor('session.reauthenticated', (d) => d.sessionId === s.session.id);

    await t
      .http()
      .post('/auth/reauth')
      .set('Authorization', bearer(reauthed.accessToken))
      .send({ password: 'not-the-password' })
      .expect(401);
    expect((await eventFor('login.failed', (d) => d.operation === 'reauth')).data).toEqual({
      username: 'ann',
      operation: 'reauth',
      ip: '127.0.0.1',
      userAgent: null,
    });
    await t
      .http()
      .post('/auth/login')
      .set('User-Agent', 'curl/8')
      .send({ username: 'nobody', password: 'whatever-it-is' })
      .expect(401);
    expect((await eventFor('login.failed', (d) => d.username === 'nobody')).data).toEqual({
      username: 'nobody',
      operation: 'login',
      ip: '127.0.0.1',
      userAgent: 'curl/8',
    });

    await t
      .http()
      .delete(`/sessions/${other.session.id}`)
      .set('Authorization', bearer(reauthed.accessToken))
      .expect(204);
    expect((await eventFor('session.ended', (d) => d.sessionId === other.session.id)).data).toEqual(
      {
        sessionId: other.session.id,
        userId: other.session.userId,
        username: 'ann',
        reason: 'logout',
      },
    );
    await t
      .http()
      .post('/auth/logout')
      .set('Authorization', bearer(reauthed.accessToken))
      .expect(204);
    await eventFor('session.ended', (d) => d.sessionId === s.session.id && d.reason === 'logout');
  });

  it('delivers reuse_detected with the session it revoked', async () => {
    const s = remember(await login(t, 'ann', PASSWORD));
    await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    t.clock.advance(11_000);
    await t.http().post('/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
    await eventFor('session.reuse_detected', (d) => d.sessionId === s.session.id);
    await eventFor(
      'session.ended',
      (d) => d.sessionId === s.session.id && d.reason === 'refresh_reuse',
    );
  });

  it('delivers session.expired for admin invalidation, an idle timeout a request notices, and the sweep', async () => {
    const root = remember(await login(t, 'root', PASSWORD));
    const a = remember(await login(t, 'ann', PASSWORD));
    await t
      .http()
      .post('/admin/sessions/invalidate')
      .set('Authorization', bearer(root.accessToken))
      .send({ username: 'ann', sessionId: a.session.id })
      .expect(200);
    await eventFor('session.expired', (d) => d.sessionId === a.session.id && d.reason === 'admin');

    // Idle: the first request that meets the deadline writes it down, and says so.
    const idle = remember(await login(t, 'ann', PASSWORD));
    t.clock.advance(1801 * 1000);
    const late = await t.http().post('/auth/refresh').send({ refreshToken: idle.refreshToken });
    expect(late.body.code).toBe('SESSION_EXPIRED');
    await eventFor(
      'session.expired',
      (d) => d.sessionId === idle.session.id && d.reason === 'idle_timeout',
    );

    // The sweep: sessions nobody touched, past their idle or absolute deadline.
    const swept = remember(await login(t, 'ann', PASSWORD));
    t.clock.advance(1801 * 1000);
    await t.app.get(SessionSweepService).sweepOnce();
    expect(
      (await eventFor('session.expired', (d) => d.sessionId === swept.session.id)).data,
    ).toEqual({
      sessionId: swept.session.id,
      userId: swept.session.userId,
      username: 'ann',
      reason: 'idle_timeout',
    });
  });

  it('delivers user.password_changed and the ends of an admin reset, disable and removal', async () => {
    await createUser(t, { username: 'bea', password: PASSWORD });
    const root = remember(await login(t, 'root', PASSWORD));
    const bea = remember(await login(t, 'bea', PASSWORD));
    const admin = (method: 'put' | 'patch' | 'delete', path: string) =>
      t.http()[method](path).set('Authorization', bearer(root.accessToken));
    await admin('put', '/admin/users/bea/password')
      .send({ newPassword: 'a-new-password-1' })
      .expect(200);
    expect((await eventFor('user.password_changed', (d) => d.username === 'bea')).data).toEqual({
      userId: bea.session.userId,
      username: 'bea',
      by: 'admin',
      sessionId: null,
    });
    await eventFor(
      'session.ended',
      (d) => d.sessionId === bea.session.id && d.reason === 'password_changed',
    );
    const again = remember(await login(t, 'bea', 'a-new-password-1'));
    await admin('patch', '/admin/users/bea').send({ disabled: true }).expect(200);
    await eventFor(
      'session.ended',
      (d) => d.sessionId === again.session.id && d.reason === 'admin',
    );
    await admin('delete', '/admin/users/bea').expect(204);
  });

  it('carries no token, hash, password or session data, and signs every delivery', async () => {
    await hook.waitFor(() => hook.deliveries.length > 0, 'any delivery');
    const stored = await t.connection.collection('sessions').find().toArray();
    const hashes = stored.flatMap((s) => [s.refreshHash, ...(s.refreshHistory ?? [])]);
    for (const d of hook.deliveries) {
      expect(d.signatureOk).toBe(true);
      expect(d.key).toBe(d.event.id);
      expect(d.type).toBe(d.event.type);
      for (const secret of [
        ...secretsSeen,
        ...hashes,
        PASSWORD,
        'a-new-password-1',
        'not-the-password',
        'argon2',
      ]) {
        expect(d.body).not.toContain(secret);
      }
      expect(d.body).not.toMatch(/passwordHash|refreshHash|accessToken|refreshToken/);
    }
    expect(new Set(hook.unique().map((d) => d.type))).toEqual(
      new Set([
        'session.created',
        'session.refreshed',
        'session.reauthenticated',
        'session.ended',
        'session.expired',
        'session.reuse_detected',
        'user.password_changed',
        'login.failed',
      ]),
    );
  });

  it('retries a receiver that answers 500 or hangs, with one idempotency key, never failing or holding the request', async () => {
    hook.answer((d, attempt) => (attempt === 1 ? 500 : attempt === 2 ? 'hang' : 200));
    try {
      const s = await login(t, 'ann', PASSWORD, { label: 'retried' });
      const created = await eventFor('session.created', (d) => d.sessionId === s.session.id);
      await hook.waitFor(
        () => hook.deliveries.filter((d) => d.key === created.id).length >= 3,
        'the third attempt',
      );
      const attempts = hook.deliveries.filter((d) => d.key === created.id);
      expect(new Set(attempts.map((d) => d.body)).size).toBe(1);
      expect(attempts.every((d) => d.signatureOk)).toBe(true);

      // While every delivery hangs, requests are answered as usual.
      hook.answer(() => 'hang');
      for (let i = 0; i < 5; i++) {
        const more = await login(t, 'ann', PASSWORD);
        await t
          .http()
          .get('/sessions/current')
          .set('Authorization', bearer(more.accessToken))
          .expect(200);
      }
      // ...and the events wait in the outbox instead of being lost.
      expect(await outbox().countDocuments({ type: 'session.created' })).toBeGreaterThanOrEqual(5);
    } finally {
      hook.answer(() => 200);
    }
  });

  it('empties the outbox once the receiver answers 2xx', async () => {
    hook.answer(() => 200);
    const deadline = Date.now() + 20_000;
    while ((await outbox().countDocuments({})) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await outbox().countDocuments({})).toBe(0);
  });
});

@Injectable()
class HostListener {
  readonly seen: SessionEvent[] = [];
  @OnEvent('session.created')
  onCreated(event: SessionEvent<'session.created'>) {
    this.seen.push(event);
  }
  @OnEvent('session.ended')
  onEnded(event: SessionEvent<'session.ended'>) {
    this.seen.push(event);
  }
}

@Module({ imports: [AppModule], providers: [HostListener] })
class HostModule {}

describe('session events in a host app, without a webhook (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { module: HostModule });
    await createUser(t, { username: 'ann', password: PASSWORD });
  });
  afterAll(() => t.close());

  it('reaches @OnEvent listeners, typed, and writes no outbox', async () => {
    const s = await login(t, 'ann', PASSWORD);
    await t.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
    const seen = t.app.get(HostListener).seen;
    expect(seen.map((e) => [e.type, (e.data as { sessionId?: string }).sessionId])).toEqual([
      ['session.created', s.session.id],
      ['session.ended', s.session.id],
    ]);
    expect(seen[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0].occurredAt).toBe(t.clock.now().toISOString());
    expect(await t.connection.collection('webhook_outbox').countDocuments({})).toBe(0);
  });
});
