import type { Document } from 'bson';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ScramServer, type EngineCredentials } from './auth/scram-sha-256';
import { ChangeStreams } from './change-streams/change-streams';
import { CommandDispatcher } from './command-dispatcher';
import { CommandError } from './command-error';
import { CommandRunner } from './command-runner';
import { DurableStore } from './durability/durable-store';
import { MAX_MESSAGE_SIZE_BYTES } from './commands/handshake.commands';
import { CursorRegistry } from './cursor-registry';
import type { ServerStats } from './server-stats';
import { EngineStorage } from './storage/engine-storage';
import { DEFAULT_TTL_MONITOR_INTERVAL_MS, startTtlMonitor } from './ttl-monitor';
import {
  encodeOpMsg,
  encodeOpReply,
  MessageFramer,
  parseMessage,
  ProtocolError,
  type WireRequest,
} from './wire-protocol';

export interface EmbeddedMongoLogger {
  warn(message: string): void;
}

export interface EmbeddedMongoOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** How often expired TTL documents are deleted; mongod's default is 60 s. */
  ttlMonitorIntervalMs?: number;
  /** Receives the start-up notice and the reasons connections are closed; console by default. */
  logger?: EmbeddedMongoLogger;
  /**
   * Directory that makes the data durable (journal + snapshots, see the README); without it
   * data lives in memory only. One engine at a time may use a directory (lock file).
   */
  dataDir?: string;
  /** Journal size that triggers a new snapshot; 64 MiB by default. */
  journalCompactBytes?: number;
  /** Report as a one-member replica set of this name, which enables change streams. */
  replicaSet?: string;
  /**
   * Require SCRAM-SHA-256 authentication as this user (any database as authSource). Needed to
   * listen on a non-loopback address.
   */
  auth?: EngineCredentials;
  /**
   * Called with every command the engine receives (document sequences already folded in),
   * before it runs: for tests that check which queries an app sends. Must not throw or modify it.
   */
  onCommand?: (command: Document, dbName: string) => void;
}

export interface EmbeddedMongo {
  /** `mongodb://host:port`, without a database name. */
  uri: string;
  port: number;
  /** The replica set name when started with `replicaSet`. */
  replicaSet?: string;
  /** The directory the data is kept in, when durable. */
  dataDir?: string;
  stop(): Promise<void>;
}

export const IN_MEMORY_NOTICE =
  'data is kept in memory only and is lost when the process exits; this is not a production database';

const CURSOR_REAP_INTERVAL_MS = 60_000;

const consoleLogger: EmbeddedMongoLogger = { warn: (message) => console.warn(message) };

/** One client connection: frames its byte stream and answers each request in order. */
class Connection {
  private readonly framer = new MessageFramer(MAX_MESSAGE_SIZE_BYTES);
  private closed = false;
  private waiting?: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly id: number,
    private readonly runner: CommandRunner,
    private readonly stats: ServerStats,
    private readonly logger: EmbeddedMongoLogger,
    private readonly nextRequestId: () => number,
  ) {
    socket.setNoDelay(true);
    socket.on('close', () => runner.connectionClosed(id));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A client that vanishes mid-request is routine; the socket is simply gone.
    socket.on('error', () => socket.destroy());
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.stats.network.bytesIn += chunk.length;
    try {
      for (const message of this.framer.push(chunk)) {
        if (this.closed) return;
        this.answer(parseMessage(message));
      }
    } catch (error) {
      const reason =
        error instanceof ProtocolError ? error.message : `internal error: ${String(error)}`;
      this.close(reason);
    }
  }

  private write(reply: Buffer): void {
    this.stats.network.bytesOut += reply.length;
    this.socket.write(reply);
  }

  private answer(request: WireRequest): void {
    this.stats.network.numRequests++;
    const responseTo = request.header.requestId;
    if (request.kind === 'query') {
      const [dbName] = request.fullCollectionName.split('.');
      // Legacy clients may wrap the command as `{ $query: command, $readPreference }`.
      const query = request.query;
      const command = (query.$query as Document | undefined) ?? query;
      this.send(encodeOpReply, responseTo, this.runner.run(command, dbName, this.id));
      return;
    }
    const dbName = request.command.$db as unknown;
    const reply =
      typeof dbName === 'string'
        ? this.runner.run(request.command, dbName, this.id)
        : new CommandError('Location40571', 'OP_MSG requests require a $db argument').toReply();
    // moreToCome: the client does not read a reply (fire-and-forget writes).
    if (!request.moreToCome) this.send(encodeOpMsg, responseTo, reply);
  }

  /** Replies leave in request order, also when one of them waits (journal sync, change stream). */
  private send(
    encode: (requestId: number, responseTo: number, reply: Document) => Buffer,
    responseTo: number,
    reply: Document | Promise<Document>,
  ): void {
    if (!this.waiting && !(reply instanceof Promise)) {
      this.write(encodeReply(encode, this.nextRequestId(), responseTo, reply));
      return;
    }
    const sent = (this.waiting ?? Promise.resolve())
      .then(() => reply)
      .then((ready) => {
        if (!this.closed && !this.socket.destroyed) {
          this.write(encodeReply(encode, this.nextRequestId(), responseTo, ready));
        }
      });
    this.waiting = sent;
    void sent.finally(() => {
      if (this.waiting === sent) this.waiting = undefined;
    });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.logger.warn(
      `[embedded-mongo] closing connection ${this.id} from ${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}: ${reason}`,
    );
    this.socket.destroy();
  }
}

/**
 * A reply that cannot be encoded (an aggregation result larger than a BSON document can be)
 * is answered with mongod's error for it instead of dropping the connection.
 */
function encodeReply(
  encode: (requestId: number, responseTo: number, reply: Document) => Buffer,
  requestId: number,
  responseTo: number,
  reply: Document,
): Buffer {
  try {
    return encode(requestId, responseTo, reply);
  } catch (error) {
    const failure = new CommandError(
      'BSONObjectTooLarge',
      `reply could not be encoded: ${(error as Error).message}`,
    );
    return encode(requestId, responseTo, failure.toReply());
  }
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(bare) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(bare)
  );
}

/**
 * Without credentials anyone who can reach the port can read and change every document, so an
 * engine without `auth` listens on loopback addresses only.
 */
export function checkBindAddress(host: string, authenticated = false): void {
  if (!authenticated && !isLoopbackHost(host)) {
    throw new Error(
      `refusing to listen on ${host} without authentication: without the auth option (CLI: --auth) ` +
        'the embedded engine only binds to loopback addresses (127.0.0.1, ::1, localhost)',
    );
  }
}

/** Starts the engine on 127.0.0.1 and resolves once it accepts connections. */
export async function startEmbeddedMongo(
  options: EmbeddedMongoOptions = {},
): Promise<EmbeddedMongo> {
  const logger = options.logger ?? consoleLogger;
  const host = options.host ?? '127.0.0.1';
  checkBindAddress(host, options.auth !== undefined);
  const scram = options.auth ? new ScramServer(options.auth) : undefined;
  const storage = new EngineStorage();
  const cursors = new CursorRegistry();
  const dispatcher = new CommandDispatcher(storage, cursors);
  // Recovery runs before any listener exists, so replayed changes are not journaled again.
  const store = options.dataDir
    ? DurableStore.open(options.dataDir, storage, { compactBytes: options.journalCompactBytes })
    : undefined;
  const changeStreams = options.replicaSet ? new ChangeStreams(storage) : undefined;
  const sockets = new Set<Socket>();
  let connectionCount = 0;
  let requestCount = 0;
  const nextRequestId = () => (requestCount = (requestCount + 1) & 0x7fffffff);

  // The member's own address is known once the port is bound, before any client connects.
  const replicaSet = options.replicaSet ? { name: options.replicaSet, me: '' } : undefined;
  const runner = new CommandRunner(
    dispatcher,
    store,
    changeStreams,
    replicaSet,
    scram,
    options.onCommand,
  );
  const { stats } = dispatcher;
  stats.persistent = store !== undefined;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    stats.connections.current++;
    stats.connections.totalCreated++;
    socket.on('close', () => {
      sockets.delete(socket);
      stats.connections.current--;
    });
    new Connection(socket, ++connectionCount, runner, stats, logger, nextRequestId);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store?.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const me = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (replicaSet) replicaSet.me = me;
  // Errors after start (e.g. EMFILE on accept) must not crash the host process.
  server.on('error', (error) => logger.warn(`[embedded-mongo] server error: ${error.message}`));

  const stopTtlMonitor = startTtlMonitor(
    storage,
    options.ttlMonitorIntervalMs ?? DEFAULT_TTL_MONITOR_INTERVAL_MS,
  );
  const reaper = setInterval(() => {
    cursors.reapIdle();
    changeStreams?.reapIdle();
  }, CURSOR_REAP_INTERVAL_MS);
  reaper.unref();

  const uri = `mongodb://${me}`;
  if (store) {
    const { journalRecords, droppedTailBytes } = store.recovery;
    logger.warn(
      `[embedded-mongo] listening on ${uri}: data kept in ${options.dataDir} (recovered ${journalRecords} journal records` +
        `${droppedTailBytes > 0 ? `, dropped a torn tail of ${droppedTailBytes} bytes left by a crash` : ''})`,
    );
  } else {
    logger.warn(`[embedded-mongo] listening on ${uri}: ${IN_MEMORY_NOTICE}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      stopTtlMonitor();
      clearInterval(reaper);
      cursors.clear();
      changeStreams?.clear();
      server.close(() => {
        // Every acknowledged write is already journaled; close() syncs and frees the lock.
        void (store?.close() ?? Promise.resolve()).then(resolve, (error: Error) => {
          logger.warn(`[embedded-mongo] closing the data directory failed: ${error.message}`);
          resolve();
        });
      });
      for (const socket of sockets) socket.destroy();
    });
    return stopping;
  };
  return {
    uri,
    port,
    replicaSet: options.replicaSet,
    dataDir: options.dataDir,
    stop,
  };
}
