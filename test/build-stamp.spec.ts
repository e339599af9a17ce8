import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { INPUTS, isBuildCurrent, writeStamp } = require('../scripts/build-stamp.js') as {
  INPUTS: string[];
  isBuildCurrent(root: string): boolean;
  writeStamp(root: string): void;
};

/** `npm start` builds only when dist/ is not the build of the current sources. */
describe('build stamp (npm start does not rebuild a current build)', () => {
  let root: string;
  const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
  const touch = (path: string, seconds: number) => utimesSync(path, at(seconds), at(seconds));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'build-stamp-'));
    mkdirSync(join(root, 'src', 'sessions'), { recursive: true });
    writeFileSync(join(root, 'src', 'sessions', 'a.ts'), 'export {};');
    writeFileSync(join(root, 'tsconfig.json'), '{}');
    touch(join(root, 'src', 'sessions', 'a.ts'), 10);
    touch(join(root, 'tsconfig.json'), 10);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is not current before any build', () => {
    expect(isBuildCurrent(root)).toBe(false);
  });

  it('is current after a build until a source or a setting changes', () => {
    writeStamp(root);
    touch(join(root, 'dist', '.build-stamp'), 20);
    expect(isBuildCurrent(root)).toBe(true);

    touch(join(root, 'src', 'sessions', 'a.ts'), 30);
    expect(isBuildCurrent(root)).toBe(false);
    touch(join(root, 'dist', '.build-stamp'), 40);
    expect(isBuildCurrent(root)).toBe(true);

    touch(join(root, 'tsconfig.json'), 50);
    expect(isBuildCurrent(root)).toBe(false);
  });

  it('watches what the build compiles and how', () => {
    expect(INPUTS).toEqual(
      expect.arrayContaining([
        'src',
        'config',
        'packages/embedded-mongo/src',
        'tsconfig.build.json',
      ]),
    );
  });
});
