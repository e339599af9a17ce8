import { startEmbeddedMongo } from './embedded-mongo.server';

const DEFAULT_PORT = 27017;

/** Reads `--port <n>` or `--port=<n>`; anything else is a usage error. */
export function parsePort(args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value =
      arg === '--port' ? args[++i] : arg.startsWith('--port=') ? arg.slice(7) : undefined;
    if (arg !== '--port' && value === undefined) throw new Error(`unknown argument: ${arg}`);
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(
        `--port needs a port number between 0 and 65535, got: ${value ?? '(nothing)'}`,
      );
    }
    return port;
  }
  return DEFAULT_PORT;
}

async function main(): Promise<void> {
  let port: number;
  try {
    port = parsePort(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: mongo:embedded [--port <n>]`);
    process.exit(2);
  }
  const engine = await startEmbeddedMongo({ port });
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
