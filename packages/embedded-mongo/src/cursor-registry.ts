import { calculateObjectSize, Long, type Document } from 'bson';
import { randomInt } from 'node:crypto';
import { CommandError } from './command-error';

/** mongod's default first batch of a find or aggregate. */
export const DEFAULT_FIRST_BATCH_SIZE = 101;
/** A reply must fit in one BSON document; leave room for the envelope around the batch. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
/** mongod's cursorTimeoutMillis default: idle cursors are reaped after ten minutes. */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

/** Random positive 63-bit ids, like mongod's, so clients never see small or guessable ones. */
export function newCursorId(inUse: (key: string) => boolean): Long {
  let id: Long;
  do {
    id = Long.fromBits(randomInt(0, 2 ** 32) | 0, randomInt(1, 2 ** 31));
  } while (inUse(id.toString()));
  return id;
}

interface OpenCursor {
  ns: string;
  documents: Document[];
  position: number;
  lastUsed: number;
}

export interface CursorReply {
  id: Long;
  ns: string;
  batch: Document[];
}

/**
 * Holds the remaining results of find and aggregate between getMore calls. Results are
 * materialised when the cursor opens; stored documents are replaced rather than modified on
 * update, so a cursor keeps a consistent view.
 */
export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();

  open(
    ns: string,
    documents: Document[],
    batchSize: number | undefined,
    singleBatch = false,
  ): CursorReply {
    const cursor: OpenCursor = { ns, documents, position: 0, lastUsed: Date.now() };
    // A first batch of 0 opens the cursor without returning documents, as on mongod.
    const batch = takeBatch(cursor, batchSize ?? DEFAULT_FIRST_BATCH_SIZE);
    if (singleBatch || cursor.position >= documents.length) {
      return { id: Long.ZERO, ns, batch };
    }
    const id = this.newId();
    this.cursors.set(id.toString(), cursor);
    return { id, ns, batch };
  }

  getMore(id: Long, ns: string, batchSize: number | undefined): CursorReply {
    const key = id.toString();
    const cursor = this.cursors.get(key);
    if (!cursor || cursor.ns !== ns) {
      throw new CommandError('CursorNotFound', `cursor id ${key} not found`);
    }
    cursor.lastUsed = Date.now();
    const batch = takeBatch(cursor, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (cursor.position >= cursor.documents.length) {
      this.cursors.delete(key);
      return { id: Long.ZERO, ns, batch };
    }
    return { id, ns, batch };
  }

  private newId(): Long {
    return newCursorId((key) => this.cursors.has(key));
  }

  /** Returns whether the cursor existed. */
  kill(id: Long): boolean {
    return this.cursors.delete(id.toString());
  }

  reapIdle(now = Date.now()): void {
    for (const [key, cursor] of this.cursors) {
      if (now - cursor.lastUsed > CURSOR_TIMEOUT_MS) this.cursors.delete(key);
    }
  }

  get openCount(): number {
    return this.cursors.size;
  }

  clear(): void {
    this.cursors.clear();
  }
}

function takeBatch(cursor: OpenCursor, limit: number): Document[] {
  const batch: Document[] = [];
  let bytes = 0;
  while (cursor.position < cursor.documents.length && batch.length < limit) {
    const doc = cursor.documents[cursor.position];
    bytes += calculateObjectSize(doc);
    if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
    batch.push(doc);
    cursor.position++;
  }
  return batch;
}
