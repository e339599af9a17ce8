import { ManualClock } from '../common/clock';
import { resolveSessionOptions, SESSION_DEFAULTS } from './session-module.options';

describe('resolveSessionOptions', () => {
  it('applies the documented defaults', () => {
    const s = resolveSessionOptions({ secrets: 'a-secret' });
    expect(s).toMatchObject({
      accessTokenTtlSeconds: SESSION_DEFAULTS.accessTokenTtlSeconds,
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 604800,
      refreshReuseGraceSeconds: 10,
      maxSessionsPerUser: 100,
      retentionSeconds: 2592000,
      cache: { ttlMs: 5000, maxEntries: 100_000 },
      loginRateLimit: { limit: 10, windowSeconds: 60 },
      badTokenRateLimit: { limit: 30, windowSeconds: 60 },
      passwordHashing: { memoryCostKib: 19456, timeCost: 2, parallelism: 1 },
      initialAdmin: null,
    });
    expect(s.secretsFor({} as never)).toEqual(['a-secret']);
    expect(s.clock.nowMs()).toBeGreaterThan(0);
  });

  it('keeps a list of secrets in order and the clock it is given', () => {
    const clock = new ManualClock(5);
    const s = resolveSessionOptions({ secrets: ['new', 'old'], clock });
    expect(s.secretsFor({} as never)).toEqual(['new', 'old']);
    expect(s.clock).toBe(clock);
  });

  it('refuses bad options with one error naming each of them', () => {
    let message = '';
    try {
      resolveSessionOptions({
        secrets: [],
        idleTimeoutSeconds: 0,
        absoluteTimeoutSeconds: 1.5,
        cache: { ttlMs: -1 },
        badTokenRateLimit: { limit: -1 },
        passwordHashing: { memoryCostKib: 8 },
        initialAdmin: { username: 'root', password: '' },
        hooks: { onRequest: ['nope' as never] },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'secrets',
      'idleTimeoutSeconds',
      'absoluteTimeoutSeconds',
      'cache.ttlMs',
      'badTokenRateLimit.limit',
      'passwordHashing.memoryCostKib',
      'initialAdmin',
      'hooks.onRequest',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('needs secrets or getTokenSecret, and an absolute timeout no shorter than the idle one', () => {
    expect(() => resolveSessionOptions({})).toThrow(/secrets \(or getTokenSecret\) is required/);
    expect(() =>
      resolveSessionOptions({ secrets: 's', idleTimeoutSeconds: 100, absoluteTimeoutSeconds: 50 }),
    ).toThrow(/absoluteTimeoutSeconds must not be shorter/);
    expect(() => resolveSessionOptions({ getTokenSecret: () => 's' })).not.toThrow();
  });
});
