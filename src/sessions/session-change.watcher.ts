import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection, mongo } from 'mongoose';

// The driver's types as Mongoose exports them: the package has no `mongodb` dependency of its
// own (test/library-surface.spec.ts).
type Document = mongo.Document;
type ChangeStreamOptions = mongo.ChangeStreamOptions;
type ResumeToken = mongo.ResumeToken;
type ChangeStreamDocument<T extends Document> = mongo.ChangeStreamDocument<T>;
type ChangeStream<T extends Document, C extends Document> = mongo.ChangeStream<T, C>;
import { UsersService } from '../users/users.service';
import { SessionCache } from './session-cache';
import { SESSION_SETTINGS, SessionSettings } from './session-module.options';
import { SessionStore } from './session.store';

/** mongod's answer to `$changeStream` on a standalone server. */
const CHANGE_STREAMS_UNSUPPORTED = 40573;
/** The resume token is older than the server's history (or from before a restart). */
const CHANGE_STREAM_HISTORY_LOST = 286;

/** How long one getMore waits for an event; also the longest a shutdown waits for it. */
const MAX_AWAIT_MS = 1000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;

/**
 * Session fields a cached session does not depend on: an update that changes only these (a
 * lastSeenAt touch, a data write) leaves the cache alone. Anything else drops the session.
 */
const UNCACHED_SESSION_FIELDS = new Set(['lastSeenAt', 'lastSeenIp', 'data', 'updatedAt']);

/** Events after which the stream's namespace is gone or renamed: drop everything, start over. */
const NAMESPACE_EVENTS = new Set(['drop', 'dropDatabase', 'rename', 'invalidate']);

export type WatchState =
  /** `cache.watch: false`. */
  | 'off'
  | 'starting'
  /** Following changes: other instances' revocations reach this cache at once. */
  | 'watching'
  /** The database has no change streams (a standalone server): the cache lifetime bounds revocation. */
  | 'unavailable'
  /** The stream failed and is being reopened; meanwhile the cache lifetime bounds revocation. */
  | 'retrying'
  | 'stopped';

export interface FeedSpec {
  /** What the stream follows, for log lines. */
  name: string;
  open(options: ChangeStreamOptions): ChangeStream<Document, ChangeStreamDocument<Document>>;
  /** Drops what the change makes stale. */
  apply(change: ChangeStreamDocument<Document>): void;
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/**
 * A change stream kept open for the life of the app: resumed from its last token after a
 * failure; when that history is gone (ChangeStreamHistoryLost), or the stream had not started,
 * it starts afresh and drops the whole cache, since changes may have been missed.
 */
export class ChangeFeed {
  state: WatchState = 'starting';
  private resumeToken?: ResumeToken;
  private stream?: ChangeStream<Document, ChangeStreamDocument<Document>>;
  private stopping = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private settleStart!: (state: WatchState) => void;
  /** Resolves once the stream is open, known unavailable, or failed its first attempt. */
  readonly started = new Promise<WatchState>((resolve) => (this.settleStart = resolve));

  constructor(
    private readonly spec: FeedSpec,
    private readonly cache: SessionCache,
    private readonly logger: Logger,
  ) {}

  start(): Promise<WatchState> {
    this.loop = this.run();
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.stream?.close().catch(() => undefined);
    await this.loop;
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!this.stopping) {
      const fresh = this.resumeToken === undefined;
      const stream = this.spec.open({
        maxAwaitTimeMS: MAX_AWAIT_MS,
        ...(fresh ? {} : { resumeAfter: this.resumeToken }),
      });
      this.stream = stream;
      try {
        // The first call runs the aggregate that opens the stream on the server.
        let change = await stream.tryNext();
        // What was cached before the stream opened may predate changes it will never report.
        if (fresh) this.cache.dropAllChanged();
        if (this.state === 'retrying') {
          this.logger.log(`Change stream on ${this.spec.name} reopened`);
        }
        this.state = 'watching';
        this.settleStart('watching');
        delay = RETRY_MIN_MS;
        for (;;) {
          if (change) {
            if (NAMESPACE_EVENTS.has(change.operationType)) {
              this.cache.dropAllChanged();
              this.resumeToken = undefined;
              break;
            }
            this.spec.apply(change);
          }
          this.resumeToken = stream.resumeToken ?? this.resumeToken;
          if (this.stopping) break;
          change = await stream.tryNext();
        }
      } catch (error) {
        if (this.stopping) break;
        const code = codeOf(error);
        if (code === CHANGE_STREAMS_UNSUPPORTED) {
          this.state = 'unavailable';
          this.settleStart('unavailable');
          return;
        }
        if (code === CHANGE_STREAM_HISTORY_LOST) {
          this.logger.warn(
            `Change stream on ${this.spec.name} lost its place (${(error as Error).message}): ` +
              'starting afresh and dropping every cached session',
          );
          this.resumeToken = undefined;
          this.cache.dropAllChanged();
          continue;
        }
        this.state = 'retrying';
        this.settleStart('retrying');
        this.logger.warn(
          `Change stream on ${this.spec.name} failed (${(error as Error).message}); ` +
            `retrying in ${delay} ms, meanwhile the session cache lifetime bounds revocation`,
        );
        await this.sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      } finally {
        await stream.close().catch(() => undefined);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Keeps this instance's session cache in step with the database where it can: every instance
 * follows the sessions and users collections through one change stream and drops a cached
 * session as soon as any instance ends, expires, invalidates, supersedes, relabels or regroups
 * it, or changes or removes its user. Without change streams (a standalone server) it says so
 * once and the cache lifetime (`cache.ttlMs`) bounds how long a revoked session may still be
 * honoured here; `cache.watch` chooses (see SessionModuleOptions). Only standard driver calls
 * (`Db.watch`), so it works unchanged on a MongoDB replica set or sharded cluster.
 *
 * One stream on the database, filtered to the two collections on the server, rather than one
 * per collection: one cursor and one resume token per instance, and the two collections'
 * changes arrive in the order they were written.
 */
@Injectable()
export class SessionChangeWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionChangeWatcher.name);
  private feed?: ChangeFeed;
  private unavailable = false;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly store: SessionStore,
    private readonly users: UsersService,
    private readonly cache: SessionCache,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  /** Where the watch stands (`watching`: other instances' revocations reach this cache at once). */
  get state(): WatchState {
    if (this.settings.cache.watch === false) return 'off';
    if (this.unavailable) return 'unavailable';
    return this.feed?.state ?? 'starting';
  }

  /** Opens the stream before the app serves, so that a listening instance is already watching. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.settings.cache.watch === false) return;
    const sessions = this.store.collectionName;
    const users = this.users.collectionName;
    this.feed = new ChangeFeed(
      {
        name: `${sessions} and ${users}`,
        open: (options) =>
          this.connection.db!.watch(
            [
              {
                $match: {
                  $or: [
                    // A new session or user is in nobody's cache.
                    { 'ns.coll': { $in: [sessions, users] }, operationType: { $ne: 'insert' } },
                    // These carry no collection name; the stream ends after them.
                    { operationType: { $in: ['dropDatabase', 'invalidate'] } },
                  ],
                },
              },
            ],
            options,
          ),
        apply: (change) => {
          if (!('ns' in change) || !('documentKey' in change)) return;
          if (change.ns.coll === sessions) this.applySessionChange(change);
          else this.cache.dropChangedUser(String(change.documentKey._id));
        },
      },
      this.cache,
      this.logger,
    );
    const state = await this.feed.start();
    if (state === 'unavailable') {
      const why =
        'the database does not support change streams (a standalone server; a replica set, ' +
        'even of one member, has them)';
      this.unavailable = true;
      if (this.settings.cache.watch === true) {
        throw new Error(`SessionModule cache.watch is true, but ${why}`);
      }
      this.logger.warn(
        `Session revocation by other instances reaches this one within the cache lifetime ` +
          `(${this.settings.cache.ttlMs} ms): ${why}`,
      );
    } else if (state === 'watching') {
      this.logger.log(
        `Watching ${sessions} and ${users} for changes: revocation by any instance reaches this cache at once`,
      );
    }
  }

  /** Before the connection closes (Mongoose closes it in its shutdown hook, after this). */
  async onModuleDestroy(): Promise<void> {
    await this.feed?.stop();
  }

  private applySessionChange(change: ChangeStreamDocument<Document> & { documentKey: Document }) {
    if (change.operationType === 'update') {
      const d = change.updateDescription;
      const fields = [
        ...Object.keys(d.updatedFields ?? {}),
        ...(d.removedFields ?? []),
        ...(d.truncatedArrays ?? []).map((t) => t.field),
      ];
      if (fields.every((f) => UNCACHED_SESSION_FIELDS.has(f.split('.')[0]))) return;
    }
    this.cache.dropChanged(String(change.documentKey._id));
  }
}
