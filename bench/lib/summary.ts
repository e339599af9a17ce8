import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RESULTS_DIR, type Machine, type SavedReport } from './results';

const ORDER = ['guard', 'alternatives', 'revocation', 'auth', 'memory'];

const cell = (v: unknown) =>
  String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function formatValue(value: unknown, unit?: string): string {
  const v = typeof value === 'number' ? value.toLocaleString('en-US') : String(value);
  return unit ? `${v} ${unit}` : v;
}

function loadReports(dir: string): { name: string; report: Partial<SavedReport> }[] {
  if (!existsSync(dir)) return [];
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((name) => ({
      name,
      report: JSON.parse(
        readFileSync(resolve(dir, `${name}.json`), 'utf8'),
      ) as Partial<SavedReport>,
    }));
}

/**
 * Other benchmarks write their own JSON shapes: their scalar figures are listed by path, and an
 * array of flat objects (e.g. one row per run) becomes a table.
 */
function renderForeign(json: Record<string, unknown>): string[] {
  const scalars: [string, unknown][] = [];
  const tables: [string, Record<string, unknown>[]][] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      if (value.length && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
        tables.push([path, value as Record<string, unknown>[]]);
      }
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    scalars.push([path, value]);
  };
  walk(json, '');
  const out: string[] = [];
  if (scalars.length) {
    out.push('', '| figure | value |', '|---|---|');
    for (const [k, v] of scalars.slice(0, 40)) out.push(`| ${cell(k)} | ${cell(formatValue(v))} |`);
  }
  for (const [path, rows] of tables) {
    const keys = Object.keys(rows[0]).filter((k) => typeof rows[0][k] !== 'object');
    out.push(
      '',
      `\`${path}\`:`,
      '',
      `| ${keys.join(' | ')} |`,
      `|${keys.map(() => '---').join('|')}|`,
    );
    for (const row of rows.slice(0, 20))
      out.push(`| ${keys.map((k) => cell(formatValue(row[k]))).join(' | ')} |`);
  }
  return out;
}

/** A machine this busy (1-minute load per core, before the run) gives noisy, preliminary figures. */
const BUSY_LOAD_PER_CORE = 0.5;

export function isBusy(m: Pick<Machine, 'loadAverageAtStart' | 'cores'>): boolean {
  return m.loadAverageAtStart / m.cores > BUSY_LOAD_PER_CORE;
}

export function renderMarkdown(
  atStart: Machine,
  outcomes: { name: string; status: string; seconds: number }[],
  dir = RESULTS_DIR,
): string {
  const reports = loadReports(dir);
  const lines: string[] = [];
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ran = outcomes.map((o) => o.name);
  const partial = ran.length > 0 && reports.some((r) => !ran.includes(r.name));
  lines.push(
    `Latest \`npm run bench\`${partial ? ` (${ran.join(', ')} only; the others are from earlier runs, dated below)` : ''}: ${date} on ${atStart.cpu}, ${atStart.cores} cores, ` +
      `${atStart.totalMemoryGiB} GiB RAM, Node ${atStart.node}, ${atStart.platform}; ` +
      `1-minute load average before the run: ${atStart.loadAverageAtStart}.`,
  );
  if (isBusy(atStart)) {
    lines.push(
      '',
      `**Preliminary:** the machine was shared with other work during this run (load average ` +
        `${atStart.loadAverageAtStart} on ${atStart.cores} cores), so absolute figures are low and noisy; ` +
        `ratios measured side by side are more trustworthy than absolute req/s.`,
    );
  }
  const notOk = outcomes.filter((o) => o.status !== 'ok');
  if (notOk.length) {
    lines.push(
      '',
      `Not measured in this run: ${notOk.map((o) => `\`${o.name}\` (${o.status})`).join(', ')}.`,
    );
  }

  const goals = reports.flatMap(({ name, report }) =>
    (report.goals ?? []).map((g) => ({ bench: name, ...g })),
  );
  if (goals.length) {
    lines.push('', '| benchmark | goal | target | measured | met |', '|---|---|---|---|---|');
    for (const g of goals) {
      lines.push(
        `| ${cell(g.bench)} | ${cell(g.name)} | ${cell(g.target)} | ${cell(g.actual)} | ${g.met ? 'yes' : '**no**'} |`,
      );
    }
  }

  for (const { name, report } of reports) {
    lines.push('', `#### ${report.title ?? name} (\`bench:${name}\`)`);
    if (report.method) lines.push('', report.method);
    if (report.figures?.length) {
      lines.push('', '| figure | value | note |', '|---|---|---|');
      for (const f of report.figures) {
        lines.push(`| ${cell(f.name)} | ${cell(formatValue(f.value, f.unit))} | ${cell(f.note)} |`);
      }
    }
    if (!report.figures) lines.push(...renderForeign(report as Record<string, unknown>));
    const date = report.date ?? (report as { at?: string }).at;
    const when = date ? `measured ${date.replace(/\.\d+Z$/, 'Z')}` : 'date unknown';
    const busy = report.machine && isBusy(report.machine) ? ', machine busy: preliminary' : '';
    // The JSON files are not committed (see .gitignore): each run writes them where it runs.
    lines.push('', `Every raw run: \`bench/results/${name}.json\` (${when}${busy}).`);
  }
  return lines.join('\n');
}

/**
 * Writes `bench/results/SUMMARY.md` from the reports beside it. Figures live in bench/results/
 * only: the README and docs/ describe method and goals and link here, so a benchmark run never
 * edits them.
 */
export function renderSummary(
  atStart: Machine,
  outcomes: { name: string; status: string; seconds: number }[],
  dir = RESULTS_DIR,
): string {
  const body = renderMarkdown(atStart, outcomes, dir);
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, 'SUMMARY.md');
  writeFileSync(file, `# Benchmark figures\n\n${body}\n`);
  return file;
}
