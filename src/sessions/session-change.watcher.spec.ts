import { Logger } from '@nestjs/common';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../packages/embedded-mongo/src';
import { startTestDatabase, TestDatabase } from '../../test/support/database';
import { ManualClock } from '../common/clock';
import { ChangeFeed } from './session-change.watcher';
import { SessionCache } from './session-cache';
import type { AuthContext } from './session-context';
import { resolveSessionOptions } from './session-module.options';

const context = (id: string) =>
  ({ user: { id: `user-${id}` }, session: { id } }) as unknown as AuthContext;

async function eventually(check: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The feed's resume logic against the engine's real change streams. */
describe('ChangeFeed', () => {
  let db: TestDatabase;
  let client: MongoClient;
  let cache: SessionCache;
  const logger = new Logger('test');

  beforeAll(async () => {
    db = await startTestDatabase({ replicaSet: 'rs0' });
    client = await MongoClient.connect(db.uri);
  });
  afterAll(async () => {
    await client?.close();
    await db?.stop();
  });
  beforeEach(() => {
    cache = new SessionCache(
      resolveSessionOptions({ secrets: 's', cache: { ttlMs: 60_000 }, clock: new ManualClock(0) }),
    );
  });

  it('starts afresh and drops the whole cache when its resume point is gone (ChangeStreamHistoryLost)', async () => {
    if (process.env.MONGODB_URI) return; // needs a token the server has no history for
    // A resume token from another server's history: resuming from it is refused with 286.
    const other = await startEmbeddedMongo({ replicaSet: 'rs0', logger: { warn: () => {} } });
    const otherClient = await MongoClient.connect(other.uri);
    const foreign = otherClient.db('x').watch();
    await otherClient.db('x').collection('c').insertOne({});
    await foreign.tryNext();
    const staleToken = foreign.resumeToken;
    await foreign.close();
    await otherClient.close();
    await other.stop();

    const seen: string[] = [];
    const opened: boolean[] = [];
    const feed = new ChangeFeed(
      {
        name: 'test',
        open: (options) => {
          // The first open resumes from the stale point, as after a long outage.
          const resumeAfter = opened.length === 0 ? staleToken : options.resumeAfter;
          opened.push(resumeAfter !== undefined);
          return client.db(db.dbName).watch([], { ...options, resumeAfter });
        },
        apply: (change) => {
          if ('documentKey' in change) seen.push(String(change.documentKey._id));
        },
      },
      cache,
      logger,
    );
    jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    cache.set('cached-before', context('cached-before'));
    try {
      await feed.start();
      await eventually(() => feed.state === 'watching', 'the feed watches');
      expect(opened.slice(0, 2)).toEqual([true, false]);
      expect(cache.get('cached-before')).toBeUndefined();
      await client
        .db(db.dbName)
        .collection('c')
        .insertOne({ _id: 'after' } as never);
      await eventually(() => seen.includes('after'), 'changes after the restart arrive');
    } finally {
      await feed.stop();
    }
    expect(feed.state).toBe('stopped');
  });

  it('reports a standalone server as unavailable without retrying', async () => {
    if (process.env.MONGODB_URI) return;
    const standalone = await startTestDatabase();
    const c = await MongoClient.connect(standalone.uri);
    let opens = 0;
    const feed = new ChangeFeed(
      {
        name: 'test',
        open: (options) => {
          opens++;
          return c.db(standalone.dbName).watch([], options);
        },
        apply: () => undefined,
      },
      cache,
      logger,
    );
    try {
      expect(await feed.start()).toBe('unavailable');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(opens).toBe(1);
    } finally {
      await feed.stop();
      await c.close();
      await standalone.stop();
    }
  });
});
