import {
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoUnexpectedServerResponseError,
} from 'mongodb';
import { runInNewContext } from 'node:vm';
import { toErrorBody } from './all-exceptions.filter';
import { isDatabaseUnavailable } from './database-unavailable';

// The driver does not export its pool errors; the test needs the very classes it throws.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PoolClosedError, WaitQueueTimeoutError } = require('mongodb/lib/cmap/errors') as {
  PoolClosedError: new (pool: { address: string }) => Error;
  WaitQueueTimeoutError: new (message: string, address: string) => Error;
};

describe('isDatabaseUnavailable', () => {
  // Raised while the database process dies mid-request (seen as a 500 on POST /auth/refresh
  // in the faults suite before these were classified).
  it.each([
    ['a closed server', new MongoServerClosedError()],
    ['a truncated or odd reply', new MongoUnexpectedServerResponseError('reply ended early')],
    ['a reset socket', new MongoNetworkError('read ECONNRESET')],
    ['a socket timeout', new MongoNetworkTimeoutError('timed out')],
    ['a server shutting down', new MongoServerError({ message: 'shutting down', code: 91 })],
    ['a stepped-down primary', new MongoServerError({ message: 'not primary', code: 10107 })],
    [
      // What the faults suite caught as a 500 on PATCH /sessions/current/data: Node's own
      // error for a write after the engine closed the socket, not wrapped by the driver.
      'an unwrapped socket write after the server hung up',
      Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }),
    ],
    [
      'a write after the socket ended',
      Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' }),
    ],
    [
      'a write to a destroyed socket',
      Object.assign(new Error('Cannot call write after a stream was destroyed'), {
        code: 'ERR_STREAM_DESTROYED',
      }),
    ],
    [
      // A checkout racing the pool's close while the engine is killed and restarted.
      'a checkout from a pool that closed meanwhile',
      new PoolClosedError({ address: '127.0.0.1:27017' }),
    ],
    [
      'a checkout that waited too long for a connection',
      new WaitQueueTimeoutError('Timed out while checking out a connection', '127.0.0.1:27017'),
    ],
    [
      'a server error while opening the connection',
      new MongoServerError({ message: 'not ready', code: 2, errorLabels: ['HandshakeError'] }),
    ],
    [
      'a retryable write failure',
      new MongoServerError({ message: 'x', code: 1, errorLabels: ['RetryableWriteError'] }),
    ],
  ])('answers 503 for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(toErrorBody(error)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  it('recognises a socket error made in another realm (Node core errors under a vm context, as in Jest)', () => {
    // What the faults suite logged for its rare 500 on PATCH /sessions/current/data: Node's
    // EPIPE error, which is no `instanceof Error` inside Jest's sandbox.
    const foreign = runInNewContext(
      `Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })`,
    ) as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(isDatabaseUnavailable(foreign)).toBe(true);
    expect(toErrorBody(foreign)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  it('recognises driver errors by name when another copy of the driver raised them', () => {
    const foreign = Object.assign(new Error('Server is closed'), {
      name: 'MongoServerClosedError',
    });
    expect(isDatabaseUnavailable(foreign)).toBe(true);
  });

  it.each([
    ['a programming error in a query', new MongoInvalidArgumentError('bad option')],
    ['a server-side rejection of the request', new MongoServerError({ message: 'bad', code: 2 })],
    ['a generic driver error', new MongoError('something else')],
    ['a plain error', new TypeError('x is undefined')],
    ['a non-error', 'a string'],
  ])('leaves %s alone', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
