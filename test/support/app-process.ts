import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isBuildCurrent } = require('../../scripts/build-stamp.js') as {
  isBuildCurrent(root: string): boolean;
};

export interface AppProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every stdout line so far (the JSON log lines). */
  lines: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout line matching, waiting for it if needed. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/** A port nobody listens on right now (the OS picks it; we release it for the child). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The embedded engine's command line, for nodeArgsFor. */
export const ENGINE_CLI = 'packages/embedded-mongo/src/cli';

/**
 * Node arguments to run `<script>.ts` (a path from the project root, without extension): its
 * build when `npm run build` is current (scripts/build-stamp.js; CI builds before testing), else
 * the source through ts-node, so a test never runs stale code. (Output mtimes cannot tell:
 * incremental `nest build` leaves unchanged output files untouched, so after a merge they looked
 * stale and every spawned app ran through ts-node.)
 */
export function nodeArgsFor(script: string): string[] {
  const built = join(ROOT, 'dist', `${script}.js`);
  const fresh = existsSync(built) && isBuildCurrent(ROOT);
  return fresh ? [built] : ['-r', 'ts-node/register/transpile-only', join(ROOT, `${script}.ts`)];
}

/** Starts the service as `npm start` would, on a free port, and waits until it listens. */
/** A variable set to undefined is removed from the environment the service sees. */
export async function startAppProcess(
  env: Record<string, string | undefined>,
  options: { startTimeoutMs?: number } = {},
): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, nodeArgsFor('src/main'), {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      // The jest project `fastify` runs the spawned service on Fastify too.
      ...(process.env.TEST_HTTP_PLATFORM ? { HTTP_PLATFORM: process.env.TEST_HTTP_PLATFORM } : {}),
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    waiters.forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      waiters.forEach((w) => w());
      resolve({ code, signal });
    }),
  );

  const waitForLine = (match: (line: string) => boolean, timeoutMs = 30000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) return done(() => resolve(found));
        if (child.exitCode !== null || child.signalCode !== null) {
          done(() =>
            reject(new Error(`app exited early:\n${stderr.join('')}\n${lines.join('\n')}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(
                `no matching log line in ${timeoutMs} ms:\n${lines.join('\n')}\n${stderr.join('')}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const app: AppProcess = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    stderr,
    exited,
    waitForLine,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
  try {
    await waitForLine((line) => line.includes(`listening on port ${port}`), options.startTimeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return app;
}

/** Resolves once a TCP connect to the port is refused (the server stopped listening). */
export async function refusesConnections(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve(error.code === 'ECONNREFUSED'),
      );
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
