import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';

/**
 * The package as a library: `npm pack` of this repository installs into a fresh Nest 11 app and
 * a fresh Nest 12 app (templates in test/consumers/), which compile with plain `tsc` (strict),
 * boot on the embedded engine started through the package's own engine entry, and use the
 * exported module, guards and decorators. Exactly what docs/integration.md "Install into your
 * app" tells a user to do. Installs come from the npm registry (`--prefer-offline`: the local
 * npm cache first), into a temporary directory per run.
 */

const ROOT = join(__dirname, '..');
const run = promisify(execFile);
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];
// Installing, compiling and booting a whole app on a loaded 2-core machine.
const PREPARE_TIMEOUT_MS = 15 * 60_000;

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      cwd,
      env: { ...process.env, NODE_ENV: 'development' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

let workDir: string;
let tarball: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nest-sessions-consumers-'));
  // `prepack` builds first unless the build is current (its output shares stdout, so the
  // tarball is found by name rather than from `--json`).
  await sh('npm', ['pack', '--pack-destination', workDir], ROOT);
  const [packed] = readdirSync(workDir).filter((name) => name.endsWith('.tgz'));
  tarball = join(workDir, packed);
}, PREPARE_TIMEOUT_MS);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Consumer {
  dir: string;
  child: ChildProcess;
  url: string;
  output: string[];
}

async function prepareConsumer(template: string, env: Record<string, string>): Promise<Consumer> {
  const dir = join(workDir, template);
  cpSync(join(ROOT, 'test', 'consumers', template), dir, { recursive: true });
  await sh('npm', ['install', tarball, ...NPM_FLAGS], dir);
  await sh(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir);

  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${template} did not start:\n${output.join('')}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /consumer listening on (http:\/\/\S+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${template} exited with ${code}:\n${output.join('')}`));
    });
  });
  return { dir, child, url, output };
}

async function stopConsumer(consumer: Consumer | undefined): Promise<void> {
  if (!consumer || consumer.child.exitCode !== null) return;
  const exited = new Promise((resolve) => consumer.child.once('exit', resolve));
  consumer.child.kill('SIGTERM');
  await exited;
}

const ERROR_SHAPE = {
  statusCode: expect.any(Number),
  error: expect.any(String),
  code: expect.any(String),
  message: expect.any(String),
};

describe.each([
  // forRoot, globalGuards: false, @UseGuards(SessionGuard, RolesGuard) on the routes.
  { template: 'nest11', nestMajor: 11 },
  // forRootAsync from the app's own provider, the guards global (deny by default).
  { template: 'nest12', nestMajor: 12 },
])('the packed library in a fresh Nest $nestMajor app', ({ template, nestMajor }) => {
  const adminPassword = randomBytes(18).toString('base64url');
  const memberPassword = randomBytes(18).toString('base64url');
  let consumer: Consumer | undefined;
  let url: string;

  beforeAll(async () => {
    consumer = await prepareConsumer(template, {
      ADMIN_PASSWORD: adminPassword,
      MEMBER_PASSWORD: memberPassword,
    });
    url = consumer.url;
  }, PREPARE_TIMEOUT_MS);

  afterAll(() => stopConsumer(consumer), 30_000);

  async function login(username: string, password: string) {
    const res = await request(url).post('/auth/login').send({ username, password }).expect(201);
    return res.body as { accessToken: string; session: { id: string } };
  }

  it(`installs one copy of Nest ${nestMajor}, Mongoose and class-validator (the host's)`, async () => {
    for (const name of ['@nestjs/core', '@nestjs/common', 'mongoose', 'class-validator']) {
      const paths = (await sh('npm', ['ls', name, '--all', '--parseable'], consumer!.dir)).split(
        '\n',
      );
      expect(new Set(paths.filter(Boolean))).toEqual(
        new Set([join(consumer!.dir, 'node_modules', name)]),
      );
    }
    const core = JSON.parse(await sh('npm', ['ls', '@nestjs/core', '--json'], consumer!.dir)) as {
      dependencies: Record<string, { version: string }>;
    };
    expect(core.dependencies['@nestjs/core'].version).toMatch(new RegExp(`^${nestMajor}\\.`));
  }, 120_000);

  it('answers 401 TOKEN_MISSING in the contract shape without a token', async () => {
    const res = await request(url).get('/notes/mine').expect(401);
    expect(res.body).toEqual({
      ...ERROR_SHAPE,
      statusCode: 401,
      error: 'Unauthorized',
      code: 'TOKEN_MISSING',
    });
    await request(url).get('/notes/public').expect(200, { ok: true });
  });

  it('lets a signed-in user in, with @CurrentUser and @CurrentSession values', async () => {
    const { accessToken, session } = await login('member', memberPassword);
    const res = await request(url)
      .get('/notes/mine')
      .set('authorization', `Bearer ${accessToken}`)
      .expect(200);
    expect(res.body).toEqual({ username: 'member', roles: [], sessionId: session.id });
  });

  it('@Roles forbids a user without the role and admits one with it', async () => {
    const member = await login('member', memberPassword);
    const forbidden = await request(url)
      .get('/notes/admin')
      .set('authorization', `Bearer ${member.accessToken}`)
      .expect(403);
    expect(forbidden.body).toEqual({
      ...ERROR_SHAPE,
      statusCode: 403,
      error: 'Forbidden',
      code: 'FORBIDDEN',
    });

    const admin = await login('admin', adminPassword);
    await request(url)
      .get('/notes/admin')
      .set('authorization', `Bearer ${admin.accessToken}`)
      .expect(200, { admin: 'admin' });
  });

  it('@SessionData keeps the session data across requests', async () => {
    const { accessToken } = await login('member', memberPassword);
    const auth = `Bearer ${accessToken}`;
    await request(url).post('/notes/visits').set('authorization', auth).expect(200, { visits: 1 });
    await request(url).post('/notes/visits').set('authorization', auth).expect(200, { visits: 2 });
    await request(url)
      .get('/sessions/current/data')
      .set('authorization', auth)
      .expect(200, { visits: 2 });
  });

  it('its own routes validate and shape errors without a global pipe or filter of the host', async () => {
    const refresh = await request(url).post('/auth/refresh').send({}).expect(400);
    expect(refresh.body).toEqual({
      ...ERROR_SHAPE,
      statusCode: 400,
      error: 'Bad Request',
      code: 'VALIDATION_FAILED',
    });
    expect(refresh.body.message).toContain('refreshToken');

    const { accessToken } = await login('member', memberPassword);
    const badId = await request(url)
      .get('/sessions/not-an-id')
      .set('authorization', `Bearer ${accessToken}`)
      .expect(400);
    expect(badId.body).toEqual({
      ...ERROR_SHAPE,
      statusCode: 400,
      error: 'Bad Request',
      code: 'VALIDATION_FAILED',
    });
  });
});
