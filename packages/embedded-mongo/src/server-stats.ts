import { Long, type Document } from 'bson';
import { hostname } from 'node:os';

/**
 * What the engine counts about itself for `serverStatus`: connections, operations by mongod's
 * opcounter rules, and bytes on the wire. Only figures the engine actually measures.
 */
export class ServerStats {
  readonly startedAt = Date.now();
  /** Whether data outlives the process (a data directory), as mongod's `persistent` says. */
  persistent = false;
  readonly connections = { current: 0, totalCreated: 0 };
  readonly network = { bytesIn: 0, bytesOut: 0, numRequests: 0 };
  /**
   * mongod's rules: `insert` counts documents, `update` and `delete` count statements, `query`
   * counts finds, `getmore` getMores, and every other command (and each write command itself)
   * counts under `command`.
   */
  readonly opcounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };

  countCommand(commandName: string, command: Document): void {
    const statements = (field: string): number =>
      Array.isArray(command[field]) ? (command[field] as unknown[]).length : 0;
    switch (commandName) {
      case 'find':
        this.opcounters.query++;
        return;
      case 'getMore':
        this.opcounters.getmore++;
        return;
      case 'insert':
        this.opcounters.insert += statements('documents');
        return;
      case 'update':
        this.opcounters.update += statements('updates');
        return;
      case 'delete':
        this.opcounters.delete += statements('deletes');
        return;
      case 'findAndModify':
      case 'findandmodify':
        if (command.remove === true) this.opcounters.delete++;
        else this.opcounters.update++;
        this.opcounters.command++;
        return;
      default:
        this.opcounters.command++;
    }
  }
}

/** Engine facts `serverStatus` reports beside the counters. */
export interface ServerIdentity {
  version: string;
  storageEngine: string;
}

/** mongod's `serverStatus` reply, with the sections the engine can fill honestly. */
export function serverStatusReply(stats: ServerStats, identity: ServerIdentity): Document {
  const uptimeMillis = Date.now() - stats.startedAt;
  const memory = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return {
    host: hostname(),
    version: identity.version,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(),
    connections: {
      current: stats.connections.current,
      available: 1_000_000 - stats.connections.current,
      totalCreated: stats.connections.totalCreated,
    },
    mem: {
      bits: 64,
      resident: mb(memory.rss),
      virtual: mb(memory.rss + memory.external),
      supported: true,
    },
    network: { ...stats.network },
    opcounters: { ...stats.opcounters },
    storageEngine: {
      name: identity.storageEngine,
      supportsCommittedReads: false,
      persistent: stats.persistent,
    },
    ok: 1,
  };
}
