import type { Document } from 'bson';
import { CommandError } from '../command-error';
import { Collection } from './collection';
import type { StorageChange, StorageListener } from './storage-events';

/** All databases the engine holds; a database exists while it has a collection. */
export class EngineStorage {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private readonly listeners: StorageListener[] = [];

  /** Registers a listener for every change from now on (journal, change streams). */
  listen(listener: StorageListener): void {
    this.listeners.push(listener);
    for (const collection of this.allCollections()) collection.listener = this.emit;
  }

  private readonly emit = (change: StorageChange): void => {
    for (const listener of this.listeners) listener(change);
  };

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
    if (this.listeners.length > 0) {
      collection.listener = this.emit;
      this.emit({
        op: 'createCollection',
        db: dbName,
        coll: name,
        options,
        uuid: collection.uuid,
      });
    }
    return collection;
  }

  drop(dbName: string, name: string): Collection | undefined {
    const collections = this.databases.get(dbName);
    const collection = collections?.get(name);
    if (!collections || !collection) return undefined;
    collections.delete(name);
    if (collections.size === 0) this.databases.delete(dbName);
    collection.listener = undefined;
    this.emit({ op: 'dropCollection', db: dbName, coll: name });
    return collection;
  }

  dropDatabase(dbName: string): void {
    const collections = this.databases.get(dbName);
    if (!collections) return;
    this.databases.delete(dbName);
    for (const collection of collections.values()) collection.listener = undefined;
    this.emit({ op: 'dropDatabase', db: dbName });
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
