// Whether dist/ is the build of the current sources, so that `npm start` only builds when it is
// not. `nest build` is incremental but leaves unchanged output files untouched and still type
// checks every file on each run, so neither dist's mtimes nor a second `nest build` are a cheap
// answer: `npm run build` writes dist/.build-stamp when it succeeds, and the build is current
// while no input is newer than that stamp.
//   node scripts/build-stamp.js current   exit 0 if current, 1 if not
//   node scripts/build-stamp.js write     after a successful build
const { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

/** What `npm run build` compiles, and the settings it compiles them with. */
const INPUTS = [
  'src',
  'config',
  'packages/embedded-mongo/src',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
  'package-lock.json',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function stampPath(root) {
  return join(root, 'dist', '.build-stamp');
}

function isBuildCurrent(root) {
  const stamp = stampPath(root);
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return INPUTS.every((input) => newestMtime(join(root, input)) <= built);
}

function writeStamp(root) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stampPath(root), `${new Date().toISOString()}\n`);
}

module.exports = { INPUTS, isBuildCurrent, writeStamp };

if (require.main === module) {
  const root = join(__dirname, '..');
  const command = process.argv[2];
  if (command === 'write') writeStamp(root);
  else if (command === 'current') {
    const current = isBuildCurrent(root);
    if (current) console.log('build is current: not rebuilding (npm run build forces one)');
    process.exit(current ? 0 : 1);
  } else {
    console.error('usage: node scripts/build-stamp.js current|write');
    process.exit(2);
  }
}
