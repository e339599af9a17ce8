import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../common/clock';
import { PeerDistributor } from './peer-distributor.service';
import { verifyRequestSignature } from './request-signature';

const SECRET = 'unit-test-peer-secret-0123456789';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('PeerDistributor', () => {
  const servers: Server[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const distributor = (hosts: string[], timeoutMs = 2000, secret: string | null = SECRET) =>
    new PeerDistributor(
      { hosts, secrets: secret ? [secret] : [], self: [], timeoutMs, maxClockSkewSeconds: 300 },
      clock,
    );
  /** A port that was just free: connecting to it is refused. */
  const closedPort = async () => {
    const s = await serve(() => undefined);
    await new Promise((r) => s.server.close(r));
    return s.url;
  };
  const start = async (handler: Handler) => {
    const s = await serve(handler);
    servers.push(s.server);
    return s.url;
  };
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  /** Verifies a received call as the peer at `self` would. */
  const verifyAs = (self: string, req: IncomingMessage, body: string) =>
    verifyRequestSignature(
      [SECRET],
      {
        method: req.method!,
        audience: req.headers['x-signature-audience'] as string,
        path: req.url!,
        timestamp: req.headers['x-signature-timestamp'] as string,
        nonce: req.headers['x-signature-nonce'] as string,
        body,
      },
      req.headers['x-signature'] as string,
      clock.nowMs(),
      300,
      [self],
    ).ok;

  it('POSTs the signed body to every peer and collects one string per failure', async () => {
    const seen: { path?: string; body: string; verified: boolean }[] = [];
    let okUrl = '';
    const ok = await start((req, body, res) => {
      seen.push({ path: req.url, body, verified: verifyAs(okUrl, req, body) });
      json(res, 200, { invalidated: 1, errors: [] });
    });
    okUrl = ok;
    const notFound = await start((_req, _body, res) =>
      json(res, 404, {
        statusCode: 404,
        error: 'Not Found',
        code: 'NOT_FOUND',
        message: 'No user named "alice"',
      }),
    );
    const broken = await start((_req, _body, res) => {
      res.writeHead(502);
      res.end('<html>bad gateway</html>');
    });
    const partial = await start((_req, _body, res) =>
      json(res, 200, { invalidated: 0, errors: ['something downstream'] }),
    );
    const hanging = await start(() => undefined);
    const refused = await closedPort();

    const errors = await distributor(
      [ok, notFound, broken, partial, hanging, refused],
      // Long enough for the healthy in-process peers to answer on a loaded 2-core machine;
      // the hanging one still has to hit it.
      1500,
    ).distribute('invalidate', { username: 'alice' });

    expect(seen).toEqual([
      { path: '/remote/sessions/invalidate', body: '{"username":"alice"}', verified: true },
    ]);
    expect(errors).toEqual([
      `${notFound}: HTTP 404 NOT_FOUND: No user named "alice"`,
      `${broken}: HTTP 502`,
      `${partial}: something downstream`,
      `${hanging}: timeout after 1500 ms`,
      `${refused}: ECONNREFUSED`,
    ]);
  });

  it('signs each peer’s call for that peer alone: its own audience and nonce', async () => {
    const calls: { url: string; req: IncomingMessage; body: string }[] = [];
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      urls.push(
        await start((req, body, res) => {
          calls.push({ url: `http://${req.headers.host}`, req, body });
          json(res, 200, { invalidated: 0, errors: [] });
        }),
      );
    }
    expect(await distributor(urls).distribute('invalidate', { username: 'bob' })).toEqual([]);
    expect(calls.map((c) => c.req.headers['x-signature-audience']).sort()).toEqual(
      [...urls].sort(),
    );
    const [a, b] = calls;
    expect(a.req.headers['x-signature-nonce']).not.toBe(b.req.headers['x-signature-nonce']);
    expect(verifyAs(a.url, a.req, a.body)).toBe(true);
    expect(verifyAs(b.url, b.req, b.body)).toBe(true);
    // What was sent to one peer does not verify at the other.
    expect(verifyAs(b.url, a.req, a.body)).toBe(false);
    expect(verifyAs(a.url, b.req, b.body)).toBe(false);
  });

  it('does nothing without peers, and sends nothing without a secret', async () => {
    expect(await distributor([]).distribute('validate', { username: 'a' })).toEqual([]);
    const peer = await closedPort();
    expect(await distributor([peer], 100, null).distribute('validate', { username: 'a' })).toEqual([
      `${peer}: not sent, PEER_SECRET is not configured`,
    ]);
  });
});
