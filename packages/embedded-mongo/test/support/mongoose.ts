import mongoose, { type Connection } from 'mongoose';
import { startTestDatabase, type TestDatabase } from './database';

export interface MongooseFixture {
  readonly database: TestDatabase;
  readonly connection: Connection;
}

/**
 * A fresh test database (see startTestDatabase) and a Mongoose connection on it for the enclosing
 * `describe` block, the Mongoose twin of useDriverDatabase(). Read the fields inside hooks and
 * tests, not at describe time.
 */
export function useMongooseConnection(): MongooseFixture {
  const fixture = {} as { database: TestDatabase; connection: Connection };
  beforeAll(async () => {
    fixture.database = await startTestDatabase();
    fixture.connection = await mongoose.createConnection(fixture.database.uri).asPromise();
  });
  afterAll(async () => {
    await fixture.connection?.close();
    await fixture.database?.stop();
  });
  return fixture;
}
