import { deserialize, serialize, type Document } from 'bson';
import { connect, type Socket } from 'node:net';

/** Host and port of a mongodb:// URI, for tests that speak the wire protocol directly. */
export function hostAndPort(uri: string): { host: string; port: number } {
  const url = new URL(uri);
  return { host: url.hostname, port: Number(url.port || 27017) };
}

let nextRequestId = 1;

export function frame(opCode: number, payload: Buffer, requestId = nextRequestId++): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + payload.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, payload]);
}

export function opMsg(command: Document, flags = 0): Buffer {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags, 0);
  return frame(2013, Buffer.concat([flagBytes, Buffer.from([0]), serialize(command)]));
}

export function opQuery(fullCollectionName: string, query: Document): Buffer {
  const skipAndReturn = Buffer.alloc(8);
  skipAndReturn.writeInt32LE(-1, 4);
  return frame(
    2004,
    Buffer.concat([
      Buffer.alloc(4),
      Buffer.from(`${fullCollectionName}\0`),
      skipAndReturn,
      serialize(query),
    ]),
  );
}

/** The request id of a frame built here, to match against a reply's `responseTo`. */
export function requestIdOf(message: Buffer): number {
  return message.readInt32LE(4);
}

export interface RawReply {
  opCode: number;
  responseTo: number;
  document: Document;
}

/** A bare TCP client that collects every reply the server sends and notices when it closes. */
export class RawClient {
  readonly replies: RawReply[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= this.buffered.readInt32LE(0)) {
        const length = this.buffered.readInt32LE(0);
        this.replies.push(parseReply(this.buffered.subarray(0, length)));
        this.buffered = this.buffered.subarray(length);
      }
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static async connect(uri: string): Promise<RawClient> {
    const { host, port } = hostAndPort(uri);
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves when `count` replies have arrived, or rejects if the connection closes first. */
  async waitForReplies(count: number, timeoutMs = 5000): Promise<RawReply[]> {
    await this.waitUntil(() => this.replies.length >= count || this.closed, timeoutMs);
    if (this.replies.length < count) throw new Error('connection closed before the reply');
    return this.replies.slice(0, count);
  }

  async waitForClose(timeoutMs = 5000): Promise<void> {
    await this.waitUntil(() => this.closed, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for the server');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

function parseReply(message: Buffer): RawReply {
  const opCode = message.readInt32LE(12);
  const responseTo = message.readInt32LE(8);
  // OP_REPLY: flags(4) cursorId(8) startingFrom(4) numberReturned(4); OP_MSG: flags(4) kind(1)
  const bodyOffset = opCode === 1 ? 36 : 21;
  // Longs stay Longs so tests can check the types the server put on the wire.
  return {
    opCode,
    responseTo,
    document: deserialize(message.subarray(bodyOffset), { promoteLongs: false }),
  };
}
