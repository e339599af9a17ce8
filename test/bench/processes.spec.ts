import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Runs the fixture parent, returns the pid of the child it started once the parent is gone. */
function runParent(how: 'throw' | 'exit' | 'signal'): Promise<number> {
  return new Promise((done, fail) => {
    const parent = spawn(process.execPath, [resolve(__dirname, 'fixtures', 'parent.js'), how], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let childPid = 0;
    parent.stdout.on('data', (chunk: Buffer) => {
      childPid ||= Number(chunk.toString().trim().split('\n')[0]);
      if (how === 'signal') setTimeout(() => parent.kill('SIGTERM'), 300);
    });
    parent.once('exit', () => (childPid ? done(childPid) : fail(new Error('no child pid'))));
  });
}

describe('bench harness: child processes', () => {
  it.each(['throw', 'exit', 'signal'] as const)(
    'kills what a benchmark started when the benchmark ends (%s)',
    async (how) => {
      const childPid = await runParent(how);
      expect(await gone(childPid, 3000)).toBe(true);
    },
  );
});
