import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machine } from '../../bench/lib/results';
import { renderSummary } from '../../bench/lib/summary';

const README = resolve(__dirname, '..', '..', 'README.md');

describe('renderSummary', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'bench-summary-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the figures to SUMMARY.md beside the results and leaves the README alone', () => {
    writeFileSync(
      join(dir, 'guard.json'),
      JSON.stringify({
        name: 'guard',
        title: 'Guard cost',
        method: 'side by side',
        figures: [{ name: 'guard alone', value: 1.1, unit: '×' }],
        goals: [{ name: 'guard', target: '≥ 0.85×', actual: '1.1×', met: true }],
        details: {},
        date: '2026-11-28T00:00:00.000Z',
        machine: machine(),
      }),
    );
    const readmeBefore = readFileSync(README, 'utf8');

    const file = renderSummary(machine(), [{ name: 'guard', status: 'ok', seconds: 1 }], dir);

    expect(file).toBe(join(dir, 'SUMMARY.md'));
    expect(readdirSync(dir).sort()).toEqual(['SUMMARY.md', 'guard.json']);
    expect(readFileSync(file, 'utf8')).toMatch(/\| guard alone \| 1\.1 × \|/);
    expect(readFileSync(README, 'utf8')).toBe(readmeBefore);
    expect(readmeBefore).not.toMatch(/bench:results/);
  });
});
