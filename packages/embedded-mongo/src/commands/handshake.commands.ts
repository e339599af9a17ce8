import type { Document } from 'bson';
import { serverStatusReply } from '../server-stats';
import type { CommandContext, CommandHandler } from './command-context';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
/** The wire version of MongoDB 7.0, which the driver and Mongoose fully support. */
export const MAX_WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

/**
 * The reply a standalone mongod gives. No `setName` (not a replica set) and no
 * `topologyVersion`, so the driver polls instead of streaming awaitable hellos.
 */
function handshakeReply(context: CommandContext, legacyField: boolean): Document {
  return {
    ...(legacyField ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: context.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
  storageEngines: ['embedded-memory'],
  ok: 1,
});

const ok: CommandHandler = () => ({ ok: 1 });

export const handshakeCommands: Record<string, CommandHandler> = {
  hello: (_command, context) => handshakeReply(context, false),
  isMaster: (_command, context) => handshakeReply(context, true),
  ismaster: (_command, context) => handshakeReply(context, true),
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  serverStatus: (_command, context) =>
    serverStatusReply(context.stats, {
      version: SERVER_VERSION,
      storageEngine: 'embedded-memory',
    }),
  endSessions: ok,
  whatsmyuri: () => ({ you: '127.0.0.1', ok: 1 }),
  connectionStatus: () => ({
    authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
    ok: 1,
  }),
};
