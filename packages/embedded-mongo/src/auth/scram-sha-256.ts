import { Binary, type Document } from 'bson';
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { CommandError } from '../command-error';

/** mongod's default scramSHA256IterationCount. */
const ITERATIONS = 15_000;

export interface EngineCredentials {
  username: string;
  password: string;
}

interface StoredCredential {
  username: string;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/**
 * SASLprep (RFC 4013) for the passwords the engine accepts: NFKC normalization. Passwords with
 * characters SASLprep maps or prohibits beyond that (controls, unassigned code points) are
 * refused when the engine starts, so client and server never prepare a password differently.
 */
function prepare(password: string): string {
  const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f);
  if ([...password].some((char) => isControl(char.codePointAt(0)!))) {
    throw new Error('the engine password may not contain control characters');
  }
  return password.normalize('NFKC');
}

/** The salted keys of one user, derived once at start (the password itself is not kept). */
export function storedCredential({ username, password }: EngineCredentials): StoredCredential {
  if (!username || !password) throw new Error('auth needs a non-empty username and password');
  const salt = randomBytes(28);
  const salted = pbkdf2Sync(prepare(password), salt, ITERATIONS, 32, 'sha256');
  return {
    username,
    salt,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attributes.set(part[0], part.slice(2));
  }
  return attributes;
}

function payloadText(command: Document): string {
  const payload = command.payload as unknown;
  if (payload instanceof Binary) return Buffer.from(payload.buffer).toString('utf8');
  if (typeof payload === 'string') return payload;
  throw new CommandError('BadValue', 'SASL payload must be binary data');
}

function authFailed(): CommandError {
  return new CommandError('AuthenticationFailed', 'Authentication failed.');
}

interface Conversation {
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
}

/**
 * The server side of SCRAM-SHA-256 (RFC 5802/7677) as mongod speaks it over saslStart and
 * saslContinue, for the one user the engine is started with.
 */
export class ScramServer {
  private readonly credential: StoredCredential;

  constructor(credentials: EngineCredentials) {
    this.credential = storedCredential(credentials);
  }

  get username(): string {
    return this.credential.username;
  }

  /** `saslStart`: checks the mechanism and user, answers the server-first message. */
  start(command: Document): { reply: Document; conversation: Conversation } {
    if (command.mechanism !== 'SCRAM-SHA-256') {
      throw new CommandError(
        'MechanismUnavailable',
        `Received authentication for mechanism ${String(command.mechanism)} which is not enabled`,
      );
    }
    const clientFirst = payloadText(command);
    if (!clientFirst.startsWith('n,')) throw authFailed();
    const clientFirstBare = clientFirst.slice(clientFirst.indexOf(',', 2) + 1);
    const attributes = parseAttributes(clientFirstBare);
    const user = (attributes.get('n') ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
    const clientNonce = attributes.get('r');
    if (!clientNonce) throw authFailed();
    const nonce = clientNonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${this.credential.salt.toString('base64')},i=${ITERATIONS}`;
    // An unknown user gets the same exchange and fails at the proof, revealing nothing.
    const conversation = {
      clientFirstBare,
      serverFirst,
      nonce: user === this.credential.username ? nonce : `${nonce}!unknown`,
    };
    return {
      conversation,
      reply: {
        conversationId: 1,
        done: false,
        payload: new Binary(Buffer.from(serverFirst)),
        ok: 1,
      },
    };
  }

  /** `saslContinue`: verifies the client proof; answers the server signature. */
  finish(command: Document, conversation: Conversation): Document {
    const clientFinal = payloadText(command);
    const attributes = parseAttributes(clientFinal);
    const proof = Buffer.from(attributes.get('p') ?? '', 'base64');
    if (attributes.get('r') !== conversation.nonce || proof.length !== 32) throw authFailed();
    const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
    const signature = hmac(this.credential.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i] ^ signature[i];
    if (!timingSafeEqual(sha256(clientKey), this.credential.storedKey)) throw authFailed();
    const serverSignature = hmac(this.credential.serverKey, authMessage).toString('base64');
    return {
      conversationId: 1,
      done: true,
      payload: new Binary(Buffer.from(`v=${serverSignature}`)),
      ok: 1,
    };
  }
}
