import type { Document } from 'bson';
import { CommandError } from '../command-error';
import { Collection } from './collection';

/** All databases the engine holds; a database exists while it has a collection. */
export class EngineStorage {
  private readonly databases = new Map<string, Map<string, Collection>>();

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  collections(dbName: string): Collection[] {
    return [...(this.databases.get(dbName)?.values() ?? [])];
  }

  allCollections(): Collection[] {
    return [...this.databases.values()].flatMap((collections) => [...collections.values()]);
  }

  get(dbName: string, name: string): Collection | undefined {
    return this.databases.get(dbName)?.get(name);
  }

  /** Writes create their collection implicitly, as on mongod. */
  getOrCreate(dbName: string, name: string): Collection {
    return this.get(dbName, name) ?? this.create(dbName, name);
  }

  create(dbName: string, name: string, options: Document = {}): Collection {
    validateNamespace(dbName, name);
    let collections = this.databases.get(dbName);
    if (!collections) {
      collections = new Map();
      this.databases.set(dbName, collections);
    }
    if (collections.has(name)) {
      throw new CommandError('NamespaceExists', `Collection ${dbName}.${name} already exists.`);
    }
    const collection = new Collection(dbName, name, options);
    collections.set(name, collection);
    return collection;
  }

  drop(dbName: string, name: string): Collection | undefined {
    const collections = this.databases.get(dbName);
    const collection = collections?.get(name);
    if (!collections || !collection) return undefined;
    collections.delete(name);
    if (collections.size === 0) this.databases.delete(dbName);
    return collection;
  }

  dropDatabase(dbName: string): void {
    this.databases.delete(dbName);
  }
}

function validateNamespace(dbName: string, name: string): void {
  if (!dbName || /[/\\. "$]/.test(dbName)) {
    throw new CommandError('InvalidNamespace', `Invalid database name: '${dbName}'`);
  }
  if (!name || name.includes('$') || name.startsWith('.') || name.includes('\0')) {
    throw new CommandError('InvalidNamespace', `Invalid collection name: ${name}`);
  }
}
