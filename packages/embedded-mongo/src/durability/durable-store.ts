import type { Document } from 'bson';
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineStorage } from '../storage/engine-storage';
import type { StorageChange } from '../storage/storage-events';
import { applyChange, CorruptDataError, encodeChange } from './change-codec';
import { encodeRecord, readRecordFile, writeFully } from './record-file';

/** The journal is compacted into a new snapshot once it grows past this (64 MiB). */
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;
/** mongod's journalCommitInterval: writes without j:true reach the disk within this. */
export const DEFAULT_COMMIT_INTERVAL_MS = 100;
const SNAPSHOT_BATCH = 1000;
export const LOCK_FILE = 'mongod.lock';

export interface DurableStoreOptions {
  compactBytes?: number;
  commitIntervalMs?: number;
}

export class DataDirectoryLockedError extends Error {}

/** Paths this process holds open, so a stale lock naming our own pid can be told from a live one. */
const heldHere = new Set<string>();

const fileName = (kind: 'journal' | 'snapshot', gen: number) =>
  `${kind}.${String(gen).padStart(10, '0')}`;

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock file (`mongod.lock` holding the owner's pid). A lock whose pid is
 * no longer running is stale (the owner crashed) and is taken over.
 */
function acquireLock(dir: string): string {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    const live = owner === process.pid ? heldHere.has(path) : pidAlive(owner);
    if (live) {
      throw new DataDirectoryLockedError(
        `the data directory ${dir} is in use by another engine (pid ${owner}, lock file ${path}); ` +
          'stop that process first, or delete the lock file if no engine runs there',
      );
    }
    try {
      unlinkSync(path);
    } catch {
      // Another starter removed it first; the next attempt decides.
    }
  }
  throw new DataDirectoryLockedError(`could not take the lock file ${path}`);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function generations(dir: string, kind: 'journal' | 'snapshot'): number[] {
  const pattern = new RegExp(`^${kind}\\.(\\d+)$`);
  return readdirSync(dir)
    .map((name) => pattern.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
}

interface CapturedCollection {
  info: Document;
  docs: Document[];
}

/**
 * The state to snapshot, taken at one instant. Stored documents are replaced, never changed
 * in place, so these references stay a consistent picture while later writes go on.
 */
function capture(storage: EngineStorage): CapturedCollection[] {
  return storage.allCollections().map((collection) => ({
    info: {
      db: collection.dbName,
      coll: collection.name,
      options: collection.options,
      uuid: collection.uuid,
      indexes: collection.indexes.map((index) => index.spec),
    },
    docs: [...collection.all()],
  }));
}

/** The records of a snapshot: a header, each collection with its indexes, its documents, an end mark. */
function* snapshotRecords(captured: CapturedCollection[], gen: number): Generator<Document> {
  yield { snapshot: 1, gen };
  let documents = 0;
  for (const { info, docs } of captured) {
    yield { collection: info };
    for (let i = 0; i < docs.length; i += SNAPSHOT_BATCH) {
      const batch = docs.slice(i, i + SNAPSHOT_BATCH);
      documents += batch.length;
      yield { docs: batch, db: info.db, coll: info.coll };
    }
  }
  yield { end: true, collections: captured.length, documents };
}

function loadSnapshot(storage: EngineStorage, path: string): void {
  const { records, tornBytes } = readRecordFile(path);
  const last = records[records.length - 1];
  if (tornBytes > 0 || records[0]?.snapshot !== 1 || last?.end !== true) {
    throw new CorruptDataError(
      `snapshot ${path} is damaged; it was written whole, so the disk changed it`,
    );
  }
  for (const record of records.slice(1, -1)) {
    if (record.collection) {
      const info = record.collection as Document;
      const collection = storage.create(
        info.db as string,
        info.coll as string,
        info.options as Document,
      );
      collection.uuid = info.uuid as typeof collection.uuid;
      for (const spec of info.indexes as Document[]) collection.createIndex(spec as never);
    } else if (record.docs) {
      const collection = storage.get(record.db as string, record.coll as string);
      if (!collection)
        throw new CorruptDataError(`snapshot ${path}: documents before their collection`);
      for (const doc of record.docs as Document[]) {
        collection.insert(doc, { bypassValidation: true });
      }
    }
  }
}

export interface RecoveryReport {
  snapshotGeneration: number;
  journalRecords: number;
  /** Bytes of torn or corrupt journal tail dropped (a write cut short by a crash; never acknowledged). */
  droppedTailBytes: number;
}

/**
 * Makes an EngineStorage durable in a directory: every change the storage makes is appended to
 * a journal, one record per command (so a command's writes are replayed all together or not at
 * all), and the journal is folded into a snapshot on start and whenever it grows past
 * `compactBytes`.
 *
 * The fsync rule: each record is written to the journal (write(2), into the OS page cache)
 * before the command's reply is sent, so a crash of the process (SIGKILL, an exception) loses
 * no acknowledged write. Writes with `j: true` or `w: 'majority'` also wait for fdatasync before
 * their reply (one fdatasync serves every write waiting at that moment: group commit); all
 * other writes are fdatasync'd within `commitIntervalMs` (100 ms), as mongod does, so a power
 * loss can cost at most that window of writes that did not ask for the journal.
 */
export class DurableStore {
  private pending: Document[] = [];
  private fd: number;
  private gen: number;
  private journalBytes = 0;
  private dirty = false;
  private syncing?: Promise<void>;
  private syncQueued?: Promise<void>;
  private compacting?: Promise<void>;
  private failure?: Error;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  readonly recovery: RecoveryReport;

  private constructor(
    private readonly dir: string,
    private readonly storage: EngineStorage,
    private readonly lockPath: string,
    private readonly options: Required<DurableStoreOptions>,
  ) {
    this.recovery = this.recover();
    this.gen = this.compactOnStart();
    this.fd = openSync(join(dir, fileName('journal', this.gen)), 'a');
    storage.listen((change) => this.record(change));
    this.timer = setInterval(() => {
      if (this.dirty) this.sync().catch(() => undefined);
    }, this.options.commitIntervalMs);
    this.timer.unref();
  }

  /** Locks the directory, recovers its data into `storage` and starts journaling. */
  static open(
    dir: string,
    storage: EngineStorage,
    options: DurableStoreOptions = {},
  ): DurableStore {
    mkdirSync(dir, { recursive: true });
    const lockPath = acquireLock(dir);
    try {
      return new DurableStore(dir, storage, lockPath, {
        compactBytes: options.compactBytes ?? DEFAULT_COMPACT_BYTES,
        commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      });
    } catch (error) {
      heldHere.delete(lockPath);
      unlinkSync(lockPath);
      throw error;
    }
  }

  private recover(): RecoveryReport {
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name));
    }
    const snapshots = generations(this.dir, 'snapshot');
    const snapshotGeneration = snapshots[snapshots.length - 1] ?? 0;
    if (snapshotGeneration > 0) {
      loadSnapshot(this.storage, join(this.dir, fileName('snapshot', snapshotGeneration)));
    }
    const journals = generations(this.dir, 'journal').filter((gen) => gen >= snapshotGeneration);
    let journalRecords = 0;
    let droppedTailBytes = 0;
    journals.forEach((gen, position) => {
      const path = join(this.dir, fileName('journal', gen));
      const { records, validBytes, tornBytes } = readRecordFile(path);
      if (tornBytes > 0) {
        if (position !== journals.length - 1) {
          throw new CorruptDataError(`journal ${path} is damaged before its end`);
        }
        // A record cut short by a crash: its command was never acknowledged, so it is dropped.
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, validBytes);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        droppedTailBytes = tornBytes;
      }
      for (const record of records) {
        for (const op of record.ops as Document[]) applyChange(this.storage, op);
      }
      journalRecords += records.length;
    });
    return { snapshotGeneration, journalRecords, droppedTailBytes };
  }

  /** Folds what was recovered into one fresh snapshot, unless the journal added nothing to it. */
  private compactOnStart(): number {
    const { snapshotGeneration, journalRecords } = this.recovery;
    const journals = generations(this.dir, 'journal');
    if (snapshotGeneration > 0 && journalRecords === 0) {
      for (const gen of journals) {
        if (gen > snapshotGeneration) unlinkSync(join(this.dir, fileName('journal', gen)));
      }
      return snapshotGeneration;
    }
    const gen = Math.max(snapshotGeneration, ...journals, 0) + 1;
    const tmp = join(this.dir, `${fileName('snapshot', gen)}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      for (const record of snapshotRecords(capture(this.storage), gen))
        writeFully(fd, encodeRecord(record));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, fileName('snapshot', gen)));
    writeFileSync(join(this.dir, fileName('journal', gen)), '');
    syncDirectory(this.dir);
    this.removeBefore(gen);
    return gen;
  }

  private removeBefore(gen: number): void {
    for (const kind of ['snapshot', 'journal'] as const) {
      for (const old of generations(this.dir, kind)) {
        if (old < gen) unlinkSync(join(this.dir, fileName(kind, old)));
      }
    }
  }

  private record(change: StorageChange): void {
    if (this.pending.length === 0) {
      // Changes made outside a command (the TTL monitor) are journaled when their task ends.
      queueMicrotask(() => {
        try {
          this.commit();
        } catch {
          // Recorded as this.failure; the next command reports it.
        }
      });
    }
    this.pending.push(encodeChange(change));
  }

  /** Whether changes are waiting for commit(). */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Appends the changes made since the last commit as one journal record. Called after each
   * command, before its reply. Throws when the journal cannot be written: the write is then
   * not acknowledged, and the engine refuses all further writes (its memory is ahead of disk).
   */
  commit(): void {
    if (this.failure) {
      this.pending = [];
      throw this.failure;
    }
    if (this.pending.length === 0) return;
    const record = encodeRecord({ ops: this.pending });
    this.pending = [];
    try {
      writeFully(this.fd, record);
    } catch (error) {
      this.failure = new Error(`the journal could not be written: ${(error as Error).message}`);
      throw this.failure;
    }
    this.dirty = true;
    this.journalBytes += record.length;
    if (this.journalBytes >= this.options.compactBytes && !this.compacting) {
      this.compacting = this.compact().finally(() => (this.compacting = undefined));
      this.compacting.catch(() => undefined);
    }
  }

  /** Resolves once every record committed so far is on disk (group commit: one fdatasync for all waiting). */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.dirty) return this.syncing ?? Promise.resolve();
    if (this.syncing) {
      this.syncQueued ??= this.syncing
        .catch(() => undefined)
        .then(() => {
          this.syncQueued = undefined;
          return this.sync();
        });
      return this.syncQueued;
    }
    this.dirty = false;
    const fd = this.fd;
    this.syncing = new Promise<void>((resolve, reject) => {
      fdatasync(fd, (error) => {
        this.syncing = undefined;
        if (error) {
          this.failure = new Error(`the journal could not be synced: ${error.message}`);
          reject(this.failure);
        } else resolve();
      });
    });
    return this.syncing;
  }

  /**
   * Starts a new journal generation and writes the state as of that moment into a snapshot of
   * the same generation, in the background; the older files go once the snapshot is on disk.
   * A crash before that leaves the old snapshot and both journals, which recovery replays.
   */
  private async compact(): Promise<void> {
    const gen = this.gen + 1;
    const next = openSync(join(this.dir, fileName('journal', gen)), 'a');
    syncDirectory(this.dir);
    // Records of the old journal must be on disk before newer ones depend on them.
    const old = this.fd;
    fdatasyncSync(old);
    // A group-commit fdatasync may still be running on the old descriptor: close it after.
    void (this.syncing ?? Promise.resolve()).catch(() => undefined).then(() => closeSync(old));
    this.fd = next;
    this.gen = gen;
    this.journalBytes = 0;
    const records = snapshotRecords(capture(this.storage), gen);
    const tmp = join(this.dir, `${fileName('snapshot', gen)}.tmp`);
    const file = await openAsync(tmp, 'w');
    try {
      let chunk: Buffer[] = [];
      let size = 0;
      for (const record of records) {
        const encoded = encodeRecord(record);
        chunk.push(encoded);
        size += encoded.length;
        if (size >= 1 << 20) {
          await file.write(Buffer.concat(chunk));
          chunk = [];
          size = 0;
        }
      }
      await file.write(Buffer.concat(chunk));
      await file.sync();
    } finally {
      await file.close();
    }
    if (this.closed) return;
    renameSync(tmp, join(this.dir, fileName('snapshot', gen)));
    syncDirectory(this.dir);
    this.removeBefore(gen);
  }

  /** Journals what is pending, syncs, and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      if (!this.failure) this.commit();
      await this.compacting?.catch(() => undefined);
      if (!this.failure) {
        this.dirty = true;
        await this.sync();
      }
    } finally {
      this.closed = true;
      closeSync(this.fd);
      heldHere.delete(this.lockPath);
      unlinkSync(this.lockPath);
    }
  }
}
