import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { authProps, REDACT_PATHS, requestIdFor } from './logging';

function exchange(headers: Record<string, string> = {}) {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  const res = new ServerResponse(req);
  return { req, res };
}

describe('requestIdFor', () => {
  it('keeps a plain incoming x-request-id and echoes it', () => {
    const { req, res } = exchange({ 'x-request-id': 'lb-1234.abc:9_Z-x' });
    expect(requestIdFor(req, res)).toBe('lb-1234.abc:9_Z-x');
    expect(res.getHeader('x-request-id')).toBe('lb-1234.abc:9_Z-x');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['spaces and quotes', 'id "with" spaces'],
    ['a newline (log injection)', 'abc\n{"level":60}'],
    ['empty', ''],
  ])('replaces an unsafe incoming id (%s) with a UUID', (_, incoming) => {
    const { req, res } = exchange({ 'x-request-id': incoming });
    const id = requestIdFor(req, res);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.getHeader('x-request-id')).toBe(id);
  });

  it('makes a fresh UUID per request when none is sent', () => {
    const a = exchange();
    const b = exchange();
    expect(requestIdFor(a.req, a.res)).not.toBe(requestIdFor(b.req, b.res));
  });
});

describe('authProps', () => {
  it('is empty before the guard has authenticated the request', () => {
    expect(authProps(exchange().req)).toEqual({});
  });

  it('names the user and session once req.auth is set', () => {
    const { req } = exchange();
    Object.assign(req, {
      auth: {
        user: { id: 'u1', username: 'ann', roles: [], groups: [] },
        session: { id: 's1', userId: 'u1' },
      },
    });
    expect(authProps(req)).toEqual({ userId: 'u1', sessionId: 's1' });
  });

  it('names the user alone on the login route, where no session exists yet', () => {
    const { req } = exchange();
    Object.assign(req, { auth: { user: { id: 'u1', username: 'ann', roles: [], groups: [] } } });
    expect(authProps(req)).toEqual({ userId: 'u1' });
  });
});

describe('REDACT_PATHS', () => {
  it('removes credentials from what pino writes, wherever they sit', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({
      req: {
        headers: {
          authorization: 'Bearer eyJhbGciOi.secret-access',
          cookie: 'sid=secret-cookie',
          'x-signature': 'secret-signature',
          'x-csrf-token': 'secret-csrf',
          'user-agent': 'curl/8',
        },
      },
      res: { headers: { 'set-cookie': 'sid=secret-set-cookie' } },
      password: 'secret-password',
      body: {
        refreshToken: 'secret-refresh',
        accessToken: 'secret-access-2',
        csrfToken: 'secret-csrf-2',
      },
      session: { refreshHash: 'secret-hash', refreshHistory: ['secret-old-hash'] },
    });
    const out = lines.join('');
    expect(out).not.toMatch(/secret/);
    expect(out).toContain('curl/8');
    expect(JSON.parse(out).req.headers.authorization).toBe('[redacted]');
  });
});
