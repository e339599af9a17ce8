import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';

/** The `npm run mongo:embedded -- --port <n>` contract; it starts the engine, so engine-only. */
const engineOnly = process.env.MONGODB_URI ? describe.skip : describe;

const CLI = join(__dirname, '..', 'src', 'cli.ts');

function startCli(args: string[]): ChildProcess {
  // Through ts-node so the test does not depend on a previous build.
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function firstStdoutLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return line;
  throw new Error('the CLI exited without printing');
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** ts-node compiles the CLI on every start, which takes seconds on a busy machine. */
const CLI_TIMEOUT_MS = 60_000;

engineOnly('mongo:embedded CLI', () => {
  it.each([
    ['SIGTERM', ['--port', '0']],
    ['SIGINT', ['--port=0']],
  ] as const)(
    'prints its URI alone on a line, serves it, and exits 0 on %s',
    async (signal, args) => {
      const child = startCli([...args]);
      const exited = exitOf(child);
      const line = await firstStdoutLine(child);
      expect(line).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
      expect(line).not.toMatch(/:0$/);

      const client = await MongoClient.connect(line);
      await client.db('cli').collection('c').insertOne({ a: 1 });
      expect(await client.db('cli').collection('c').countDocuments()).toBe(1);
      await client.close();

      child.kill(signal);
      const { code, stderr } = await exited;
      expect(code).toBe(0);
      expect(stderr).toMatch(/in memory only/);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'refuses an invalid port with a usage message',
    async () => {
      const child = startCli(['--port', 'abc']);
      const { code, stderr } = await exitOf(child);
      expect(code).toBe(2);
      expect(stderr).toMatch(/usage/);
    },
    CLI_TIMEOUT_MS,
  );
});
