import { MongoStore } from 'connect-mongo';
import type { SessionData } from 'express-session';
import { useDriverDatabase } from './support/driver';

/**
 * connect-mongo's `timestamps` option writes `updatedAt` with `$currentDate` on every save.
 * The engine used to answer every `$currentDate` of the process with one frozen time.
 */
describe('connect-mongo on the engine', () => {
  const driver = useDriverDatabase();

  it('advances updatedAt on each save and keeps createdAt', async () => {
    const store = MongoStore.create({
      client: driver.client,
      dbName: driver.db.databaseName,
      collectionName: 'express_sessions',
      timestamps: true,
      autoRemove: 'disabled',
    });
    const set = (sid: string, session: SessionData) =>
      new Promise<void>((resolve, reject) =>
        store.set(sid, session, (error) => (error ? reject(error) : resolve())),
      );
    const session = {
      cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) },
    } as SessionData;
    await set('sid-1', session);
    const first = await driver.db.collection('express_sessions').findOne({ _id: 'sid-1' as never });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await set('sid-1', session);
    const second = await driver.db
      .collection('express_sessions')
      .findOne({ _id: 'sid-1' as never });
    expect(first?.updatedAt).toBeInstanceOf(Date);
    expect((second?.updatedAt as Date).getTime()).toBeGreaterThan(
      (first?.updatedAt as Date).getTime(),
    );
    expect(second?.createdAt).toEqual(first?.createdAt);
  });
});
