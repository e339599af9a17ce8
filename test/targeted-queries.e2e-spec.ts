import type { Document } from 'bson';
import { startEmbeddedMongo, type EmbeddedMongo } from '../packages/embedded-mongo/src';
import { SessionSweepService } from '../src/sweep/session-sweep.service';
import { bearer, createTestApp, createUser, login, TestApp } from './support/app';

const DB = 'targeted_queries';
const COLLECTIONS = new Set(['sessions', 'users']);
/** Commands that read, change or delete existing documents, and where each keeps its filters. */
const FILTERS: Record<string, (c: Document) => Document[]> = {
  find: (c) => [c.filter ?? {}],
  count: (c) => [c.query ?? {}],
  distinct: (c) => [c.query ?? {}],
  findAndModify: (c) => [c.query ?? {}],
  update: (c) => (c.updates as Document[]).map((u) => u.q),
  delete: (c) => (c.deletes as Document[]).map((d) => d.q),
  aggregate: (c) => [(c.pipeline as Document[])[0]?.$match ?? {}],
};

interface Recorded {
  collection: string;
  command: string;
  filter: Document;
  /** The flow that sent it, for the failure message. */
  flow: string;
}

/** The shard keys (docs/scaling.md): sessions by user, users by id; `_id` is unique in both. */
const TARGET_FIELDS: Record<string, string[]> = {
  sessions: ['userId'],
  users: ['_id', 'username'],
};

/**
 * Refresh finds its session by the presented token's hash alone (the token is opaque and names
 * neither session nor user), so on a sharded cluster it asks every shard, through the
 * `refreshHash` / `refreshHistory` indexes. Listed in docs/scaling.md; nothing else may join it.
 */
function knownUntargeted(r: Recorded): boolean {
  if (r.collection !== 'sessions' || r.flow !== 'refresh') return false;
  const keys = Object.keys(r.filter);
  return keys.includes('refreshHash') || keys.includes('$or');
}

/** Whether the filter pins the target field to one value or a list (top level, or in an $and). */
function targets(filter: Document, fields: string[]): boolean {
  if (fields.some((f) => f in filter && !isOperatorOnly(filter[f], ['$ne', '$nin']))) return true;
  return Array.isArray(filter.$and) && filter.$and.some((f: Document) => targets(f, fields));
}

function isOperatorOnly(value: unknown, operators: string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((k) => operators.includes(k))
  );
}

/**
 * Every query, update and delete the service sends to `sessions` and `users` during the
 * representative flows, as the database receives them, must name its shard key (docs/scaling.md)
 * so that on a sharded cluster it goes to one shard. The flows that are broadcast by design
 * (admin export, validate-all, invalidate-all, the sweep) are recorded apart and must filter on
 * an indexed field.
 */
describe('every query on sessions and users is targeted (e2e)', () => {
  let engine: EmbeddedMongo;
  let t: TestApp;
  const recorded: Recorded[] = [];
  let flow = 'start-up';

  beforeAll(async () => {
    engine = await startEmbeddedMongo({
      logger: { warn: () => undefined },
      onCommand: (command, dbName) => {
        if (dbName !== DB) return;
        const name = Object.keys(command)[0];
        const collection = command[name];
        const filters = FILTERS[name];
        if (!filters || typeof collection !== 'string' || !COLLECTIONS.has(collection)) return;
        for (const filter of filters(command)) {
          recorded.push({ collection, command: name, filter: filter ?? {}, flow });
        }
      },
    });
    t = await createTestApp(
      { SWEEP_ENABLED: 'false' },
      { db: { uri: `${engine.uri}/${DB}`, dbName: DB, stop: async () => undefined } },
    );
    await createUser(t, { username: 'root', password: 'root-password-0123', roles: ['admin'] });
    await createUser(t, { username: 'alice', password: 'alice-password-0123' });
  });
  afterAll(async () => {
    await t?.close();
    await engine?.stop();
  });

  async function as(name: string, run: () => Promise<unknown>) {
    flow = name;
    await run();
    flow = 'between flows';
  }

  it('sends only targeted queries in the per-user flows, and indexed ones in the broadcast flows', async () => {
    const http = () => t.http();
    let alice = { accessToken: '', refreshToken: '', session: { id: '' } };
    let other = alice;
    let admin = alice;
    await as('login', async () => {
      alice = await login(t, 'alice', 'alice-password-0123');
      other = await login(t, 'alice', 'alice-password-0123');
      admin = await login(t, 'root', 'root-password-0123');
    });
    const auth = () => bearer(alice.accessToken);
    await as('refresh', async () => {
      const res = await http().post('/auth/refresh').send({ refreshToken: alice.refreshToken });
      expect(res.status).toBe(200);
      alice = res.body;
    });
    await as('reauth', async () => {
      const res = await http()
        .post('/auth/reauth')
        .set('Authorization', auth())
        .send({ password: 'alice-password-0123' });
      expect(res.status).toBe(200);
      alice = res.body;
    });
    await as('own sessions', async () => {
      t.clock.advance(61_000); // past the lastSeenAt write interval: the guard touches
      await http().get('/sessions').set('Authorization', auth()).expect(200);
      await http().get('/sessions?state=all').set('Authorization', auth()).expect(200);
      await http().get('/sessions/current').set('Authorization', auth()).expect(200);
      await http().get(`/sessions/${other.session.id}`).set('Authorization', auth()).expect(200);
      await http()
        .patch(`/sessions/${other.session.id}`)
        .set('Authorization', auth())
        .send({ label: 'laptop' })
        .expect(200);
    });
    await as('data', async () => {
      await http().get('/sessions/current/data').set('Authorization', auth()).expect(200);
      await http()
        .patch('/sessions/current/data')
        .set('Authorization', auth())
        .send({ a: 1 })
        .expect(200);
      await http()
        .put('/sessions/current/data')
        .set('Authorization', auth())
        .send({ b: 2 })
        .expect(200);
    });
    await as('admin validate and invalidate', async () => {
      await http()
        .post('/admin/sessions/validate')
        .set('Authorization', bearer(admin.accessToken))
        .send({ username: 'alice', sessionId: alice.session.id })
        .expect(200);
      await http()
        .post('/admin/sessions/invalidate')
        .set('Authorization', bearer(admin.accessToken))
        .send({ username: 'alice', sessionId: other.session.id })
        .expect(200);
    });
    await as('sign-out', async () => {
      const third = await login(t, 'alice', 'alice-password-0123');
      await http().delete(`/sessions/${third.session.id}`).set('Authorization', auth()).expect(204);
      await http().delete('/sessions?scope=others').set('Authorization', auth()).expect(200);
      await http().post('/auth/logout').set('Authorization', auth()).expect(204);
    });

    const broadcastFlows = new Set([
      'admin export',
      'admin validate-all and invalidate-all',
      'sweep',
    ]);
    await as('admin export', async () => {
      await http()
        .get('/admin/sessions')
        .set('Authorization', bearer(admin.accessToken))
        .expect(200);
      await http()
        .get('/admin/sessions?user=alice&format=csv')
        .set('Authorization', bearer(admin.accessToken))
        .expect(200);
    });
    await as('admin validate-all and invalidate-all', async () => {
      await login(t, 'alice', 'alice-password-0123');
      await http()
        .post('/admin/sessions/validate-all')
        .set('Authorization', bearer(admin.accessToken))
        .expect(200);
      await http()
        .post('/admin/sessions/invalidate-all')
        .set('Authorization', bearer(admin.accessToken))
        .expect(200);
    });
    await as('sweep', async () => {
      t.clock.advance(40 * 24 * 3600 * 1000);
      await t.app.get(SessionSweepService).sweepOnce();
    });

    const perUser = recorded.filter((r) => !broadcastFlows.has(r.flow));
    const untargeted = perUser.filter(
      (r) => !targets(r.filter, TARGET_FIELDS[r.collection]) && !knownUntargeted(r),
    );
    expect(perUser.length).toBeGreaterThan(20);
    expect(
      untargeted.map((r) => `${r.flow}: ${r.command} ${r.collection} ${JSON.stringify(r.filter)}`),
    ).toEqual([]);

    // Broadcast by design: each must still be answered from an index, not a collection scan.
    const broadcast = recorded.filter((r) => broadcastFlows.has(r.flow));
    expect(new Set(broadcast.map((r) => r.flow))).toEqual(broadcastFlows);
    const sessions = t.connection.collection('sessions');
    const scans: string[] = [];
    // The unfiltered export reads every session by definition (newest first, along the
    // { createdAt: -1 } index on mongod); every other broadcast filter must use an index.
    const filtered = broadcast.filter(
      (b) =>
        b.collection === 'sessions' &&
        b.command !== 'aggregate' &&
        Object.keys(b.filter).length > 0,
    );
    expect(filtered.length).toBeGreaterThan(3);
    for (const r of filtered) {
      const plan = await sessions.find(r.filter).explain('queryPlanner');
      if (JSON.stringify(plan.queryPlanner.winningPlan).includes('COLLSCAN')) {
        scans.push(`${r.flow}: ${r.command} ${JSON.stringify(r.filter)}`);
      }
    }
    expect(scans).toEqual([]);
  });
});
