import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestApp, TestApp } from './support/app';

const ROOT = resolve(__dirname, '..');
const COMMITTED = join(__dirname, 'support', 'api-types.ts');

describe('generated API types (e2e)', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'api-types-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  // Starts a TypeScript process of its own: allow for a loaded machine.
  it("match the running app's OpenAPI document (else: npm run openapi:client, and commit)", async () => {
    const document = (await t.http().get('/docs-json').expect(200)).body as object;
    writeFileSync(join(dir, 'doc.json'), JSON.stringify(document));
    // The generator itself, in its own process (it loads ES modules, which jest cannot).
    await promisify(execFile)(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'test/support/render-api-types.ts',
        '--from',
        join(dir, 'doc.json'),
        '--out',
        join(dir, 'api-types.ts'),
      ],
      { cwd: ROOT },
    );
    const committed = readFileSync(COMMITTED, 'utf8').split('\n');
    const current = readFileSync(join(dir, 'api-types.ts'), 'utf8').split('\n');
    // Plain equality would print thousands of lines; the first differing one says enough.
    const at = committed.findIndex((line, i) => line !== current[i]);
    const firstDifference =
      at === -1 && committed.length === current.length
        ? null
        : at === -1
          ? { line: committed.length + 1, committed: null, app: current[committed.length] }
          : { line: at + 1, committed: committed[at], app: current[at] ?? null };
    expect({ regenerate: 'npm run openapi:client', firstDifference }).toEqual({
      regenerate: 'npm run openapi:client',
      firstDifference: null,
    });
  }, 120_000);
});
