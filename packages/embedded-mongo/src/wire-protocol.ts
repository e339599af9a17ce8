import { deserialize, serialize, type Document } from 'bson';
import { normalizeInPlace } from './storage/bson-number';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const HEADER_SIZE = 16;
/** The smallest frame a client can legitimately send: a header and an empty BSON document. */
const MIN_MESSAGE_SIZE = HEADER_SIZE + 5;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;
const MSG_EXHAUST_ALLOWED = 1 << 16;
const MSG_KNOWN_FLAGS = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME | MSG_EXHAUST_ALLOWED;
/** Bits 0-15 are "required": a receiver must reject a message with one it does not know. */
const MSG_REQUIRED_FLAGS_MASK = 0xffff;

/**
 * Numbers are decoded as their BSON types (Int32, Double, Long, Decimal128) so the engine can
 * keep each one's type, then turned into the engine's own representation
 * (storage/bson-number.ts), where most numbers are plain JS numbers again.
 */
export const DESERIALIZE_OPTIONS = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
  bsonRegExp: false,
  validation: { utf8: true },
} as const;

/** A client sent bytes that cannot be a valid message: the connection is closed. */
export class ProtocolError extends Error {}

export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface OpMsgRequest {
  kind: 'msg';
  header: MessageHeader;
  moreToCome: boolean;
  /** The body with every document sequence folded in as an array field, as mongod reads it. */
  command: Document;
}

export interface OpQueryRequest {
  kind: 'query';
  header: MessageHeader;
  fullCollectionName: string;
  query: Document;
}

export type WireRequest = OpMsgRequest | OpQueryRequest;

/**
 * Reassembles messages from a TCP stream, which may split a message anywhere or carry several
 * in one chunk. The length prefix is checked before buffering so an oversized or nonsensical
 * length is refused without reading the rest of it.
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageSizeBytes: number) {}

  /** Returns the complete messages now available; throws ProtocolError on a bad length prefix. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    while (this.buffered >= 4) {
      const head = this.peekHead();
      const length = head.readInt32LE(0);
      if (length < MIN_MESSAGE_SIZE) {
        throw new ProtocolError(`message length ${length} is smaller than a message header`);
      }
      if (length > this.maxMessageSizeBytes) {
        throw new ProtocolError(
          `message length ${length} exceeds maxMessageSizeBytes ${this.maxMessageSizeBytes}`,
        );
      }
      if (this.buffered < length) break;
      messages.push(this.take(length));
    }
    return messages;
  }

  private peekHead(): Buffer {
    if (this.chunks[0].length >= 4) return this.chunks[0];
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const message = all.subarray(0, length);
    const rest = all.subarray(length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return message;
  }
}

function readHeader(message: Buffer): MessageHeader {
  return {
    messageLength: message.readInt32LE(0),
    requestId: message.readInt32LE(4),
    responseTo: message.readInt32LE(8),
    opCode: message.readInt32LE(12),
  };
}

/** Reads one BSON document at `offset`, checking its length against the bytes that remain. */
function readDocument(message: Buffer, offset: number, end: number): [Document, number] {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = message.readInt32LE(offset);
  if (size < 5 || offset + size > end) {
    throw new ProtocolError(`BSON document length ${size} does not fit the message`);
  }
  try {
    const document = deserialize(message.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
    normalizeInPlace(document);
    return [document, size];
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`);
  }
}

function readCString(message: Buffer, offset: number, end: number): [string, number] {
  const zero = message.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated C string');
  return [message.toString('utf8', offset, zero), zero + 1];
}

function parseOpMsg(message: Buffer, header: MessageHeader): OpMsgRequest {
  const flags = message.readUInt32LE(HEADER_SIZE);
  const unknownRequired = flags & MSG_REQUIRED_FLAGS_MASK & ~MSG_KNOWN_FLAGS;
  if (unknownRequired !== 0) {
    throw new ProtocolError(`unknown required OP_MSG flag bits 0x${unknownRequired.toString(16)}`);
  }
  const end = flags & MSG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      const [doc, size] = readDocument(message, offset, end);
      body = doc;
      offset += size;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence');
      const sectionEnd = offset + message.readInt32LE(offset);
      if (sectionEnd > end || sectionEnd < offset + 5) {
        throw new ProtocolError('document sequence length does not fit the message');
      }
      const [identifier, afterName] = readCString(message, offset + 4, sectionEnd);
      const documents: Document[] = [];
      let cursor = afterName;
      while (cursor < sectionEnd) {
        const [doc, size] = readDocument(message, cursor, sectionEnd);
        documents.push(doc);
        cursor += size;
      }
      sequences.push([identifier, documents]);
      offset = sectionEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG has no body section');
  for (const [identifier, documents] of sequences) {
    if (identifier in body) {
      throw new ProtocolError(`field '${identifier}' is both in the body and a document sequence`);
    }
    body[identifier] = documents;
  }
  return { kind: 'msg', header, moreToCome: (flags & MSG_MORE_TO_COME) !== 0, command: body };
}

function parseOpQuery(message: Buffer, header: MessageHeader): OpQueryRequest {
  // flags(4) fullCollectionName(cstring) numberToSkip(4) numberToReturn(4) query [fieldSelector]
  const [fullCollectionName, afterName] = readCString(message, HEADER_SIZE + 4, message.length);
  const [query] = readDocument(message, afterName + 8, message.length);
  return { kind: 'query', header, fullCollectionName, query };
}

export function parseMessage(message: Buffer): WireRequest {
  if (message.length < MIN_MESSAGE_SIZE) {
    throw new ProtocolError(`message of ${message.length} bytes is too short`);
  }
  const header = readHeader(message);
  if (header.messageLength !== message.length) {
    throw new ProtocolError('message length does not match its header');
  }
  try {
    switch (header.opCode) {
      case OP_MSG:
        return parseOpMsg(message, header);
      case OP_QUERY:
        return parseOpQuery(message, header);
      default:
        throw new ProtocolError(`unsupported opCode ${header.opCode}`);
    }
  } catch (error) {
    // A read past the end of a truncated section is the client's fault, not the engine's.
    if (error instanceof RangeError) throw new ProtocolError(`malformed message: ${error.message}`);
    throw error;
  }
}

function writeHeader(target: Buffer, requestId: number, responseTo: number, opCode: number) {
  target.writeInt32LE(target.length, 0);
  target.writeInt32LE(requestId, 4);
  target.writeInt32LE(responseTo, 8);
  target.writeInt32LE(opCode, 12);
}

export function encodeOpMsg(requestId: number, responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  const message = Buffer.alloc(HEADER_SIZE + 4 + 1 + body.length);
  writeHeader(message, requestId, responseTo, OP_MSG);
  message.writeUInt32LE(0, HEADER_SIZE);
  message.writeUInt8(0, HEADER_SIZE + 4);
  message.set(body, HEADER_SIZE + 5);
  return message;
}

export function encodeOpReply(requestId: number, responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  // responseFlags(4) cursorID(8) startingFrom(4) numberReturned(4) documents
  const message = Buffer.alloc(HEADER_SIZE + 20 + body.length);
  writeHeader(message, requestId, responseTo, OP_REPLY);
  message.writeInt32LE(0, HEADER_SIZE);
  message.writeBigInt64LE(0n, HEADER_SIZE + 4);
  message.writeInt32LE(0, HEADER_SIZE + 12);
  message.writeInt32LE(1, HEADER_SIZE + 16);
  message.set(body, HEADER_SIZE + 20);
  return message;
}
