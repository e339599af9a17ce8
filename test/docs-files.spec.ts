import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { STATUS_OF_CODE } from '../src/common/api-errors.decorator';
import { ErrorCode } from '../src/common/error-codes';

const ROOT = resolve(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every file under `dir` (relative to the root) whose name passes `keep`, skipping builds. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const path = join(abs, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (keep(name)) out.push(relative(ROOT, path));
    }
  };
  if (existsSync(join(ROOT, dir))) walk(join(ROOT, dir));
  return out;
}

const markdown = () => [
  'README.md',
  ...filesUnder('docs', (n) => n.endsWith('.md')),
  ...filesUnder('packages', (n) => n === 'README.md'),
];

describe('README and docs/', () => {
  it('keeps the README to one page: at most 200 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('lists in docs/api.md exactly the error codes of the code, each with its status', () => {
    // The table's rows: | `CODE` | status | when |
    const rows = [...read('docs/api.md').matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map(
      ([, code, status]) => [code, Number(status)] as const,
    );
    const documented = Object.fromEntries(rows);
    expect(rows.length).toBe(Object.keys(documented).length); // no code listed twice
    // A new code in ErrorCode needs its row in docs/api.md (and a status in STATUS_OF_CODE).
    expect(documented).toEqual(
      Object.fromEntries(Object.values(ErrorCode).map((code) => [code, STATUS_OF_CODE[code]])),
    );
  });

  it('links only to files that exist in the repository', () => {
    // Written by the engineers restructuring the code; linked from the README meanwhile.
    const pendingElsewhere = ['docs/architecture.md', 'docs/integration.md'];
    const broken: string[] = [];
    for (const file of markdown()) {
      for (const [, target] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const path = relative(ROOT, resolve(ROOT, dirname(file), target.split('#')[0]));
        if (path.startsWith('..')) broken.push(`${file}: ${target} (outside the repository)`);
        else if (!existsSync(join(ROOT, path)) && !pendingElsewhere.includes(path))
          broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('never points readers at files outside the repository', () => {
    const outside = new RegExp(['shared', 'API\\.md'].join('/') + '|\\.\\./shared/|\\(API\\.md');
    const sources = ['src', 'test', 'bench', 'config', 'packages', 'docs'].flatMap((dir) =>
      filesUnder(dir, (n) => /\.(ts|md|js|json)$/.test(n)),
    );
    const offending = [...sources, ...markdown(), '.env.example', 'package.json']
      .filter((file) => outside.test(read(file)))
      .sort();
    expect([...new Set(offending)]).toEqual([]);
  });
});
