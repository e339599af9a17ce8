import type { Document, UUID } from 'bson';
import { valueKey } from '../storage/bson-value';
import type { Collection } from '../storage/collection';
import type { IndexSpec } from '../storage/collection-index';
import type { EngineStorage } from '../storage/engine-storage';
import type { StorageChange } from '../storage/storage-events';

/**
 * A storage change as the journal holds it: the after-image of a write, never a diff, so
 * replaying a record needs nothing but the state the records before it left.
 */
export function encodeChange(change: StorageChange): Document {
  switch (change.op) {
    case 'createCollection':
      return {
        op: 'cc',
        db: change.db,
        coll: change.coll,
        options: change.options,
        uuid: change.uuid,
      };
    case 'dropCollection':
      return { op: 'dc', db: change.db, coll: change.coll };
    case 'dropDatabase':
      return { op: 'dd', db: change.db };
    case 'insert':
      return { op: 'i', db: change.db, coll: change.coll, doc: change.doc };
    case 'replace':
      return { op: 'u', db: change.db, coll: change.coll, doc: change.doc };
    case 'delete':
      return { op: 'd', db: change.db, coll: change.coll, id: change.before._id };
    case 'createIndex':
      return { op: 'ci', db: change.db, coll: change.coll, spec: change.spec };
    case 'dropIndex':
      return { op: 'di', db: change.db, coll: change.coll, name: change.name };
    case 'dropAllIndexes':
      return { op: 'dai', db: change.db, coll: change.coll };
    case 'setOptions':
      return { op: 'o', db: change.db, coll: change.coll, options: change.options };
  }
}

export class CorruptDataError extends Error {}

function existing(storage: EngineStorage, op: Document): Collection {
  const collection = storage.get(op.db as string, op.coll as string);
  if (!collection) {
    throw new CorruptDataError(
      `journal names a missing collection ${String(op.db)}.${String(op.coll)}`,
    );
  }
  return collection;
}

/** Replays one journaled change onto storage that is not being listened to. */
export function applyChange(storage: EngineStorage, op: Document): void {
  const db = op.db as string;
  const coll = op.coll as string;
  switch (op.op) {
    case 'cc':
      storage.create(db, coll, op.options as Document).uuid = op.uuid as UUID;
      return;
    case 'dc':
      storage.drop(db, coll);
      return;
    case 'dd':
      storage.dropDatabase(db);
      return;
    case 'i':
      // Replayed writes were validated when first made; a later collMod does not re-judge them.
      existing(storage, op).insert(op.doc as Document, { bypassValidation: true });
      return;
    case 'u': {
      const collection = existing(storage, op);
      const doc = op.doc as Document;
      const before = collection.getById(valueKey(doc._id));
      if (!before)
        throw new CorruptDataError(`journal updates a missing document in ${db}.${coll}`);
      collection.replace(before, doc, 'update', { bypassValidation: true });
      return;
    }
    case 'd': {
      const collection = existing(storage, op);
      const before = collection.getById(valueKey(op.id));
      if (before) collection.remove(before);
      return;
    }
    case 'ci':
      existing(storage, op).createIndex(op.spec as IndexSpec);
      return;
    case 'di':
      existing(storage, op).dropIndex(op.name as string);
      return;
    case 'dai':
      existing(storage, op).dropAllIndexes();
      return;
    case 'o':
      existing(storage, op).setOptions(op.options as Document);
      return;
    default:
      throw new CorruptDataError(`unknown journal operation ${String(op.op)}`);
  }
}
