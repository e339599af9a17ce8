import { isLoopbackHost, startEmbeddedMongo } from '../src';

describe('listen address', () => {
  it('tells loopback addresses from others', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.1',
      'example.com',
      '127.0.0.1.nip.io',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
  });

  it.each(['0.0.0.0', '::'])(
    'refuses to listen on %s, since the engine has no authentication',
    async (host) => {
      await expect(startEmbeddedMongo({ host, logger: { warn: () => undefined } })).rejects.toThrow(
        /refusing to listen on .*no authentication.*loopback/,
      );
    },
  );

  it('listens on 127.0.0.1 by default', async () => {
    const engine = await startEmbeddedMongo({ logger: { warn: () => undefined } });
    try {
      expect(engine.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await engine.stop();
    }
  });
});
