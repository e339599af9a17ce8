/**
 * `npm run test:conformance -- <specs-dir> [--only <substring>] [--verbose] [--min-pass <percent>]`
 *
 * Runs every unified CRUD spec file in <specs-dir> (MongoDB's `source/crud/tests/unified`,
 * not part of this repository) through the official driver against a fresh engine per file,
 * prints pass/fail/skip per file and the totals, and exits non-zero when fewer than
 * --min-pass percent (default 95) of the applicable (not skipped) tests pass.
 */
import { EJSON } from 'bson';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmbeddedMongo } from '../src';
import { runFile, serverInfo, type TestResult, type UnifiedTestFile } from './unified-runner';

interface Options {
  dir: string;
  only?: string;
  verbose: boolean;
  minPass: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { dir: '', verbose: false, minPass: 95 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--only') options.only = argv[++i];
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--min-pass') options.minPass = Number(argv[++i]);
    else if (!arg.startsWith('--')) options.dir = arg;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!options.dir)
    throw new Error('usage: test:conformance -- <specs-dir> [--only <substring>] [--verbose]');
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const dir = resolve(options.dir);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json') && (!options.only || name.includes(options.only)))
    .sort();
  const totals = { pass: 0, fail: 0, skip: 0 };
  const skipReasons = new Map<string, number>();
  let version = '';
  for (const name of files) {
    // Extended JSON parsed canonically keeps int32/int64/double apart, as the spec files mean them.
    const file = EJSON.parse(readFileSync(join(dir, name), 'utf8'), {
      relaxed: false,
    }) as unknown as UnifiedTestFile;
    const engine = await startEmbeddedMongo({ logger: { warn: () => undefined } });
    let results: TestResult[];
    try {
      const server = await serverInfo(engine.uri);
      version = `${server.version} ${server.topology}`;
      results = await runFile(file, engine.uri, server);
    } finally {
      await engine.stop();
    }
    const counts = { pass: 0, fail: 0, skip: 0 };
    for (const result of results) counts[result.status]++;
    totals.pass += counts.pass;
    totals.fail += counts.fail;
    totals.skip += counts.skip;
    console.log(
      `${counts.fail > 0 ? 'FAIL' : counts.pass > 0 ? 'PASS' : 'SKIP'} ${name}: ${counts.pass} pass, ${counts.fail} fail, ${counts.skip} skip`,
    );
    for (const result of results) {
      if (result.status === 'fail')
        console.log(`    fail: ${result.description}\n          ${result.reason}`);
      if (result.status === 'skip') {
        const reason = result.reason ?? '';
        skipReasons.set(reason, (skipReasons.get(reason) ?? 0) + 1);
        if (options.verbose) console.log(`    skip: ${result.description} (${reason})`);
      }
    }
  }
  const applicable = totals.pass + totals.fail;
  const rate = applicable === 0 ? 100 : (100 * totals.pass) / applicable;
  console.log('\nskipped, by reason:');
  for (const [reason, n] of [...skipReasons].sort((a, b) => b[1] - a[1]))
    console.log(`  ${n}  ${reason}`);
  console.log(
    `\n${files.length} files against the engine (${version}): ${totals.pass} pass, ${totals.fail} fail, ${totals.skip} skip; ` +
      `${rate.toFixed(1)}% of ${applicable} applicable tests pass (goal ${options.minPass}%)`,
  );
  return rate >= options.minPass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
