import { validateEnv } from './env.validation';

describe('validateEnv', () => {
  it('applies the contract defaults when nothing is set', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      SESSION_IDLE_TIMEOUT_SECONDS: 1800,
      SESSION_ABSOLUTE_TIMEOUT_SECONDS: 604800,
      REFRESH_REUSE_GRACE_SECONDS: 10,
      SESSION_MAX_PER_USER: 100,
      SESSION_RETENTION_SECONDS: 2592000,
      TRUST_PROXY: 'false',
      LOGIN_RATE_LIMIT: 10,
      LOGIN_IP_RATE_LIMIT: 50,
      PEER_HOSTS: '',
      TOKEN_TRANSPORT: 'header',
    });
    expect(env.MONGODB_URI).toBeUndefined();
    expect(env.JWT_SECRET).toBeUndefined();
  });

  it('parses numbers from strings', () => {
    expect(validateEnv({ PORT: '8080', SESSION_MAX_PER_USER: '3' })).toMatchObject({
      PORT: 8080,
      SESSION_MAX_PER_USER: 3,
    });
  });

  it('names every bad variable in one message', () => {
    expect(() => validateEnv({ PORT: 'eighty', ACCESS_TOKEN_TTL_SECONDS: '0' })).toThrow(
      /PORT="eighty"[\s\S]*ACCESS_TOKEN_TTL_SECONDS=0/,
    );
  });

  it('accepts header, cookie or both as TOKEN_TRANSPORT, nothing else', () => {
    expect(validateEnv({ TOKEN_TRANSPORT: 'cookie' }).TOKEN_TRANSPORT).toBe('cookie');
    expect(validateEnv({ TOKEN_TRANSPORT: 'both' }).TOKEN_TRANSPORT).toBe('both');
    expect(() => validateEnv({ TOKEN_TRANSPORT: 'cookies' })).toThrow(/TOKEN_TRANSPORT="cookies"/);
  });

  it('rejects an invalid cron expression', () => {
    expect(() => validateEnv({ SWEEP_CRON: 'every minute' })).toThrow(/SWEEP_CRON/);
  });

  it('refuses production without a real JWT secret', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'changeme' })).toThrow(
      /JWT_SECRET/,
    );
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32) })).not.toThrow();
  });

  it('refuses password hashing below the OWASP minimum in production only', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32) };
    expect(() => validateEnv({ ...prod, PASSWORD_HASH_MEMORY_KIB: '1024' })).toThrow(
      /PASSWORD_HASH_MEMORY_KIB/,
    );
    expect(() => validateEnv({ ...prod, PASSWORD_HASH_TIME_COST: '1' })).toThrow(
      /PASSWORD_HASH_TIME_COST/,
    );
    expect(
      validateEnv({ PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_TIME_COST: '1' }),
    ).toMatchObject({ PASSWORD_HASH_MEMORY_KIB: 1024, PASSWORD_HASH_TIME_COST: 1 });
  });

  it('refuses an absolute timeout shorter than the idle timeout', () => {
    expect(() =>
      validateEnv({ SESSION_IDLE_TIMEOUT_SECONDS: '600', SESSION_ABSOLUTE_TIMEOUT_SECONDS: '60' }),
    ).toThrow(/SESSION_ABSOLUTE_TIMEOUT_SECONDS/);
  });

  it('refuses a peer secret list with any secret under 32 characters, and bad peer origins', () => {
    const long = 'p'.repeat(32);
    expect(() => validateEnv({ PEER_SECRET: `${long},short` })).toThrow(/PEER_SECRET/);
    expect(validateEnv({ PEER_SECRET: `${long},${'q'.repeat(40)}` }).PEER_SECRET).toBe(
      `${long},${'q'.repeat(40)}`,
    );
    expect(() => validateEnv({ PEER_SELF: 'peer-b:3000' })).toThrow(/PEER_SELF/);
    expect(() => validateEnv({ PEER_HOSTS: 'ftp://peer' })).toThrow(/PEER_HOSTS/);
    expect(() =>
      validateEnv({ PEER_SELF: 'https://a.example, http://b.example:8080' }),
    ).not.toThrow();
  });

  it('refuses TRUST_PROXY=true in production, in favour of a hop count or subnets', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(32) };
    expect(() => validateEnv({ ...prod, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => validateEnv({ ...prod, TRUST_PROXY: ' TRUE ' })).toThrow(/TRUST_PROXY/);
    for (const ok of ['1', '2', '10.0.0.0/8', 'loopback, 172.16.0.0/12', 'false']) {
      expect(validateEnv({ ...prod, TRUST_PROXY: ok }).TRUST_PROXY).toBe(ok);
    }
    expect(validateEnv({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe('true');
  });
});
