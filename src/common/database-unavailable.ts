import { mongo } from 'mongoose';

// The driver classes of the copy Mongoose itself loads (`instanceof` needs that very copy), so
// the library needs no `mongodb` dependency of its own next to the host's Mongoose.
const {
  MongoAPIError,
  MongoClientClosedError,
  MongoDriverError,
  MongoError,
  MongoErrorLabel,
  MongoExpiredSessionError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerClosedError,
  MongoServerError,
  MongoStalePrimaryError,
  MongoSystemError,
  MongoTopologyClosedError,
  MongoUnexpectedServerResponseError,
} = mongo;

// Driver errors that say "the server could not be reached or went away", not "this request is
// wrong". Network errors (incl. timeouts and cleared pools) and server selection (a
// MongoSystemError) are families; the rest are the API errors a closing client raises.
const TRANSIENT_DRIVER_ERRORS = [
  MongoNetworkError,
  MongoSystemError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoServerClosedError,
  MongoClientClosedError,
  MongoExpiredSessionError,
  MongoUnexpectedServerResponseError,
  MongoOperationTimeoutError,
  MongoStalePrimaryError,
];

// Server-reported codes of the same kind: shutting down, stepping down, unreachable peers.
const TRANSIENT_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const TRANSIENT_LABELS = [
  // Anything that failed while opening a connection (the handshake) never reached the request.
  MongoErrorLabel.HandshakeError,
  MongoErrorLabel.SystemOverloadedError,
  MongoErrorLabel.RetryableWriteError,
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.ResetPool,
  MongoErrorLabel.InterruptInUseConnections,
];

// By name too: an app embedding SessionModule may load its own copy of the driver (so
// `instanceof` fails), and Mongoose wraps server selection in its own class.
const TRANSIENT_NAMES = new Set([
  ...TRANSIENT_DRIVER_ERRORS.map((type) => type.name),
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
]);

// Socket errors the driver sometimes lets through unwrapped, e.g. Node's "This socket has been
// ended by the other party" (EPIPE) when a write races the server closing the connection. The
// database is the only outbound connection a request makes (peer calls catch their own).
const SOCKET_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  // The same race seen from Node's stream layer: the socket ended or was destroyed before the
  // write that the driver awaits (it waits for 'drain' and rethrows the socket's error as is).
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
]);

const TRANSIENT_MESSAGES =
  /buffering timed out|connection .* closed|not connected|before initial connection is complete/i;

/** True when an error means the database is unreachable right now (answer 503, not 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: an error made in another realm fails it. Node's own socket errors
  // are such errors wherever the app runs in a vm context (Jest does this), and they are the
  // very ones to catch here ("This socket has been ended by the other party", EPIPE).
  if (typeof error !== 'object' || error === null) return false;
  if (TRANSIENT_DRIVER_ERRORS.some((type) => error instanceof type)) return true;
  // The driver's own runtime failures (a pool closed under a checkout, a wait-queue timeout, a
  // reply it could not decompress...) say nothing about the request either. The driver errors
  // that do are the API ones (a bad option or argument: our bug, a 500) and connection-string
  // parsing, which only happens at start-up.
  if (
    error instanceof MongoDriverError &&
    !(error instanceof MongoAPIError) &&
    !(error instanceof MongoParseError)
  ) {
    return true;
  }
  if (error instanceof MongoServerError && TRANSIENT_SERVER_CODES.has(Number(error.code))) {
    return true;
  }
  if (error instanceof MongoError && TRANSIENT_LABELS.some((label) => error.hasErrorLabel(label))) {
    return true;
  }
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && SOCKET_ERROR_CODES.has(code)) return true;
  if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.test(message);
}
