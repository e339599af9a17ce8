import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { median, runLoad, summarize } from '../../bench/lib/load';

function serve(status: number): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      done({ server, url: `http://127.0.0.1:${port}/` });
    }),
  );
}

describe('bench harness: runLoad', () => {
  it('reports throughput, latency percentiles and the CPU per request of the given process', async () => {
    const { server, url } = await serve(200);
    try {
      const run = await runLoad({ url, connections: 4, cpuOf: { self: process.pid } }, 1);
      expect(run.requests).toBeGreaterThan(0);
      expect(run.requestsPerSec).toBeGreaterThan(0);
      expect(run.statusCodes).toEqual({ '200': run.requests });
      expect(run.latencyMs.p99).toBeGreaterThanOrEqual(run.latencyMs.p50);
      expect(run.cpuMsPerRequest.self).toBeGreaterThanOrEqual(0);
      expect(summarize({ name: 'x', runs: [run] }).requestsPerSec).toBe(run.requestsPerSec);
    } finally {
      server.close();
    }
  });

  it('refuses to report a run whose answers were not the expected status', async () => {
    const { server, url } = await serve(401);
    try {
      await expect(runLoad({ url, connections: 2 }, 1)).rejects.toThrow(/not clean.*"401"/);
      await expect(runLoad({ url, connections: 2, expectStatus: 401 }, 1)).resolves.toMatchObject({
        non2xx: expect.any(Number),
      });
    } finally {
      server.close();
    }
  });

  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
