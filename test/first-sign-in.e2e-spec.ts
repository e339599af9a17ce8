import { AppProcess, startAppProcess } from './support/app-process';

/**
 * README Quick start: `npm start` with no variables (development, the embedded engine in
 * memory) prints a first sign-in that works, since that database starts empty every time.
 */
describe('first sign-in of a bare npm start (e2e)', () => {
  let app: AppProcess | undefined;

  afterEach(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.kill('SIGKILL');
      await app.exited;
    }
  });

  it('logs a generated admin password once, and signing in with it works', async () => {
    // No MONGODB_URI, EMBEDDED_MONGO_DATA_DIR, ADMIN_* or JWT_SECRET, as after a fresh clone.
    app = await startAppProcess({ NODE_ENV: 'development' });
    const line = await app.waitForLine((l) => l.includes('First sign-in'));
    const msg = (JSON.parse(line) as { msg: string }).msg;
    const [, username, password] = /username "([^"]+)" and password "([^"]+)"/.exec(msg)!;
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(app.lines.filter((l) => l.includes(password))).toHaveLength(1);

    const res = await fetch(`${app.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { accessToken: string };
    const me = await fetch(`${app.url}/admin/sessions`, {
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(me.status).toBe(200);
  }, 120_000);
});
