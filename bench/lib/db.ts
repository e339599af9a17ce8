import { Db, MongoClient } from 'mongodb';

/** Opens a driver connection to one database for the duration of `use` (setup and inspection only). */
export async function withDb<T>(uri: string, use: (db: Db) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    return await use(client.db());
  } finally {
    await client.close();
  }
}
