import { SchedulerRegistry } from '@nestjs/schedule';
import { Types } from 'mongoose';
import { LeaseService } from '../src/sweep/lease.service';
import { SessionSweepService, SWEEP_LEASE } from '../src/sweep/session-sweep.service';
import { SWEEP_JOB } from '../src/sweep/session-sweep.task';
import { createTestApp, createUser, login, TestApp } from './support/app';
import { startTestDatabase, TestDatabase } from './support/database';
import { storedSession, StoredSessionSeed } from './support/session-docs';

const S = 1000;
const IDLE = 600;
const ABSOLUTE = 3600;
const RETENTION = 86400;
const ENV = {
  SESSION_IDLE_TIMEOUT_SECONDS: String(IDLE),
  SESSION_ABSOLUTE_TIMEOUT_SECONDS: String(ABSOLUTE),
  SESSION_RETENTION_SECONDS: String(RETENTION),
  SWEEP_BATCH_SIZE: '3',
};

const sessionDoc = storedSession;

describe('session sweep (e2e)', () => {
  let t: TestApp;
  let sweep: SessionSweepService;
  const at = (offsetSeconds: number) => new Date(t.clock.nowMs() + offsetSeconds * S);
  const sessions = () => t.connection.collection('sessions');
  const seed = async (docs: Record<string, StoredSessionSeed>) => {
    const withIds = Object.fromEntries(
      Object.entries(docs).map(([name, s]) => [name, sessionDoc(s)]),
    );
    await sessions().insertMany(Object.values(withIds));
    return withIds;
  };
  const stored = (id: Types.ObjectId) => sessions().findOne({ _id: id });

  beforeEach(async () => {
    t = await createTestApp(ENV);
    sweep = t.app.get(SessionSweepService);
  });
  afterEach(() => t.close());

  it('expires exactly the sessions past a deadline, with the reason and time of the first one', async () => {
    const s = await seed({
      fresh: { lastSeenAt: at(-(IDLE - 1)), expiresAt: at(1000) },
      idleNow: { lastSeenAt: at(-IDLE), expiresAt: at(1000) },
      idleEarlier: { lastSeenAt: at(-1000), expiresAt: at(10) },
      absoluteNow: { lastSeenAt: at(-100), expiresAt: at(0) },
      bothIdleFirst: { lastSeenAt: at(-5000), expiresAt: at(-4000) },
      bothAbsoluteFirst: { lastSeenAt: at(-3000), expiresAt: at(-2900) },
      alreadyEnded: {
        state: 'ended',
        endReason: 'logout',
        lastSeenAt: at(-5000),
        expiresAt: at(-10),
        expiredAt: at(-4000),
      },
    });
    // More than a few batches' worth (SWEEP_BATCH_SIZE=3).
    const bulk = Array.from({ length: 10 }, (_, i) =>
      sessionDoc({ lastSeenAt: at(-IDLE - i), expiresAt: at(2000) }),
    );
    await sessions().insertMany(bulk);

    const result = await sweep.sweepOnce();

    expect(result).toMatchObject({ expiredIdle: 13, expiredAbsolute: 2, deleted: 0 });
    expect(result.skipped).toBeUndefined();
    expect(result.aborted).toBeUndefined();
    expect(result.batches).toBeGreaterThanOrEqual(5);
    const expectExpired = async (id: Types.ObjectId, endReason: string, expiredAt: Date) =>
      expect(await stored(id)).toMatchObject({ state: 'expired', endReason, expiredAt });
    expect(await stored(s.fresh._id)).toMatchObject({ state: 'active', expiredAt: null });
    await expectExpired(s.idleNow._id, 'idle_timeout', at(0));
    await expectExpired(s.idleEarlier._id, 'idle_timeout', at(-1000 + IDLE));
    await expectExpired(s.absoluteNow._id, 'absolute_timeout', at(0));
    await expectExpired(s.bothIdleFirst._id, 'idle_timeout', at(-5000 + IDLE));
    await expectExpired(s.bothAbsoluteFirst._id, 'absolute_timeout', at(-2900));
    expect(await stored(s.alreadyEnded._id)).toMatchObject({
      state: 'ended',
      endReason: 'logout',
      expiredAt: at(-4000),
    });
    for (const [i, doc] of bulk.entries()) {
      await expectExpired(doc._id, 'idle_timeout', at(-i));
    }

    // Nothing is left to do at the same instant.
    expect(await sweep.sweepOnce()).toMatchObject({
      expiredIdle: 0,
      expiredAbsolute: 0,
      deleted: 0,
    });
  });

  it('deletes expired and ended sessions once they are older than the retention period', async () => {
    const s = await seed({
      expiredAtLimit: {
        state: 'expired',
        endReason: 'admin',
        lastSeenAt: at(-RETENTION - 100),
        expiresAt: at(-10),
        expiredAt: at(-RETENTION),
      },
      endedJustInside: {
        state: 'ended',
        endReason: 'logout',
        lastSeenAt: at(-RETENTION),
        expiresAt: at(-10),
        expiredAt: at(-RETENTION + 1),
      },
      endedLongAgo: {
        state: 'ended',
        endReason: 'logout',
        lastSeenAt: at(-RETENTION * 3),
        expiresAt: at(-RETENTION * 2),
        expiredAt: at(-RETENTION * 2),
      },
      expiredLongAgo: {
        state: 'expired',
        endReason: 'idle_timeout',
        lastSeenAt: at(-RETENTION * 2),
        expiresAt: at(-RETENTION),
        expiredAt: at(-RETENTION - 1),
      },
      live: { lastSeenAt: at(-1), expiresAt: at(ABSOLUTE - 10) },
    });
    const old = Array.from({ length: 7 }, (_, i) =>
      sessionDoc({
        state: 'ended',
        lastSeenAt: at(-RETENTION * 2),
        expiresAt: at(-RETENTION),
        expiredAt: at(-RETENTION - i - 1),
        endReason: 'logout',
      }),
    );
    await sessions().insertMany(old);

    expect(await sweep.sweepOnce()).toMatchObject({
      expiredIdle: 0,
      expiredAbsolute: 0,
      deleted: 10,
    });
    expect(await sessions().countDocuments()).toBe(2);
    expect(await stored(s.endedJustInside._id)).not.toBeNull();
    expect(await stored(s.live._id)).toMatchObject({ state: 'active' });

    // A day later the ended one is past retention too; the live one has idled out meanwhile,
    // but it expired (at lastSeenAt + idle) less than the retention period ago, so it stays.
    t.clock.advance(RETENTION * S);
    expect(await sweep.sweepOnce()).toMatchObject({
      expiredIdle: 1,
      expiredAbsolute: 0,
      deleted: 1,
    });
    expect(await stored(s.endedJustInside._id)).toBeNull();
    expect(await stored(s.live._id)).toMatchObject({
      state: 'expired',
      endReason: 'idle_timeout',
      expiredAt: new Date(s.live.lastSeenAt.getTime() + IDLE * S),
    });
  });

  it('ends what a client sees: an idle session is refused and listed as expired after the sweep', async () => {
    await createUser(t, { username: 'ann', password: 'correct horse battery' });
    const { accessToken, session } = await login(t, 'ann', 'correct horse battery');
    await t.http().get('/sessions/current').auth(accessToken, { type: 'bearer' }).expect(200);

    t.clock.advance(IDLE * S);
    expect(await sweep.sweepOnce()).toMatchObject({ expiredIdle: 1 });

    const refused = await t.http().get('/sessions').auth(accessToken, { type: 'bearer' });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('SESSION_EXPIRED');
    // The one route an expired session may still call shows what the sweep wrote down.
    const current = await t.http().get('/sessions/current').auth(accessToken, { type: 'bearer' });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({
      id: session.id,
      valid: false,
      state: 'expired',
      endReason: 'idle_timeout',
    });
    const stored = await sessions().findOne({ _id: new Types.ObjectId(session.id) });
    expect(stored).toMatchObject({ state: 'expired', endReason: 'idle_timeout' });
    expect(stored!.expiredAt).toEqual(new Date(stored!.lastSeenAt.getTime() + IDLE * S));
    expect(current.body.expiredAt).toBe(stored!.expiredAt.toISOString());
  });

  it('runs on SWEEP_CRON without overlapping itself, and not at all when disabled', async () => {
    const on = await createTestApp({ ...ENV, SWEEP_ENABLED: 'true', SWEEP_CRON: '*/7 * * * * *' });
    try {
      const job = on.app.get(SchedulerRegistry).getCronJob(SWEEP_JOB);
      expect(String(job.cronTime.source)).toBe('*/7 * * * * *');
      expect(job.isActive).toBe(true);
      expect(job.waitForCompletion).toBe(true);

      await on.connection.collection('sessions').insertOne(
        sessionDoc({
          lastSeenAt: new Date(on.clock.nowMs() - IDLE * S),
          expiresAt: new Date(on.clock.nowMs() + S),
        }),
      );
      await job.fireOnTick();
      expect(await on.connection.collection('sessions').findOne()).toMatchObject({
        state: 'expired',
        endReason: 'idle_timeout',
      });
    } finally {
      await on.close();
    }
    const off = await createTestApp({ ...ENV, SWEEP_ENABLED: 'false' });
    try {
      expect(off.app.get(SchedulerRegistry).doesExist('cron', SWEEP_JOB)).toBe(false);
    } finally {
      await off.close();
    }
  });
});

describe('sweep during shutdown (e2e)', () => {
  it('stops a running sweep at a batch boundary before the database closes', async () => {
    const t = await createTestApp({ ...ENV, SWEEP_BATCH_SIZE: '1' });
    const sessions = t.connection.collection('sessions');
    const total = 40;
    await sessions.insertMany(
      Array.from({ length: total }, () =>
        sessionDoc({
          lastSeenAt: new Date(t.clock.nowMs() - IDLE * S),
          expiresAt: new Date(t.clock.nowMs() + ABSOLUTE * S),
        }),
      ),
    );
    const running = t.app.get(SessionSweepService).sweepOnce();
    while ((await sessions.countDocuments({ state: 'expired' })) === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }

    await t.close();
    const result = await running;
    expect(result.aborted).toBe('shutting-down');
    expect(result.expiredIdle).toBeGreaterThan(0);
    expect(result.expiredIdle).toBeLessThan(total);
  });
});

describe('sweep lease across instances (e2e)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeEach(async () => {
    db = await startTestDatabase();
    // Two app instances on one database, as in a multi-instance deployment.
    a = await createTestApp({ ...ENV, SWEEP_BATCH_SIZE: '5' }, { db });
    b = await createTestApp({ ...ENV, SWEEP_BATCH_SIZE: '5' }, { db });
    b.clock.set(a.clock.nowMs());
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await db.stop();
  });

  const leases = () => a.connection.collection('leases');
  const overdue = (n: number) =>
    Array.from({ length: n }, () =>
      sessionDoc({
        lastSeenAt: new Date(a.clock.nowMs() - IDLE * S - 1),
        expiresAt: new Date(a.clock.nowMs() + ABSOLUTE * S),
      }),
    );

  it('lets exactly one of many concurrent takers hold the lease', async () => {
    const la = a.app.get(LeaseService);
    const lb = b.app.get(LeaseService);
    for (let round = 0; round < 20; round++) {
      const name = `race-${round}`;
      const takers = Array.from({ length: 8 }, (_, i) => ({
        holder: `holder-${i}`,
        leases: i % 2 ? lb : la,
      }));
      const won = await Promise.all(takers.map((x) => x.leases.tryAcquire(name, x.holder, 60 * S)));
      expect(won.filter(Boolean)).toHaveLength(1);
      const winner = takers[won.indexOf(true)].holder;
      expect(await leases().findOne({ _id: name as never })).toMatchObject({ holder: winner });
      // The holder may renew; nobody else may take it while it is live.
      expect(await la.tryAcquire(name, winner, 60 * S)).toBe(true);
      expect(await lb.tryAcquire(name, 'someone-else', 60 * S)).toBe(false);
    }
  });

  it('never lets two instances sweep at once: concurrent sweeps do the work exactly once', async () => {
    const total = 60;
    await a.connection.collection('sessions').insertMany(overdue(total));
    const sa = a.app.get(SessionSweepService);
    const sb = b.app.get(SessionSweepService);

    const results = (
      await Promise.all([sa.sweepOnce(), sb.sweepOnce(), sa.sweepOnce(), sb.sweepOnce()])
    ).concat(await Promise.all([sb.sweepOnce(), sa.sweepOnce()]));

    const ran = results.filter((r) => !r.skipped);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.reduce((n, r) => n + r.expiredIdle, 0)).toBe(total);
    expect(results.filter((r) => r.skipped).map((r) => r.skipped)).toEqual(
      expect.arrayContaining(['already-running']),
    );
    expect(await a.connection.collection('sessions').countDocuments({ state: 'active' })).toBe(0);
    // Released after each run.
    expect(await leases().findOne({ _id: SWEEP_LEASE as never })).toBeNull();
  });

  it('skips while another instance holds the lease, and sweeps once it is released', async () => {
    await a.connection.collection('sessions').insertMany(overdue(4));
    const sa = a.app.get(SessionSweepService);
    const sb = b.app.get(SessionSweepService);
    // A is mid-sweep: it holds the lease.
    expect(await a.app.get(LeaseService).tryAcquire(SWEEP_LEASE, sa.holderId, 300 * S)).toBe(true);

    expect(await sb.sweepOnce()).toMatchObject({ skipped: 'lease-held', expiredIdle: 0 });
    expect(await a.connection.collection('sessions').countDocuments({ state: 'active' })).toBe(4);

    await a.app.get(LeaseService).release(SWEEP_LEASE, sa.holderId);
    expect(await sb.sweepOnce()).toMatchObject({ expiredIdle: 4 });
  });

  it('takes over the lease of a holder that died without releasing it, once it lapses', async () => {
    await a.connection.collection('sessions').insertMany(overdue(3));
    // What a crashed instance leaves behind: a lease nobody will renew or release.
    await leases().insertOne({
      _id: SWEEP_LEASE as never,
      holder: 'crashed-host:4242:deadbeef',
      expiresAt: new Date(b.clock.nowMs() + 300 * S),
    });
    const sb = b.app.get(SessionSweepService);

    expect(await sb.sweepOnce()).toMatchObject({ skipped: 'lease-held' });
    b.clock.advance(299 * S);
    expect(await sb.sweepOnce()).toMatchObject({ skipped: 'lease-held' });

    b.clock.advance(1 * S);
    const result = await sb.sweepOnce();
    expect(result.skipped).toBeUndefined();
    expect(result.expiredIdle).toBe(3);
    expect(await leases().findOne({ _id: SWEEP_LEASE as never })).toBeNull();
  });
});
