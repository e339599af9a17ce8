import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** Repository root: benchmarks start built artefacts (`dist/`) and bench-only apps from here. */
export const ROOT = resolve(__dirname, '..', '..');

/**
 * Every process a benchmark starts is registered here and killed however the benchmark ends
 * (normal exit, thrown error, Ctrl-C, SIGTERM from `run-all`'s watchdog), so that no engine or
 * app outlives the run and holds a port or a core for the next benchmark.
 */
const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function killAll(signal: NodeJS.Signals): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL is the only signal that needs no cooperation.
  process.on('exit', () => killAll('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll('SIGKILL');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  process.on('uncaughtException', (error) => {
    console.error(error);
    killAll('SIGKILL');
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error(error);
    killAll('SIGKILL');
    process.exit(1);
  });
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  output(): string;
  /** Resident set size in bytes, read from /proc (Linux). */
  rss(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Extra Node flags placed before the script, e.g. `['-r', 'ts-node/register/transpile-only']`. */
  nodeArgs?: string[];
  /** Open an IPC channel to the child (`child.process.send`, `'message'` events). */
  ipc?: boolean;
}

const OUTPUT_TAIL_CHARS = 16_000;

/** Starts `node <script>` as a child of this process; the child is killed when this process ends. */
export function spawnNode(name: string, script: string, options: SpawnOptions = {}): Child {
  installCleanup();
  const proc = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), resolve(ROOT, script), ...(options.args ?? [])],
    {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    },
  );
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${script}`);
  live.add(proc);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  void exited.then(() => live.delete(proc));
  const pid = proc.pid;

  return {
    name,
    process: proc,
    pid,
    output: () => tail,
    rss: () => readRss(pid),
    async stop(graceMs = 3000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU time (user + system) the process has used so far, in milliseconds, from /proc (Linux). */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits or time runs out. */
function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (const line of buffer.split('\n')) {
        const match = pattern.exec(line.trim());
        if (match) {
          finish();
          resolveLine(match);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      finish();
      reject(
        new Error(`${child.name} exited (${code ?? signal}) before ready:\n${child.output()}`),
      );
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      child.process.stdout?.off('data', onData);
      child.process.off('exit', onExit);
    };
    child.process.stdout?.on('data', onData);
    child.process.once('exit', onExit);
  });
}

export interface Engine extends Child {
  /** `mongodb://127.0.0.1:<port>` as printed by the CLI (no database name). */
  readonly uri: string;
  /** The same server with a database name appended. */
  uriFor(dbName: string): string;
}

/**
 * Starts the embedded engine as its own process through its CLI, exactly as
 * `npm run mongo:embedded -- --port 0` would, and waits for the URI line (docs/operations.md, "Starting").
 */
export async function startEngine(
  options: {
    nodeArgs?: string[];
    env?: Record<string, string>;
    timeoutMs?: number;
    /** More CLI arguments, e.g. `['--replSet', 'rs0']` for change streams. */
    args?: string[];
  } = {},
): Promise<Engine> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  // BENCH_ENGINE_CLI points at another build of the engine (e.g. to compare two versions).
  const cli = process.env.BENCH_ENGINE_CLI ?? 'dist/packages/embedded-mongo/src/cli.js';
  const child = spawnNode('engine', cli, {
    nodeArgs: options.nodeArgs,
    env: options.env,
    args: ['--port', '0', ...(options.args ?? [])],
  });
  try {
    const [uri] = await waitForLine(child, /^mongodb:\/\/127\.0\.0\.1:\d+$/, timeoutMs);
    return { ...child, uri, uriFor: (db) => `${uri}/${db}` };
  } catch (error) {
    await child.stop(500);
    throw error;
  }
}

/** A port that was free a moment ago (the OS picks it); the small race is acceptable on a bench box. */
export function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface App extends Child {
  readonly port: number;
  readonly baseUrl: string;
}

export interface StartAppOptions extends SpawnOptions {
  /** A path that answers below 500 once the app is ready (default `/health`). */
  readyPath?: string;
  timeoutMs?: number;
}

/** Starts an HTTP app on a fresh port (passed as `PORT`) and waits until `readyPath` answers. */
export async function startApp(
  name: string,
  script: string,
  options: StartAppOptions = {},
): Promise<App> {
  const port = await freePort();
  const child = spawnNode(name, script, {
    ...options,
    env: { ...options.env, PORT: String(port) },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(child, `${baseUrl}${options.readyPath ?? '/health'}`, options.timeoutMs);
  } catch (error) {
    await child.stop(500);
    throw error;
  }
  return { ...child, port, baseUrl };
}

async function waitForHttp(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before ready:\n${child.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      // Any answer but a 5xx means the app finished starting (Nest listens after module init,
      // so the database connection and the admin user are ready).
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `${child.name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${child.output()}`,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Stops every given child, in parallel, ignoring ones already gone. */
export async function stopAll(...children: (Child | undefined)[]): Promise<void> {
  await Promise.all(children.map((c) => c?.stop()));
}

/** The environment our production build needs to run against a given database, quietly. */
export function appEnv(
  mongoUri: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    MONGODB_URI: mongoUri,
    JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'silent',
    ADMIN_USERNAME: BENCH_ADMIN.username,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    ...extra,
  };
}

/** Not a placeholder, long enough for production validation; only ever used on a bench box. */
export const BENCH_JWT_SECRET = 'bench-0f6c3b1e9a7d4e2c8b5a1f0e9d8c7b6a';
export const BENCH_ADMIN = { username: 'bench-admin', password: 'bench-admin-password-1' };
