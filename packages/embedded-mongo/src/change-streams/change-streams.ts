import { Long, Timestamp, type Document } from 'bson';
import { randomBytes } from 'node:crypto';
import { engineAggregator } from '../storage/mongod-operators';
import { CommandError } from '../command-error';
import { newCursorId } from '../cursor-registry';
import { isPlainObject, valueKey } from '../storage/bson-value';
import type { StoredDocument } from '../storage/document-path';
import type { EngineStorage } from '../storage/engine-storage';
import type { StorageChange } from '../storage/storage-events';

/** How many events are kept for resuming; older resume tokens get ChangeStreamHistoryLost. */
export const DEFAULT_CHANGE_HISTORY = 10_000;
/** mongod's default wait of a getMore on an awaitData cursor without maxTimeMS. */
const DEFAULT_AWAIT_MS = 1000;
/** Idle change-stream cursors are reaped like others (mongod's cursorTimeoutMillis). */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

interface ChangeEvent {
  seq: number;
  /** The database and, except for dropDatabase, the collection the event is about. */
  db: string;
  coll?: string;
  operationType: 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'dropDatabase';
  clusterTime: Timestamp;
  wallTime: Date;
  documentKey?: Document;
  /** The document after the change (insert, replace, update). */
  after?: StoredDocument;
  before?: StoredDocument;
  updateDescription?: Document;
}

interface StreamCursor {
  id: Long;
  ns: string;
  db: string;
  /** undefined: every collection of `db`; and with `cluster`, of every database. */
  coll?: string;
  cluster: boolean;
  /** The sequence number of the last event looked at. */
  position: number;
  fullDocument: string;
  fullDocumentBeforeChange: string;
  stages: Document[];
  lastUsed: number;
  invalidatedAt?: number;
}

/**
 * A cluster time source: seconds since the epoch and a counter within the second, strictly
 * increasing, as the `clusterTime` of events and the `operationTime` of replies.
 */
class ClusterClock {
  private seconds = 0;
  private increment = 0;

  tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.seconds) {
      this.seconds = now;
      this.increment = 1;
    } else this.increment++;
    return new Timestamp({ t: this.seconds, i: this.increment });
  }
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.compare(b);
}

/**
 * Change streams over the engine's storage: every committed change becomes an event in a
 * bounded in-memory history; `aggregate` with a leading `$changeStream` opens a cursor on it
 * and `getMore` waits (up to `maxTimeMS`, the driver's maxAwaitTimeMS) for new events.
 *
 * Resume tokens are `{ _data: <engine run id><sequence> }` in hex. The history lives in memory,
 * so a token from before a restart, or older than the kept history, is refused with
 * ChangeStreamHistoryLost, which drivers surface as a non-resumable error.
 */
export class ChangeStreams {
  /** Identifies this run of the engine inside resume tokens. */
  private readonly runId = randomBytes(8).toString('hex');
  private readonly clock = new ClusterClock();
  private readonly history: ChangeEvent[] = [];
  private pending: StorageChange[] = [];
  private seq = 0;
  private readonly cursors = new Map<string, StreamCursor>();
  private waiters = new Set<() => void>();

  constructor(
    private readonly storage: EngineStorage,
    private readonly historySize = DEFAULT_CHANGE_HISTORY,
  ) {
    storage.listen((change) => {
      if (this.pending.length === 0) queueMicrotask(() => this.publish());
      this.pending.push(change);
    });
  }

  /** A fresh cluster time, later than every event so far. */
  operationTime(): Timestamp {
    return this.clock.tick();
  }

  /**
   * Turns the changes made since the last call into events and wakes waiting getMores. Called
   * once a command's changes are in the journal, so no watcher sees an unacknowledged write.
   */
  publish(): void {
    if (this.pending.length === 0) return;
    const changes = this.pending;
    this.pending = [];
    for (const change of changes) {
      const event = this.toEvent(change);
      if (!event) continue;
      this.history.push(event);
    }
    if (this.history.length > this.historySize) {
      this.history.splice(0, this.history.length - this.historySize);
    }
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  private toEvent(change: StorageChange): ChangeEvent | undefined {
    const base = {
      seq: ++this.seq,
      db: change.db,
      clusterTime: this.clock.tick(),
      wallTime: new Date(),
    };
    switch (change.op) {
      case 'insert':
        return {
          ...base,
          coll: change.coll,
          operationType: 'insert',
          documentKey: { _id: change.doc._id },
          after: change.doc,
        };
      case 'replace':
        return {
          ...base,
          coll: change.coll,
          operationType: change.kind,
          documentKey: { _id: change.doc._id },
          after: change.doc,
          before: change.before,
          updateDescription:
            change.kind === 'update' ? describeUpdate(change.before, change.doc) : undefined,
        };
      case 'delete':
        return {
          ...base,
          coll: change.coll,
          operationType: 'delete',
          documentKey: { _id: change.before._id },
          before: change.before,
        };
      case 'dropCollection':
        return { ...base, coll: change.coll, operationType: 'drop' };
      case 'dropDatabase':
        return { ...base, operationType: 'dropDatabase' };
      default:
        this.seq--;
        return undefined;
    }
  }

  /** `aggregate` whose first stage is `$changeStream`. */
  open(command: Document, dbName: string): Document {
    const pipeline = command.pipeline as Document[];
    const spec = pipeline[0].$changeStream as unknown;
    if (!isPlainObject(spec)) {
      throw new CommandError('TypeMismatch', "the '$changeStream' stage must be an object");
    }
    const stages = pipeline.slice(1);
    if (stages.some((stage) => isPlainObject(stage) && '$changeStream' in stage)) {
      throw new CommandError('BadValue', '$changeStream is only valid as the first stage');
    }
    const target = command.aggregate as unknown;
    const cluster = spec.allChangesForCluster === true;
    if (cluster && dbName !== 'admin') {
      throw new CommandError(
        'InvalidOptions',
        "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database",
      );
    }
    const coll = typeof target === 'string' ? target : undefined;
    if (coll === undefined && target !== 1) {
      throw new CommandError('FailedToParse', "'aggregate' must be a collection name or 1");
    }
    const cursorOptions = (command.cursor as Document | undefined) ?? {};
    const position = this.startPosition(spec);
    const cursor: StreamCursor = {
      id: this.newId(),
      ns: `${dbName}.${coll ?? '$cmd.aggregate'}`,
      db: dbName,
      coll,
      cluster,
      position,
      fullDocument: typeof spec.fullDocument === 'string' ? spec.fullDocument : 'default',
      fullDocumentBeforeChange:
        typeof spec.fullDocumentBeforeChange === 'string' ? spec.fullDocumentBeforeChange : 'off',
      stages,
      lastUsed: Date.now(),
    };
    // Validate the stages now, so a bad pipeline fails the aggregate rather than a getMore.
    this.applyStages(cursor, []);
    this.cursors.set(cursor.id.toString(), cursor);
    const batch = this.take(cursor, numberOr(cursorOptions.batchSize, Infinity));
    return {
      cursor: { ...batch, firstBatch: batch.firstBatch },
      operationTime: this.operationTime(),
      ok: 1,
    };
  }

  /** Whether a cursor id belongs to a change stream (its getMore and killCursors come here). */
  has(id: Long): boolean {
    return this.cursors.has(id.toString());
  }

  /** getMore: the events after the cursor's position, waiting up to `maxTimeMS` for the first. */
  async getMore(command: Document): Promise<Document> {
    const cursor = this.cursors.get(toLong(command.getMore).toString());
    if (!cursor)
      throw new CommandError('CursorNotFound', `cursor id ${String(command.getMore)} not found`);
    if (command.collection !== (cursor.coll ?? '$cmd.aggregate')) {
      throw new CommandError(
        'BadValue',
        `Requested getMore on namespace '${String(command.collection)}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    const batchSize = numberOr(command.batchSize, Infinity);
    const waitMs = numberOr(command.maxTimeMS, DEFAULT_AWAIT_MS);
    let result = this.take(cursor, batchSize);
    if (result.firstBatch.length === 0 && !result.id.isZero() && waitMs > 0) {
      const deadline = Date.now() + waitMs;
      while (result.firstBatch.length === 0 && !result.id.isZero()) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await this.nextPublish(left);
        // The cursor may have been killed while this getMore waited.
        if (!this.cursors.has(cursor.id.toString())) break;
        result = this.take(cursor, batchSize);
      }
    }
    const { firstBatch, ...rest } = result;
    return { cursor: { ...rest, nextBatch: firstBatch }, ok: 1 };
  }

  kill(id: Long): boolean {
    return this.cursors.delete(id.toString());
  }

  reapIdle(now = Date.now()): void {
    for (const [key, cursor] of this.cursors) {
      if (now - cursor.lastUsed > CURSOR_TIMEOUT_MS) this.cursors.delete(key);
    }
  }

  clear(): void {
    this.cursors.clear();
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  private nextPublish(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }

  private newId(): Long {
    return newCursorId((key) => this.cursors.has(key));
  }

  private token(seq: number, invalidate = false): Document {
    const hex = seq.toString(16).padStart(16, '0');
    return { _data: `${this.runId}${hex}${invalidate ? '01' : '00'}` };
  }

  private parseToken(token: unknown): { seq: number; invalidate: boolean } {
    const data = isPlainObject(token) ? token._data : undefined;
    if (typeof data !== 'string' || !/^[0-9a-f]{34}$/.test(data)) {
      throw new CommandError(
        'InvalidResumeToken',
        'the resume token is not one this engine issued',
      );
    }
    if (data.slice(0, 16) !== this.runId) {
      throw new CommandError(
        'ChangeStreamHistoryLost',
        'Resume of change stream was not possible, as the resume point may no longer be in the oplog (the embedded engine keeps change history in memory: it was restarted)',
      );
    }
    return { seq: parseInt(data.slice(16, 32), 16), invalidate: data.slice(32) === '01' };
  }

  /** The sequence number after which the stream starts. */
  private startPosition(spec: Document): number {
    const given = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter(
      (option) => spec[option] !== undefined,
    );
    if (given.length > 1) {
      throw new CommandError('BadValue', `Only one of ${given.join(', ')} may be given`);
    }
    const oldest = this.history[0]?.seq ?? this.seq + 1;
    if (spec.startAtOperationTime !== undefined) {
      const time = spec.startAtOperationTime as unknown;
      if (!(time instanceof Timestamp)) {
        throw new CommandError('TypeMismatch', 'startAtOperationTime must be a timestamp');
      }
      const first = this.history.find((event) => compareTimestamps(event.clusterTime, time) >= 0);
      if (first) {
        if (first.seq === oldest && this.history.length >= this.historySize) throw historyLost();
        return first.seq - 1;
      }
      return this.seq;
    }
    const token = (spec.resumeAfter ?? spec.startAfter) as unknown;
    if (token === undefined) return this.seq;
    const { seq, invalidate } = this.parseToken(token);
    if (invalidate && spec.resumeAfter !== undefined) {
      throw new CommandError(
        'InvalidResumeToken',
        'Attempting to resume a change stream using an invalidate event; use startAfter instead',
      );
    }
    if (seq > this.seq)
      throw new CommandError('InvalidResumeToken', 'the resume token is from the future');
    if (seq < oldest - 1) throw historyLost();
    return seq;
  }

  private matches(cursor: StreamCursor, event: ChangeEvent): boolean {
    if (cursor.cluster) return true;
    if (event.db !== cursor.db) return false;
    return cursor.coll === undefined || event.coll === undefined || event.coll === cursor.coll;
  }

  /** Up to `limit` events after the cursor's position, shaped and filtered by its stages. */
  private take(
    cursor: StreamCursor,
    limit: number,
  ): Document & { firstBatch: Document[]; id: Long } {
    cursor.lastUsed = Date.now();
    const batch: Document[] = [];
    const start = this.history.findIndex((event) => event.seq > cursor.position);
    if (start >= 0) {
      for (let i = start; i < this.history.length && batch.length < limit; i++) {
        const event = this.history[i];
        cursor.position = event.seq;
        if (!this.matches(cursor, event)) continue;
        const shaped = this.applyStages(cursor, this.shape(cursor, event));
        batch.push(...shaped);
        if (this.invalidates(cursor, event)) {
          const invalidate = {
            _id: this.token(event.seq, true),
            operationType: 'invalidate',
            clusterTime: event.clusterTime,
            wallTime: event.wallTime,
          };
          batch.push(invalidate);
          cursor.invalidatedAt = event.seq;
          break;
        }
      }
    } else if (this.history.length === 0 || cursor.position < this.seq) {
      cursor.position = Math.max(cursor.position, this.seq);
    }
    const done = cursor.invalidatedAt !== undefined;
    if (done) this.cursors.delete(cursor.id.toString());
    const last = batch[batch.length - 1] as Document | undefined;
    return {
      id: done ? Long.ZERO : cursor.id,
      ns: cursor.ns,
      firstBatch: batch,
      postBatchResumeToken: last && done ? (last._id as Document) : this.token(cursor.position),
    };
  }

  private invalidates(cursor: StreamCursor, event: ChangeEvent): boolean {
    if (cursor.cluster) return false;
    if (event.operationType === 'dropDatabase') return true;
    return cursor.coll !== undefined && event.operationType === 'drop';
  }

  private shape(cursor: StreamCursor, event: ChangeEvent): Document[] {
    const out: Document = {
      _id: this.token(event.seq),
      operationType: event.operationType,
      clusterTime: event.clusterTime,
      wallTime: event.wallTime,
    };
    const fullDocument = this.fullDocumentOf(cursor, event);
    if (fullDocument !== undefined) out.fullDocument = fullDocument;
    out.ns = event.coll === undefined ? { db: event.db } : { db: event.db, coll: event.coll };
    if (event.documentKey) out.documentKey = event.documentKey;
    if (event.updateDescription) out.updateDescription = event.updateDescription;
    if (
      cursor.fullDocumentBeforeChange !== 'off' &&
      ['update', 'replace', 'delete'].includes(event.operationType)
    ) {
      out.fullDocumentBeforeChange = event.before ?? null;
    }
    const dropOfWatched =
      event.operationType === 'dropDatabase' && cursor.coll !== undefined && !cursor.cluster;
    // A collection stream sees its database dropped as the drop of its collection.
    if (dropOfWatched) {
      out.operationType = 'drop';
      out.ns = { db: event.db, coll: cursor.coll };
    }
    return [out];
  }

  private fullDocumentOf(cursor: StreamCursor, event: ChangeEvent): Document | null | undefined {
    if (event.operationType === 'insert' || event.operationType === 'replace') return event.after;
    if (event.operationType !== 'update') return undefined;
    switch (cursor.fullDocument) {
      case 'updateLookup': {
        const collection = this.storage.get(event.db, event.coll!);
        return collection?.getById(valueKey(event.documentKey!._id)) ?? null;
      }
      case 'whenAvailable':
      case 'required':
        return event.after ?? null;
      default:
        return undefined;
    }
  }

  private applyStages(cursor: StreamCursor, events: Document[]): Document[] {
    if (cursor.stages.length === 0) return events;
    try {
      return engineAggregator(cursor.stages).run(events) as Document[];
    } catch (error) {
      throw new CommandError('BadValue', (error as Error).message);
    }
  }
}

function historyLost(): CommandError {
  return new CommandError(
    'ChangeStreamHistoryLost',
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog',
  );
}

function numberOr(value: unknown, fallback: number): number {
  if (typeof value === 'number') return value;
  if (value instanceof Long) return value.toNumber();
  return fallback;
}

function toLong(value: unknown): Long {
  if (value instanceof Long) return value;
  if (typeof value === 'number' && Number.isInteger(value)) return Long.fromNumber(value);
  throw new CommandError('TypeMismatch', 'cursor id must be a 64-bit integer');
}

/**
 * The updateDescription of a change stream update event, from the document before and after:
 * changed fields by dotted path (descending into embedded documents), removed fields, and
 * arrays that only lost elements at their end as truncatedArrays, as mongod reports them.
 */
export function describeUpdate(before: Document, after: Document): Document {
  const updatedFields: Document = {};
  const removedFields: string[] = [];
  const truncatedArrays: Document[] = [];
  const walk = (a: Document, b: Document, prefix: string) => {
    for (const key of Object.keys(a)) {
      if (!(key in b)) removedFields.push(prefix + key);
    }
    for (const [key, value] of Object.entries(b)) {
      const path = prefix + key;
      if (!(key in a)) {
        updatedFields[path] = value;
        continue;
      }
      const old = a[key] as unknown;
      if (valueKey(old) === valueKey(value)) continue;
      if (isPlainObject(old) && isPlainObject(value)) {
        walk(old, value, `${path}.`);
      } else if (Array.isArray(old) && Array.isArray(value) && sharesPrefix(old, value)) {
        if (value.length < old.length) truncatedArrays.push({ field: path, newSize: value.length });
        for (let i = old.length; i < value.length; i++) updatedFields[`${path}.${i}`] = value[i];
      } else {
        updatedFields[path] = value;
      }
    }
  };
  walk(before, after, '');
  return { updatedFields, removedFields, truncatedArrays };
}

function sharesPrefix(a: unknown[], b: unknown[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (valueKey(a[i]) !== valueKey(b[i])) return false;
  return true;
}
