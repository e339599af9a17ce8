import type { Document, UUID } from 'bson';
import type { IndexSpec } from './collection-index';
import type { StoredDocument } from './document-path';

/**
 * One change the storage made, in the order it made them. The journal writes them to disk and
 * change streams turn them into events, so both see exactly what the collections did.
 */
export type StorageChange =
  | { op: 'createCollection'; db: string; coll: string; options: Document; uuid: UUID }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'dropDatabase'; db: string }
  | { op: 'insert'; db: string; coll: string; doc: StoredDocument }
  | {
      op: 'replace';
      db: string;
      coll: string;
      before: StoredDocument;
      doc: StoredDocument;
      /** 'update' for operator and pipeline updates, 'replace' for replacement documents. */
      kind: 'update' | 'replace';
    }
  | { op: 'delete'; db: string; coll: string; before: StoredDocument }
  | { op: 'createIndex'; db: string; coll: string; spec: IndexSpec }
  | { op: 'dropIndex'; db: string; coll: string; name: string }
  | { op: 'dropAllIndexes'; db: string; coll: string }
  | { op: 'setOptions'; db: string; coll: string; options: Document };

export type StorageListener = (change: StorageChange) => void;
