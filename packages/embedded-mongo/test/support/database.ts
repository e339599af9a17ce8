import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { IN_MEMORY_NOTICE, startEmbeddedMongo } from '../../src';

export interface TestDatabase {
  /** Connection string that already names the test's database. */
  uri: string;
  dbName: string;
  stop(): Promise<void>;
}

/**
 * Puts a database name into a MongoDB URI, keeping credentials, every host of a replica set
 * and the options (WHATWG URL cannot parse a comma-separated host list).
 */
export function withDatabase(baseUri: string, dbName: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?(\?.*)?$/.exec(baseUri);
  if (!match) throw new Error(`MONGODB_URI is not a mongodb:// URI: ${baseUri}`);
  return `${match[1]}/${dbName}${match[3] ?? ''}`;
}

/**
 * Real MongoDB when MONGODB_URI is set (a fresh random database on it), else a fresh embedded
 * engine on a free port.
 */
export async function startTestDatabase(options?: {
  ttlMonitorIntervalMs?: number;
  /**
   * Start the engine as a one-member replica set of this name (change streams). With
   * MONGODB_URI the server is what it is: point it at a replica set to run such suites.
   */
  replicaSet?: string;
}): Promise<TestDatabase> {
  const dbName = `nest_sessions_test_${randomBytes(6).toString('hex')}`;
  const external = process.env.MONGODB_URI;
  if (external) {
    const uri = withDatabase(external, dbName);
    return {
      uri,
      dbName,
      stop: async () => {
        const client = await MongoClient.connect(uri);
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  }
  const engine = await startEmbeddedMongo({
    ttlMonitorIntervalMs: options?.ttlMonitorIntervalMs,
    replicaSet: options?.replicaSet,
    // Tests start many engines; the in-memory notice would repeat in every one.
    logger: {
      warn: (message) => {
        if (!message.includes(IN_MEMORY_NOTICE)) console.warn(message);
      },
    },
  });
  return { uri: `${engine.uri}/${dbName}`, dbName, stop: () => engine.stop() };
}
