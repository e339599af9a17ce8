import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { LOAD } from './load';
import { ROOT } from './processes';

export const RESULTS_DIR = resolve(ROOT, 'bench', 'results');

export interface Machine {
  cpu: string;
  cores: number;
  totalMemoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the benchmark started: >~1 per core means the figures are noisy. */
  loadAverageAtStart: number;
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** A figure compared with the goal for it. */
export interface Goal {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

/**
 * A goal on a ratio ("at least 0.9×", or strictly "more than 1×"), with its target text and its
 * verdict derived from the same threshold so the two cannot disagree.
 */
export function ratioGoal(name: string, ratio: number, min: number, strict = false): Goal {
  return {
    name,
    target: `${strict ? '>' : '≥'} ${min}×`,
    actual: `${ratio}×`,
    met: strict ? ratio > min : ratio >= min,
  };
}

/** One line of the printed table and of bench/results/SUMMARY.md. */
export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
  note?: string;
}

export interface BenchReport {
  name: string;
  title: string;
  /** What was measured, and how, in a sentence or two (shown in bench/results/SUMMARY.md). */
  method: string;
  figures: Figure[];
  goals: Goal[];
  /** Everything needed to reproduce or re-derive the figures: settings and every raw run. */
  details: Record<string, unknown>;
}

export interface SavedReport extends BenchReport {
  date: string;
  machine: Machine;
  load: typeof LOAD;
  durationSec: number;
}

const startedAt = Date.now();
const machineAtStart = machine();

function formatValue(f: Figure): string {
  const v = typeof f.value === 'number' ? f.value.toLocaleString('en-US') : f.value;
  return f.unit ? `${v} ${f.unit}` : v;
}

/** Prints the figures and goals as tables and writes `bench/results/<name>.json`. */
export function report(r: BenchReport): SavedReport {
  const saved: SavedReport = {
    ...r,
    date: new Date().toISOString(),
    machine: machineAtStart,
    load: LOAD,
    durationSec: Math.round((Date.now() - startedAt) / 1000),
  };
  console.log(`\n== ${r.title}`);
  console.table(
    r.figures.map((f) => ({ figure: f.name, value: formatValue(f), note: f.note ?? '' })),
  );
  if (r.goals.length) {
    console.table(
      r.goals.map((g) => ({
        goal: g.name,
        target: g.target,
        actual: g.actual,
        met: g.met ? 'yes' : 'NO',
      })),
    );
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = resolve(RESULTS_DIR, `${r.name}.json`);
  writeFileSync(file, JSON.stringify(saved, null, 2) + '\n');
  console.log(`written ${file}`);
  return saved;
}

export const MiB = 2 ** 20;

export function mib(bytes: number): number {
  return Math.round((bytes / MiB) * 10) / 10;
}

/** Runs a benchmark's main function, printing a failure and exiting non-zero if it throws. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
