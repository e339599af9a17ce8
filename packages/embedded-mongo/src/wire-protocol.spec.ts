import fc from 'fast-check';
import { serialize } from 'bson';
import {
  encodeOpMsg,
  MessageFramer,
  OP_MSG,
  OP_QUERY,
  parseMessage,
  ProtocolError,
} from './wire-protocol';

function header(length: number, opCode: number, requestId = 7): Buffer {
  const buffer = Buffer.alloc(16);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(requestId, 4);
  buffer.writeInt32LE(0, 8);
  buffer.writeInt32LE(opCode, 12);
  return buffer;
}

function opMsg(sections: Buffer[], flags = 0): Buffer {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0, 0);
  const payload = Buffer.concat([flagBytes, ...sections]);
  return Buffer.concat([header(16 + payload.length, OP_MSG), payload]);
}

function bodySection(doc: object): Buffer {
  return Buffer.concat([Buffer.from([0]), serialize(doc)]);
}

function sequenceSection(identifier: string, docs: object[]): Buffer {
  const name = Buffer.from(`${identifier}\0`);
  const body = Buffer.concat(docs.map((doc) => serialize(doc)));
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + name.length + body.length, 0);
  return Buffer.concat([Buffer.from([1]), size, name, body]);
}

describe('MessageFramer', () => {
  const message = opMsg([bodySection({ ping: 1, $db: 'admin' })]);

  it('returns a message split at every byte only once it is complete', () => {
    const framer = new MessageFramer(1024);
    const out: Buffer[] = [];
    for (let i = 0; i < message.length; i++) out.push(...framer.push(message.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(out[0].equals(message)).toBe(true);
  });

  it('splits several messages arriving in one chunk, keeping the partial tail', () => {
    const framer = new MessageFramer(1024);
    const chunk = Buffer.concat([message, message, message.subarray(0, 10)]);
    expect(framer.push(chunk)).toHaveLength(2);
    expect(framer.push(message.subarray(10))).toHaveLength(1);
  });

  it('refuses a length above the limit before the body arrives', () => {
    const framer = new MessageFramer(100);
    expect(() => framer.push(header(101, OP_MSG))).toThrow(ProtocolError);
  });

  it('refuses a length too small to hold a header', () => {
    expect(() => new MessageFramer(100).push(header(8, OP_MSG))).toThrow(ProtocolError);
  });
});

describe('parseMessage', () => {
  it('folds document sequences into the command body', () => {
    const request = parseMessage(
      opMsg([
        bodySection({ insert: 'c', $db: 'd' }),
        sequenceSection('documents', [{ a: 1 }, { a: 2 }]),
      ]),
    );
    expect(request.kind).toBe('msg');
    expect(request.kind === 'msg' && request.command).toEqual({
      insert: 'c',
      $db: 'd',
      documents: [{ a: 1 }, { a: 2 }],
    });
  });

  it('reads the moreToCome flag', () => {
    const request = parseMessage(opMsg([bodySection({ ping: 1 })], 1 << 1));
    expect(request.kind === 'msg' && request.moreToCome).toBe(true);
  });

  it('ignores a trailing checksum when the checksum flag is set', () => {
    const withChecksum = opMsg([bodySection({ ping: 1 }), Buffer.alloc(4)], 1);
    const request = parseMessage(withChecksum);
    expect(request.kind === 'msg' && request.command).toEqual({ ping: 1 });
  });

  it('rejects unknown required flag bits', () => {
    expect(() => parseMessage(opMsg([bodySection({ ping: 1 })], 1 << 5))).toThrow(ProtocolError);
  });

  it('rejects a message without a body section', () => {
    expect(() => parseMessage(opMsg([sequenceSection('documents', [{ a: 1 }])]))).toThrow(
      ProtocolError,
    );
  });

  it('rejects a BSON document whose length runs past the message', () => {
    const doc = Buffer.from(serialize({ ping: 1 }));
    doc.writeInt32LE(doc.length + 50, 0);
    expect(() => parseMessage(opMsg([Buffer.concat([Buffer.from([0]), doc])]))).toThrow(
      ProtocolError,
    );
  });

  it('rejects invalid BSON', () => {
    const doc = Buffer.from(serialize({ s: 'abc' }));
    doc[4] = 0x7e; // an element type that does not exist
    expect(() => parseMessage(opMsg([Buffer.concat([Buffer.from([0]), doc])]))).toThrow(
      ProtocolError,
    );
  });

  it('parses a legacy OP_QUERY command', () => {
    const name = Buffer.from('admin.$cmd\0');
    const payload = Buffer.concat([
      Buffer.alloc(4),
      name,
      Buffer.alloc(8),
      serialize({ isMaster: 1, helloOk: true }),
    ]);
    const request = parseMessage(Buffer.concat([header(16 + payload.length, OP_QUERY), payload]));
    expect(request).toMatchObject({
      kind: 'query',
      fullCollectionName: 'admin.$cmd',
      query: { isMaster: 1, helloOk: true },
    });
  });

  it('rejects an unsupported opCode', () => {
    const payload = serialize({});
    const message = Buffer.concat([header(16 + payload.length, 2012), payload]);
    expect(() => parseMessage(message)).toThrow(ProtocolError);
  });

  it('round-trips an encoded OP_MSG reply', () => {
    const reply = encodeOpMsg(5, 7, { ok: 1 });
    expect(reply.readInt32LE(0)).toBe(reply.length);
    expect(reply.readInt32LE(8)).toBe(7);
    const parsed = parseMessage(reply);
    expect(parsed.kind === 'msg' && parsed.command).toEqual({ ok: 1 });
  });
});

describe('wire protocol under arbitrary input', () => {
  it('parses any bytes into a request or a ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 200 }), fc.boolean(), (bytes, msg) => {
        const message = Buffer.from(bytes);
        message.writeInt32LE(message.length, 0);
        message.writeInt32LE(msg ? OP_MSG : OP_QUERY, 12);
        try {
          parseMessage(message);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('turns any corruption of a valid message into a request or a ProtocolError', () => {
    const valid = opMsg([
      bodySection({ insert: 'c', ordered: false, $db: 'd' }),
      sequenceSection('documents', [{ a: 1, s: 'text', n: [1, 2, { x: null }] }, { b: true }]),
    ]);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 4, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (edits) => {
          const message = Buffer.from(valid);
          for (const [position, value] of edits) message[position] = value;
          try {
            parseMessage(message);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('frames a stream cut at arbitrary points into the messages that were sent', () => {
    const messages = [
      opMsg([bodySection({ ping: 1, $db: 'admin' })]),
      opMsg([bodySection({ insert: 'c', $db: 'd' }), sequenceSection('documents', [{ a: 1 }])]),
      opMsg([bodySection({ find: 'c', filter: { s: 'x'.repeat(300) }, $db: 'd' })]),
    ];
    const stream = Buffer.concat(messages);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 })), (cuts) => {
        const framer = new MessageFramer(1024 * 1024);
        const points = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
        const out: Buffer[] = [];
        for (let i = 1; i < points.length; i++) {
          out.push(...framer.push(stream.subarray(points[i - 1], points[i])));
        }
        expect(out.map((m) => m.toString('hex'))).toEqual(messages.map((m) => m.toString('hex')));
      }),
      { numRuns: 300 },
    );
  });
});
