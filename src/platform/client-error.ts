import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../common/error-codes';
import { REQUEST_ID_HEADER } from '../common/request-id';

/**
 * Answers a request Node's HTTP parser refused before any framework saw it: a request line or
 * headers over Node's 16 KB limit (a URL with a huge query), or bytes that are not HTTP. Node
 * (Express) would answer 431/400 with no body and Fastify with its own JSON shape; here both
 * answer the contract's 400 VALIDATION_FAILED (the contract has no code for 431), with a
 * request id like every other response. A parser timeout keeps Node's bodiless 408.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    return;
  }
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'The request line or headers are too large'
      : 'The request is not valid HTTP';
  const body = JSON.stringify({
    statusCode: 400,
    error: STATUS_CODES[400],
    code: ErrorCode.VALIDATION_FAILED,
    message,
  });
  socket.end(
    [
      'HTTP/1.1 400 Bad Request',
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `${REQUEST_ID_HEADER}: ${randomUUID()}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
