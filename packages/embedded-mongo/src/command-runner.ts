import { Long, ObjectId, type Document } from 'bson';
import type { ScramServer } from './auth/scram-sha-256';
import type { ChangeStreams } from './change-streams/change-streams';
import type { CommandDispatcher } from './command-dispatcher';
import { CommandError } from './command-error';
import type { DurableStore } from './durability/durable-store';
import { isPlainObject } from './storage/bson-value';

export interface ReplicaSetIdentity {
  /** The replica set name (`--replSet`). */
  name: string;
  /** `host:port` the engine answers on: the set's only member, always primary. */
  me: string;
}

const HANDSHAKES = new Set(['hello', 'isMaster', 'ismaster']);
/** What mongod answers before authentication (commands whose requiresAuth() is false). */
const WITHOUT_AUTH = new Set([
  ...HANDSHAKES,
  'saslStart',
  'saslContinue',
  'ping',
  'buildInfo',
  'buildinfo',
]);

type Conversation = ReturnType<ScramServer['start']>['conversation'];

interface ConnectionAuth {
  authenticated: boolean;
  conversation?: Conversation;
}

/** Write concerns whose reply waits for the journal to reach the disk (fdatasync). */
export function wantsJournalSync(writeConcern: unknown): boolean {
  if (!isPlainObject(writeConcern)) return false;
  return writeConcern.j === true || writeConcern.w === 'majority';
}

/** Cursor ids arrive as Long, or as a number when they fit in a double. */
function asCursorId(value: unknown): Long | undefined {
  if (value instanceof Long) return value;
  if (typeof value === 'number' && Number.isInteger(value)) return Long.fromNumber(value);
  return undefined;
}

function errorReply(error: unknown): Document {
  if (error instanceof CommandError) return error.toReply();
  return new CommandError('InternalError', (error as Error).message ?? String(error)).toReply();
}

/**
 * Runs one command the way a connection needs it: change-stream commands go to the change
 * streams, everything else to the dispatcher; then the command's changes are journaled (before
 * the reply exists, so nothing unjournaled is ever acknowledged) and published to watchers.
 * A reply is a Promise when it has to wait: a change-stream getMore awaiting events, or a write
 * whose write concern asks for the journal on disk.
 */
export class CommandRunner {
  private readonly electionId = new ObjectId();
  private readonly connections = new Map<number, ConnectionAuth>();

  constructor(
    private readonly dispatcher: CommandDispatcher,
    private readonly store?: DurableStore,
    private readonly changeStreams?: ChangeStreams,
    private readonly replicaSet?: ReplicaSetIdentity,
    private readonly scram?: ScramServer,
    private readonly onCommand?: (command: Document, dbName: string) => void,
  ) {}

  /** Forgets a closed connection's authentication. */
  connectionClosed(connectionId: number): void {
    this.connections.delete(connectionId);
  }

  run(command: Document, dbName: string, connectionId: number): Document | Promise<Document> {
    this.onCommand?.(command, dbName);
    const name = Object.keys(command)[0];
    if (this.scram) {
      const answered = this.authenticate(name, command, connectionId);
      if (answered) return answered;
    }
    const streamed = this.changeStreamCommand(name, command, dbName, connectionId);
    if (streamed) return streamed;
    let reply = this.dispatcher.execute(command, dbName, connectionId);
    if (this.replicaSet && HANDSHAKES.has(name) && reply.ok === 1) {
      reply = this.asReplicaSetMember(reply);
    }
    if (this.scram && HANDSHAKES.has(name) && reply.ok === 1) {
      reply = this.withAuthHandshake(command, reply, connectionId);
    }
    if (this.store) {
      try {
        this.store.commit();
      } catch (error) {
        return new CommandError('InternalError', (error as Error).message).toReply();
      }
    }
    this.changeStreams?.publish();
    if (this.store && wantsJournalSync(command.writeConcern)) {
      return this.store.sync().then(
        () => reply,
        (error: Error) =>
          new CommandError('WriteConcernFailed', `journal sync failed: ${error.message}`).toReply(),
      );
    }
    return reply;
  }

  /**
   * With credentials, a connection must pass SCRAM-SHA-256 before anything but the handshake
   * and ping; answers the SASL commands and refusals, or returns undefined to run the command.
   */
  private authenticate(
    name: string | undefined,
    command: Document,
    connectionId: number,
  ): Document | undefined {
    let state = this.connections.get(connectionId);
    if (!state) {
      state = { authenticated: false };
      this.connections.set(connectionId, state);
    }
    try {
      if (name === 'saslStart') {
        const { reply, conversation } = this.scram!.start(command);
        state.conversation = conversation;
        return reply;
      }
      if (name === 'saslContinue') {
        const conversation = state.conversation;
        state.conversation = undefined;
        if (!conversation) {
          throw new CommandError('AuthenticationFailed', 'No SASL session state found');
        }
        const reply = this.scram!.finish(command, conversation);
        state.authenticated = true;
        return reply;
      }
    } catch (error) {
      return errorReply(error);
    }
    if (state.authenticated || (name !== undefined && WITHOUT_AUTH.has(name))) return undefined;
    return new CommandError(
      'Unauthorized',
      `Command ${name ?? ''} requires authentication`,
    ).toReply();
  }

  /** The handshake's `saslSupportedMechs`, and the first SCRAM step when the driver sends it along. */
  private withAuthHandshake(command: Document, reply: Document, connectionId: number): Document {
    const out: Document = { ...reply };
    if (typeof command.saslSupportedMechs === 'string') {
      out.saslSupportedMechs = ['SCRAM-SHA-256'];
    }
    const speculative = command.speculativeAuthenticate as unknown;
    if (isPlainObject(speculative) && speculative.saslStart === 1) {
      try {
        const { reply: first, conversation } = this.scram!.start(speculative);
        this.connections.set(connectionId, { authenticated: false, conversation });
        const { ok: _ok, ...step } = first;
        out.speculativeAuthenticate = step;
      } catch {
        // The driver then authenticates with an ordinary saslStart.
      }
    }
    return out;
  }

  private changeStreamCommand(
    name: string | undefined,
    command: Document,
    dbName: string,
    connectionId: number,
  ): Document | Promise<Document> | undefined {
    if (name === 'aggregate' && Array.isArray(command.pipeline)) {
      const first = command.pipeline[0] as unknown;
      if (!isPlainObject(first) || !('$changeStream' in first)) return undefined;
      if (!this.changeStreams) {
        return new CommandError(
          'Location40573',
          'The $changeStream stage is only supported on replica sets (start the engine with a replica set name: --replSet or the replicaSet option)',
        ).toReply();
      }
      try {
        return this.changeStreams.open(command, dbName);
      } catch (error) {
        return errorReply(error);
      }
    }
    if (!this.changeStreams) return undefined;
    if (name === 'getMore') {
      const id = asCursorId(command.getMore);
      if (!id || !this.changeStreams.has(id)) return undefined;
      return this.changeStreams.getMore(command).catch(errorReply);
    }
    if (name === 'killCursors' && Array.isArray(command.cursors)) {
      const ids = command.cursors as unknown[];
      const mine = ids.filter(
        (id): id is Long => id instanceof Long && this.changeStreams!.has(id),
      );
      if (mine.length === 0) return undefined;
      for (const id of mine) this.changeStreams.kill(id);
      const others = ids.filter((id) => !mine.includes(id as Long));
      const rest =
        others.length > 0
          ? this.dispatcher.execute({ ...command, cursors: others }, dbName, connectionId)
          : { cursorsKilled: [], cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      if (rest.ok !== 1) return rest;
      return { ...rest, cursorsKilled: [...mine, ...(rest.cursorsKilled as Long[])] };
    }
    return undefined;
  }

  /**
   * A one-member replica set's hello: its name, itself as the only host and the primary. No
   * topologyVersion, so drivers poll rather than stream hellos.
   */
  private asReplicaSetMember(reply: Document): Document {
    const { name, me } = this.replicaSet!;
    const now = new Date();
    const opTime = { ts: this.changeStreams!.operationTime(), t: Long.fromNumber(1) };
    return {
      ...reply,
      hosts: [me],
      setName: name,
      setVersion: 1,
      secondary: false,
      primary: me,
      me,
      electionId: this.electionId,
      lastWrite: {
        opTime,
        lastWriteDate: now,
        majorityOpTime: opTime,
        majorityWriteDate: now,
      },
    };
  }
}
