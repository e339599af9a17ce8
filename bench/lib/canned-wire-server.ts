/**
 * The wire protocol's ceiling for `bench:engine`: a TCP server that frames requests exactly as
 * the engine does (its MessageFramer) and answers each one with a reply serialized once in
 * advance: the handshake for hello, a find cursor holding one document for find, `ok: 1` for
 * anything else. No parsing, no storage, no serialization per request. What a client reaches
 * against it is the most any server could give it on this machine.
 *
 *   node -r ts-node/register/transpile-only bench/lib/canned-wire-server.ts
 *
 * prints its URI alone on a line, like the engine's CLI.
 */
import { Long, type Document } from 'bson';
import { createServer, type AddressInfo } from 'node:net';
import {
  MessageFramer,
  OP_MSG,
  OP_QUERY,
  encodeOpMsg,
  encodeOpReply,
} from '../../packages/embedded-mongo/src/wire-protocol';

const HEADER = 16;

/** A document shaped like the benchmark's (bench/engine.bench.ts makeDoc). */
const DOC = {
  _id: 123456,
  key: 'user-123456',
  email: 'user-123456@example.com',
  n: 123456,
  createdAt: new Date(1_700_000_000_000),
};

const hello = (legacy: boolean): Document => ({
  ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
  helloOk: true,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: 1,
  minWireVersion: 0,
  maxWireVersion: 21,
  readOnly: false,
  ok: 1,
});

const canned = {
  helloMsg: encodeOpMsg(0, 0, hello(false)),
  helloReply: encodeOpReply(0, 0, hello(true)),
  find: encodeOpMsg(0, 0, {
    cursor: { firstBatch: [DOC], id: Long.ZERO, ns: 'bench.docs' },
    ok: 1,
  }),
  ok: encodeOpMsg(0, 0, { ok: 1 }),
  insert: encodeOpMsg(0, 0, { n: 1, ok: 1 }),
};

/** The command name: the first key of the OP_MSG body (kind-0 section right after the flags). */
function commandName(message: Buffer): string {
  const nameStart = HEADER + 4 + 1 + 4 + 1;
  const end = message.indexOf(0, nameStart);
  return message.toString('latin1', nameStart, end);
}

function answer(message: Buffer): Buffer {
  const opCode = message.readInt32LE(12);
  let template: Buffer;
  if (opCode === OP_QUERY) template = canned.helloReply;
  else if (opCode !== OP_MSG) template = canned.ok;
  else {
    const name = commandName(message);
    template =
      name === 'find'
        ? canned.find
        : name === 'hello' || name === 'isMaster' || name === 'ismaster'
          ? canned.helloMsg
          : name === 'insert'
            ? canned.insert
            : canned.ok;
  }
  const reply = Buffer.allocUnsafe(template.length);
  template.copy(reply);
  reply.writeInt32LE(message.readInt32LE(4), 8); // responseTo
  return reply;
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const framer = new MessageFramer(48_000_000);
  socket.on('data', (chunk: Buffer) => {
    for (const message of framer.push(chunk)) socket.write(answer(message));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`mongodb://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
