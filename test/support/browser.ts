import Chromium from '@sparticuz/chromium';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for browser tests, with no system browser and no download: the
 * `@sparticuz/chromium` npm package ships the binary (brotli-compressed) and playwright-core
 * drives it. A browser that cannot be unpacked or launched fails the test; it is never a skip.
 *
 * Use: `const browser = await launchBrowser(); try { ... } finally { await browser.close(); }`
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumExecutable(), args: browserArgs() });
}

/**
 * The package's recommended flags, less the ones that switch web security off: a test must see
 * the page as a user's browser does (CSP, same-origin rules). No GPU stack: WebGL is not needed.
 */
function browserArgs(): string[] {
  const insecure = new Set([
    '--disable-web-security',
    '--allow-running-insecure-content',
    '--disable-site-isolation-trials',
  ]);
  return Chromium.args.filter((arg) => !insecure.has(arg));
}

const ROOT = join(__dirname, '..', '..');

let executable: Promise<string> | undefined;

/**
 * Unpacks the binary once per package version into a folder of the temp dir shared by every
 * test process (about 6 s on a quiet machine). The package always unpacks into `os.tmpdir()`, so
 * it runs in a child process whose TMPDIR is a private folder (a Jest sandbox's `process.env` does
 * not reach `os.tmpdir()`), which is then renamed into place: a concurrent test process never
 * sees a half-written binary.
 */
function chromiumExecutable(): Promise<string> {
  executable ??= (async () => {
    const packageJson = join(dirname(require.resolve('@sparticuz/chromium')), '..', 'package.json');
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
    const shared = join(tmpdir(), `nest-sessions-chromium-${version}`);
    const binary = join(shared, 'chromium');
    if (existsSync(binary)) return binary;

    const staging = mkdtempSync(join(tmpdir(), 'nest-sessions-chromium-unpack-'));
    const unpack = `import('@sparticuz/chromium').then(({ default: c }) => {
      c.setGraphicsMode = false;
      return c.executablePath();
    })`;
    await promisify(execFile)(process.execPath, ['-e', unpack], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: staging },
    });
    if (!existsSync(join(staging, 'chromium'))) {
      throw new Error(`@sparticuz/chromium did not unpack its binary into ${staging}`);
    }
    try {
      renameSync(staging, shared);
    } catch (error) {
      // Another process put its copy in place first: use that one.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(binary)) throw error;
    }
    return binary;
  })();
  return executable;
}
