import type { Document } from 'bson';
import { CommandError } from './command-error';
import { adminCommands } from './commands/admin.commands';
import {
  SessionRegistry,
  type CommandContext,
  type CommandHandler,
} from './commands/command-context';
import { explainCommands } from './commands/explain.commands';
import { handshakeCommands } from './commands/handshake.commands';
import { readCommands } from './commands/read.commands';
import { writeCommands } from './commands/write.commands';
import type { CursorRegistry } from './cursor-registry';
import { ServerStats } from './server-stats';
import type { EngineStorage } from './storage/engine-storage';

/**
 * Fields the driver attaches to any command. The engine has one node, no sessions, no
 * transactions and no time limits, so they carry nothing it acts on.
 */
const GENERIC_FIELDS = [
  'lsid',
  '$db',
  '$readPreference',
  'txnNumber',
  '$clusterTime',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
  '$client',
];

const TRANSACTION_FIELDS = ['startTransaction', 'autocommit'];

const handlers: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...adminCommands,
  ...readCommands,
  ...writeCommands,
  ...explainCommands,
};

export class CommandDispatcher {
  private readonly sessions = new SessionRegistry();

  constructor(
    private readonly storage: EngineStorage,
    private readonly cursors: CursorRegistry,
    readonly stats: ServerStats = new ServerStats(),
  ) {}

  /** Runs one command and returns its reply; a failure becomes an `ok: 0` reply, never a throw. */
  execute(rawCommand: Document, dbName: string, connectionId: number): Document {
    const commandName = Object.keys(rawCommand)[0];
    try {
      if (rawCommand.lsid !== undefined) this.sessions.touch(rawCommand.lsid);
      let handler = commandName === undefined ? undefined : handlers[commandName];
      if (!handler || !Object.prototype.hasOwnProperty.call(handlers, commandName)) {
        throw new CommandError('CommandNotFound', `no such command: '${commandName ?? ''}'`);
      }
      if (TRANSACTION_FIELDS.some((field) => field in rawCommand)) {
        throw new CommandError(
          'IllegalOperation',
          'Transaction numbers are only allowed on a replica set member or mongos',
        );
      }
      this.stats.countCommand(commandName, rawCommand);
      let command: Document = {};
      for (const [key, value] of Object.entries(rawCommand)) {
        if (!GENERIC_FIELDS.includes(key)) command[key] = value;
      }
      // The legacy spelling of an aggregation's explain: `{ aggregate, pipeline, explain: true }`.
      if (commandName === 'aggregate' && command.explain === true) {
        const { explain: _explain, ...inner } = command;
        command = { explain: inner, verbosity: 'queryPlanner' };
        handler = handlers.explain;
      }
      const context: CommandContext = {
        storage: this.storage,
        cursors: this.cursors,
        connectionId,
        dbName,
        stats: this.stats,
        sessions: this.sessions,
      };
      return handler(command, context);
    } catch (error) {
      if (error instanceof CommandError) return error.toReply();
      return new CommandError('InternalError', (error as Error).message ?? String(error)).toReply();
    }
  }
}
