import { MongoClient, type Db } from 'mongodb';
import { startTestDatabase, type TestDatabase } from './database';

export interface DriverFixture {
  readonly database: TestDatabase;
  readonly client: MongoClient;
  readonly db: Db;
}

/**
 * A fresh test database (see startTestDatabase) and an official-driver client on it for the
 * enclosing `describe` block: connected before its tests, closed and dropped after them. Read
 * the fields inside hooks and tests, not at describe time.
 */
export function useDriverDatabase(): DriverFixture {
  const fixture = {} as { database: TestDatabase; client: MongoClient; db: Db };
  beforeAll(async () => {
    fixture.database = await startTestDatabase();
    fixture.client = await MongoClient.connect(fixture.database.uri);
    fixture.db = fixture.client.db();
  });
  afterAll(async () => {
    await fixture.client?.close();
    await fixture.database?.stop();
  });
  return fixture;
}
