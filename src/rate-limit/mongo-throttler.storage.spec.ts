import { MongooseModule } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import { startTestDatabase, TestDatabase } from '../../test/support/database';
import { Clock, ManualClock } from '../common/clock';
import { MongoThrottlerStorage } from './mongo-throttler.storage';
import { RateLimitModule } from './rate-limit.module';

const MINUTE = 60_000;

describe('MongoThrottlerStorage (real engine)', () => {
  let db: TestDatabase;
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const closers: (() => Promise<void>)[] = [];

  /** One "instance": its own Nest module and connection, on the shared database. */
  async function instance(): Promise<MongoThrottlerStorage> {
    const moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(db.uri), RateLimitModule],
    })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    closers.push(() => app.close());
    return app.get(MongoThrottlerStorage);
  }

  beforeAll(async () => {
    db = await startTestDatabase();
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await db.stop();
  });

  it('counts hits in a window, blocks past the limit without counting, then starts afresh', async () => {
    const s = await instance();
    const hit = () => s.increment('ip-1', MINUTE, 3, MINUTE, 'login');
    for (let i = 1; i <= 3; i++) {
      expect(await hit()).toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    clock.advance(10_000);
    expect(await hit()).toEqual({
      totalHits: 4,
      timeToExpire: 50,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    clock.advance(30_000);
    expect(await hit()).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 30 });
    clock.advance(30_000);
    expect(await hit()).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps keys and throttler names apart', async () => {
    const s = await instance();
    await s.increment('k', MINUTE, 5, MINUTE, 'a');
    await s.increment('k', MINUTE, 5, MINUTE, 'a');
    expect((await s.increment('k', MINUTE, 5, MINUTE, 'b')).totalHits).toBe(1);
    expect((await s.increment('other', MINUTE, 5, MINUTE, 'a')).totalHits).toBe(1);
  });

  it('shares one count between instances, each concurrent hit counted exactly once', async () => {
    const [a, b] = [await instance(), await instance()];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).increment('shared', MINUTE, 30, MINUTE, 'login'),
      ),
    );
    const counted = results.filter((r) => !r.isBlocked).map((r) => r.totalHits);
    // The first 30 hits, in whatever order they landed, got the counts 1..30; the rest were
    // refused. A lost update would show as a repeated count, a lost block as a 31st pass.
    expect([...counted].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(results.filter((r) => r.isBlocked)).toHaveLength(10);
  });
});
