import { createHash } from 'node:crypto';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { MongoClient } from 'mongodb';
import { AppProcess, refusesConnections, startAppProcess } from './support/app-process';
import { startTestDatabase, TestDatabase } from './support/database';

const ADMIN = { username: 'root', password: 'a-long-admin-password-for-tests' };

/** The service as a separate process, as in production: its stdout and its exit are observable. */
describe('running service: logs and graceful shutdown (e2e)', () => {
  let db: TestDatabase;
  let app: AppProcess;

  beforeEach(async () => {
    db = await startTestDatabase();
    app = await startAppProcess({
      MONGODB_URI: db.uri,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'lifecycle-8d2f6b0a4e9c7d1b3f5a2e8c6d0b4f9a',
      SWEEP_ENABLED: 'false',
    });
  });
  afterEach(async () => {
    if (app.child.exitCode === null && app.child.signalCode === null) {
      app.kill('SIGKILL');
      await app.exited;
    }
    await db.stop();
  });

  const call = async (method: string, path: string, body?: object, token?: string) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return {
      status: res.status,
      requestId: res.headers.get('x-request-id'),
      body: (await res.json()) as any,
    };
  };

  it('writes one JSON line per request with its id and the caller, and never a credential', async () => {
    const login = await call('POST', '/auth/login', ADMIN);
    expect(login.status).toBe(201);
    const refreshed = await call('POST', '/auth/refresh', {
      refreshToken: login.body.refreshToken,
    });
    expect(refreshed.status).toBe(200);
    const current = await call('GET', '/sessions/current', undefined, refreshed.body.accessToken);
    expect(current.status).toBe(200);
    const failed = await call('POST', '/auth/login', { ...ADMIN, password: 'wrong-password-123' });
    expect(failed.status).toBe(401);

    const lineFor = (requestId: string | null) =>
      app.waitForLine((l) => l.includes(`"id":"${requestId}"`) && l.includes('"res"'));
    const [loginLine, , currentLine, failedLine] = (
      await Promise.all([login, refreshed, current, failed].map((r) => lineFor(r.requestId)))
    ).map((l) => JSON.parse(l));

    expect(loginLine).toMatchObject({
      level: 30,
      req: { method: 'POST', url: '/auth/login' },
      res: { statusCode: 201 },
      responseTime: expect.any(Number),
    });
    expect(currentLine).toMatchObject({
      req: { method: 'GET', url: '/sessions/current', headers: { authorization: '[redacted]' } },
      userId: current.body.user.id,
      sessionId: current.body.id,
    });
    expect(failedLine).toMatchObject({ level: 40, res: { statusCode: 401 } });
    // Only the status of the response: its headers would double every line.
    expect(currentLine.res).toEqual({ statusCode: 200 });

    const everything = app.lines.join('\n');
    const secrets = [
      ADMIN.password,
      'wrong-password-123',
      login.body.accessToken,
      login.body.refreshToken,
      refreshed.body.accessToken,
      refreshed.body.refreshToken,
      ...[login.body.refreshToken, refreshed.body.refreshToken].map((token: string) =>
        createHash('sha256').update(token).digest('hex'),
      ),
    ];
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('keeps credentials sent in a query string out of the log line (issue 12, finding 5)', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVzLXNpZ25hdHVyZQ';
    const query =
      `username=${ADMIN.username}&password=${encodeURIComponent(ADMIN.password)}` +
      `&newPassword=query-new-password-1&access_token=${token}&state=active`;
    const res = await fetch(`${app.url}/auth/login?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN.username, password: 'wrong-password-456' }),
    });
    expect(res.status).toBe(401);
    const line = JSON.parse(
      await app.waitForLine(
        (l) => l.includes(`"id":"${res.headers.get('x-request-id')}"`) && l.includes('"res"'),
      ),
    );
    expect(line.req.url).toBe(
      `/auth/login?username=${ADMIN.username}&password=[redacted]&newPassword=[redacted]&access_token=[redacted]&state=active`,
    );
    expect(line.req.query).toBeUndefined();
    const everything = app.lines.join('\n');
    for (const secret of [ADMIN.password, 'query-new-password-1', token, 'wrong-password-456']) {
      expect(everything).not.toContain(secret);
    }

    // A 14 KB dotted query: answered, and its log line stays short.
    const long = await fetch(`${app.url}/sessions?state=${'a.'.repeat(7000)}`);
    expect(long.status).toBe(401);
    const longLine = await app.waitForLine(
      (l) => l.includes(`"id":"${long.headers.get('x-request-id')}"`) && l.includes('"res"'),
    );
    expect(longLine.length).toBeLessThan(4096);
  });

  it('on SIGTERM stops accepting, finishes the request in flight, closes the database and exits 0', async () => {
    const body = JSON.stringify({ ...ADMIN, label: 'in flight during shutdown' });
    const req = httpRequest({
      host: '127.0.0.1',
      port: app.port,
      method: 'POST',
      path: '/auth/login',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        // The server answers "100 Continue" once it has taken the request in: from then on it
        // is in flight, and we hold its body back until shutdown is under way.
        expect: '100-continue',
      },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    await new Promise<void>((resolve) => req.on('continue', resolve));

    app.kill('SIGTERM');
    await refusesConnections(app.port, 10000);
    req.end(body);

    const res = await response;
    const text = await new Promise<string>((resolve) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c));
      res.on('end', () => resolve(data));
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.connection).toBe('close');
    const session = JSON.parse(text).session;
    expect(session).toMatchObject({ label: 'in flight during shutdown', state: 'active' });

    expect(await app.exited).toEqual({ code: 0, signal: null });
    // What the in-flight request wrote is in the database.
    const client = await MongoClient.connect(db.uri);
    try {
      const stored = await client
        .db(db.dbName)
        .collection('sessions')
        .countDocuments({ label: 'in flight during shutdown' });
      expect(stored).toBe(1);
    } finally {
      await client.close();
    }
  });
});
