import { startEmbeddedMongo } from './embedded-mongo.server';

const DEFAULT_PORT = 27017;

export interface CliOptions {
  port: number;
  /** `--dbpath <dir>`: keep the data durable in this directory. */
  dbPath?: string;
  /** `--replSet <name>`: report as a one-member replica set (enables change streams). */
  replSet?: string;
  /** `--bind_ip <address>`: loopback addresses only, unless `--auth`. */
  host?: string;
  /** `--auth`: require SCRAM-SHA-256 as EMBEDDED_MONGO_USERNAME / EMBEDDED_MONGO_PASSWORD. */
  auth?: boolean;
}

const USAGE =
  'usage: mongo:embedded [--port <n>] [--dbpath <dir>] [--replSet <name>] [--bind_ip <address>] [--auth]\n' +
  '  --auth reads the user from EMBEDDED_MONGO_USERNAME and EMBEDDED_MONGO_PASSWORD;\n' +
  '  without it only loopback addresses may be bound';

/** Reads the mongod-style flags the engine knows, as `--flag value` or `--flag=value`. */
export function parseCliOptions(args: string[]): CliOptions {
  const options: CliOptions = { port: DEFAULT_PORT };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : args[i + 1];
    const takeValue = () => {
      if (eq < 0) i++;
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
        throw new Error(`${flag} needs a value`);
      }
      return value;
    };
    switch (flag) {
      case '--port': {
        if (eq < 0) i++;
        const port = Number(value);
        if (
          value === undefined ||
          value === '' ||
          !Number.isInteger(port) ||
          port < 0 ||
          port > 65535
        ) {
          throw new Error(
            `--port needs a port number between 0 and 65535, got: ${value ?? '(nothing)'}`,
          );
        }
        options.port = port;
        break;
      }
      case '--dbpath':
        options.dbPath = takeValue();
        break;
      case '--replSet':
        options.replSet = takeValue();
        break;
      case '--bind_ip':
        options.host = takeValue();
        break;
      case '--auth':
        if (eq > 0) throw new Error('--auth takes no value');
        options.auth = true;
        break;
      default:
        throw new Error(`unknown argument: ${arg}`);
    }
  }
  return options;
}

/** Reads `--port <n>` or `--port=<n>` (with the other flags allowed beside it). */
export function parsePort(args: string[]): number {
  return parseCliOptions(args).port;
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCliOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  let auth: { username: string; password: string } | undefined;
  if (options.auth) {
    const username = process.env.EMBEDDED_MONGO_USERNAME;
    const password = process.env.EMBEDDED_MONGO_PASSWORD;
    if (!username || !password) {
      console.error(`--auth needs EMBEDDED_MONGO_USERNAME and EMBEDDED_MONGO_PASSWORD\n${USAGE}`);
      process.exit(2);
    }
    auth = { username, password };
  }
  const engine = await startEmbeddedMongo({
    auth,
    port: options.port,
    host: options.host,
    dataDir: options.dbPath,
    replicaSet: options.replSet,
  });
  // The contract: the URI alone on a line of stdout once connections are accepted.
  process.stdout.write(`${engine.uri}\n`);
  const shutdown = () => {
    void engine.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`[embedded-mongo] failed to start: ${(error as Error).message}`);
    process.exit(1);
  });
}
