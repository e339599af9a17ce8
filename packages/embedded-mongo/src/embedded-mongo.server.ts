import type { Document } from 'bson';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CommandDispatcher } from './command-dispatcher';
import { CommandError } from './command-error';
import { MAX_MESSAGE_SIZE_BYTES } from './commands/handshake.commands';
import { CursorRegistry } from './cursor-registry';
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
}

export interface EmbeddedMongo {
  /** `mongodb://host:port`, without a database name. */
  uri: string;
  port: number;
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

  constructor(
    private readonly socket: Socket,
    private readonly id: number,
    private readonly dispatcher: CommandDispatcher,
    private readonly logger: EmbeddedMongoLogger,
    private readonly nextRequestId: () => number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A client that vanishes mid-request is routine; the socket is simply gone.
    socket.on('error', () => socket.destroy());
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.dispatcher.stats.network.bytesIn += chunk.length;
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
    this.dispatcher.stats.network.bytesOut += reply.length;
    this.socket.write(reply);
  }

  private answer(request: WireRequest): void {
    this.dispatcher.stats.network.numRequests++;
    const responseTo = request.header.requestId;
    if (request.kind === 'query') {
      const [dbName] = request.fullCollectionName.split('.');
      // Legacy clients may wrap the command as `{ $query: command, $readPreference }`.
      const query = request.query;
      const command = (query.$query as Document | undefined) ?? query;
      const reply = this.dispatcher.execute(command, dbName, this.id);
      this.write(encodeReply(encodeOpReply, this.nextRequestId(), responseTo, reply));
      return;
    }
    const dbName = request.command.$db as unknown;
    const reply =
      typeof dbName === 'string'
        ? this.dispatcher.execute(request.command, dbName, this.id)
        : new CommandError('Location40571', 'OP_MSG requests require a $db argument').toReply();
    // moreToCome: the client does not read a reply (fire-and-forget writes).
    if (!request.moreToCome) {
      this.write(encodeReply(encodeOpMsg, this.nextRequestId(), responseTo, reply));
    }
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

/** Starts the engine on 127.0.0.1 and resolves once it accepts connections. */
export async function startEmbeddedMongo(
  options: EmbeddedMongoOptions = {},
): Promise<EmbeddedMongo> {
  const logger = options.logger ?? consoleLogger;
  const host = options.host ?? '127.0.0.1';
  const storage = new EngineStorage();
  const cursors = new CursorRegistry();
  const dispatcher = new CommandDispatcher(storage, cursors);
  const sockets = new Set<Socket>();
  let connectionCount = 0;
  let requestCount = 0;
  const nextRequestId = () => (requestCount = (requestCount + 1) & 0x7fffffff);

  const { stats } = dispatcher;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    stats.connections.current++;
    stats.connections.totalCreated++;
    socket.on('close', () => {
      sockets.delete(socket);
      stats.connections.current--;
    });
    new Connection(socket, ++connectionCount, dispatcher, logger, nextRequestId);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after start (e.g. EMFILE on accept) must not crash the host process.
  server.on('error', (error) => logger.warn(`[embedded-mongo] server error: ${error.message}`));

  const stopTtlMonitor = startTtlMonitor(
    storage,
    options.ttlMonitorIntervalMs ?? DEFAULT_TTL_MONITOR_INTERVAL_MS,
  );
  const reaper = setInterval(() => cursors.reapIdle(), CURSOR_REAP_INTERVAL_MS);
  reaper.unref();

  const { port } = server.address() as AddressInfo;
  const uri = `mongodb://${host}:${port}`;
  logger.warn(`[embedded-mongo] listening on ${uri}: ${IN_MEMORY_NOTICE}`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      stopTtlMonitor();
      clearInterval(reaper);
      cursors.clear();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return stopping;
  };
  return { uri, port, stop };
}
