import { validateEnv } from './env.validation';
import { passwordPolicyViolation, splitSecrets } from './secrets';

// Random-looking values (as `openssl rand -base64 32` prints), never used anywhere else.
const STRONG = 'q8Vd1mZ0rTn4Lw7Yb2Kc9Hs6Pe3Ja5Xu/GfRi+NoBk=';
const STRONG_2 = 'Zt3Mw9Qa6Ve1Nc8Rk4Yh7Bp2Lx5Gs0Jd-FuTiWoHm_';

describe('validateEnv', () => {
  const prodBase = { NODE_ENV: 'production', JWT_SECRET: STRONG, MONGODB_URI: 'mongodb://db/x' };

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
      BAD_TOKEN_IP_RATE_LIMIT: 30,
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

  it('takes HTTP_PLATFORM express or fastify only, and a BODY_LIMIT that is a size', () => {
    // The default is the measured faster one (docs/benchmarks.md, HTTP platform).
    expect(validateEnv({}).HTTP_PLATFORM).toBe('fastify');
    expect(validateEnv({ HTTP_PLATFORM: 'express' }).HTTP_PLATFORM).toBe('express');
    expect(() => validateEnv({ HTTP_PLATFORM: 'koa' })).toThrow(/HTTP_PLATFORM="koa"/);
    expect(validateEnv({ BODY_LIMIT: '1mb' }).BODY_LIMIT).toBe('1mb');
    for (const bad of ['lots', '0', '-5kb']) {
      expect(() => validateEnv({ BODY_LIMIT: bad })).toThrow(/BODY_LIMIT/);
    }
  });

  it('accepts header, cookie or both as TOKEN_TRANSPORT, nothing else', () => {
    expect(validateEnv({ TOKEN_TRANSPORT: 'cookie' }).TOKEN_TRANSPORT).toBe('cookie');
    expect(validateEnv({ TOKEN_TRANSPORT: 'both' }).TOKEN_TRANSPORT).toBe('both');
    expect(() => validateEnv({ TOKEN_TRANSPORT: 'cookies' })).toThrow(/TOKEN_TRANSPORT="cookies"/);
  });

  it('rejects an invalid cron expression', () => {
    expect(() => validateEnv({ SWEEP_CRON: 'every minute' })).toThrow(/SWEEP_CRON/);
  });

  it('refuses password hashing below the OWASP minimum in production only', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: STRONG, MONGODB_URI: 'mongodb://db/x' };
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

  describe('JWT_SECRET (finding 1 and 4 of issue 11)', () => {
    const refused = (vars: Record<string, string>) => {
      let message = '';
      try {
        validateEnv(vars);
      } catch (error) {
        message = (error as Error).message;
      }
      return message;
    };

    it('is required in production, with NODE_ENV unset when MONGODB_URI is set, never generated there', () => {
      expect(refused({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x' })).toMatch(
        /JWT_SECRET: required in production/,
      );
      // NODE_ENV unset, as many deploy: several instances on one database need one secret.
      expect(refused({ MONGODB_URI: 'mongodb://db/x' })).toMatch(
        /JWT_SECRET: required when MONGODB_URI is set/,
      );
      // Only the embedded engine outside production may run on a generated secret.
      expect(validateEnv({}).JWT_SECRET).toBeUndefined();
    });

    it.each([
      ['secret', /shorter than 32/],
      ['changeme-changeme-changeme-changeme', /placeholder/],
      ['replace-me-with-a-real-secret-please', /placeholder/],
      ['a'.repeat(32), /too predictable/],
      ['test-secret-0123456789-0123456789-abcdef', /too predictable/],
      ['qwertyuiopasdfghjklzxcvbnm1234567890', /too predictable/],
      ['abcdefghijklmnopqrstuvwxyz0123456789', /too predictable/],
    ])('refuses the weak secret %j everywhere, without printing it', (secret, why) => {
      for (const vars of [{ JWT_SECRET: secret }, { ...prodBase, JWT_SECRET: secret }]) {
        const message = refused(vars);
        expect(message).toMatch(why);
        expect(message).not.toContain(secret);
      }
    });

    it('accepts random secrets of 32+ characters', () => {
      expect(validateEnv({ ...prodBase, JWT_SECRET: STRONG }).JWT_SECRET).toBe(STRONG);
      expect(() => validateEnv({ JWT_SECRET: 'f51bd6f1aa2e196fbc7a3dfcaa03143f' })).not.toThrow();
    });

    it('takes a comma-separated list for rotation and checks every entry', () => {
      expect(splitSecrets(` ${STRONG} , ${STRONG_2} ,`)).toEqual([STRONG, STRONG_2]);
      expect(() => validateEnv({ ...prodBase, JWT_SECRET: `${STRONG},${STRONG_2}` })).not.toThrow();
      expect(
        refused({ ...prodBase, JWT_SECRET: `${STRONG},changeme-changeme-changeme-changeme` }),
      ).toMatch(/JWT_SECRET \(entry 2 of 2\): looks like a placeholder/);
      expect(refused({ JWT_SECRET: ' , ' })).toMatch(/JWT_SECRET: set but empty/);
      expect(refused({ JWT_SECRET: `${STRONG},${STRONG}` })).toMatch(/listed twice/);
    });
  });

  describe('PEER_SECRET', () => {
    it('takes a list whose every entry is 32+ characters and not a placeholder', () => {
      expect(() => validateEnv({ PEER_SECRET: `${STRONG},${STRONG_2}` })).not.toThrow();
      expect(() => validateEnv({ PEER_SECRET: 'sixteen-chars-ok' })).toThrow(
        /PEER_SECRET: shorter than 32/,
      );
      expect(() =>
        validateEnv({ PEER_SECRET: `${STRONG},your-secret-key-goes-here-0123456789` }),
      ).toThrow(/PEER_SECRET \(entry 2 of 2\): looks like a placeholder/);
    });
  });

  describe('ADMIN_REAUTH_MAX_AGE_SECONDS and WEBHOOK_* (issue 14)', () => {
    it('defaults the admin step-up age to 900 and takes a non-negative integer', () => {
      expect(validateEnv({}).ADMIN_REAUTH_MAX_AGE_SECONDS).toBe(900);
      expect(validateEnv({ ADMIN_REAUTH_MAX_AGE_SECONDS: '60' }).ADMIN_REAUTH_MAX_AGE_SECONDS).toBe(
        60,
      );
      expect(() => validateEnv({ ADMIN_REAUTH_MAX_AGE_SECONDS: '-1' })).toThrow(
        /ADMIN_REAUTH_MAX_AGE_SECONDS/,
      );
      expect(() => validateEnv({ ADMIN_REAUTH_MAX_AGE_SECONDS: 'soon' })).toThrow(
        /ADMIN_REAUTH_MAX_AGE_SECONDS/,
      );
    });

    it('needs an http(s) WEBHOOK_URL with a strong WEBHOOK_SECRET, and neither alone', () => {
      const url = 'https://hooks.example.com/sessions';
      expect(() => validateEnv({ WEBHOOK_URL: url, WEBHOOK_SECRET: STRONG })).not.toThrow();
      expect(() => validateEnv({ WEBHOOK_URL: url })).toThrow(/WEBHOOK_SECRET: required/);
      expect(() => validateEnv({ WEBHOOK_URL: url, WEBHOOK_SECRET: 'short-secret' })).toThrow(
        /WEBHOOK_SECRET: shorter than 32/,
      );
      expect(() =>
        validateEnv({ WEBHOOK_URL: url, WEBHOOK_SECRET: 'your-secret-key-goes-here-0123456789' }),
      ).toThrow(/WEBHOOK_SECRET: looks like a placeholder/);
      expect(() => validateEnv({ WEBHOOK_SECRET: STRONG })).toThrow(/without WEBHOOK_URL/);
      for (const bad of [
        'ftp://hooks.example.com/x',
        'hooks.example.com',
        'http://',
        'javascript:alert(1)',
      ]) {
        expect(() => validateEnv({ WEBHOOK_URL: bad, WEBHOOK_SECRET: STRONG })).toThrow(
          /WEBHOOK_URL/,
        );
      }
      // A local receiver (no TLD) is fine.
      expect(() =>
        validateEnv({ WEBHOOK_URL: 'http://127.0.0.1:9000/hook', WEBHOOK_SECRET: STRONG }),
      ).not.toThrow();
    });
  });

  describe('production refusals (finding 5 of issue 11)', () => {
    it('refuses the embedded engine without EMBEDDED_MONGO_DATA_DIR', () => {
      expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: STRONG })).toThrow(
        /MONGODB_URI: required in production, or EMBEDDED_MONGO_DATA_DIR/,
      );
      expect(() =>
        validateEnv({
          NODE_ENV: 'production',
          JWT_SECRET: STRONG,
          EMBEDDED_MONGO_DATA_DIR: '/var/lib/sessions',
        }),
      ).not.toThrow();
    });

    it('refuses a bootstrap admin password outside the policy, in every environment', () => {
      for (const base of [{}, prodBase]) {
        expect(() =>
          validateEnv({ ...base, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'admin' }),
        ).toThrow(/ADMIN_PASSWORD: the bootstrap admin's password must be at least 12 characters/);
        expect(() =>
          validateEnv({
            ...base,
            ADMIN_USERNAME: 'administrator',
            ADMIN_PASSWORD: 'administrator',
          }),
        ).toThrow(/must not be the same as the username/);
        expect(() =>
          validateEnv({ ...base, ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'x'.repeat(1025) }),
        ).toThrow(/at most 1024/);
        expect(() => validateEnv({ ...base, ADMIN_PASSWORD: 'long-enough-password' })).toThrow(
          /set both/,
        );
      }
    });

    it('refuses an easily guessed bootstrap admin password in production only', () => {
      const weak = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'password1234' };
      expect(() => validateEnv(weak)).not.toThrow();
      expect(() => validateEnv({ ...prodBase, ...weak })).toThrow(/too easy to guess/);
      expect(() =>
        validateEnv({
          ...prodBase,
          ADMIN_USERNAME: 'root',
          ADMIN_PASSWORD: 'violet-Anchor-71-drizzle',
        }),
      ).not.toThrow();
    });
  });

  it('applies the password policy of the contract', () => {
    expect(passwordPolicyViolation('x', 'alice')).toMatch(/at least 12/);
    expect(passwordPolicyViolation('x'.repeat(12), 'alice')).toBeNull();
    expect(passwordPolicyViolation('x'.repeat(1024), 'alice')).toBeNull();
    expect(passwordPolicyViolation('x'.repeat(1025), 'alice')).toMatch(/at most 1024/);
    expect(passwordPolicyViolation('alice-in-wonderland', 'alice-in-wonderland')).toMatch(
      /username/,
    );
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
    // A production environment that passes every other rule (a real secret and database).
    const prod = prodBase;
    expect(() => validateEnv({ ...prod, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => validateEnv({ ...prod, TRUST_PROXY: ' TRUE ' })).toThrow(/TRUST_PROXY/);
    for (const ok of ['1', '2', '10.0.0.0/8', 'loopback, 172.16.0.0/12', 'false']) {
      expect(validateEnv({ ...prod, TRUST_PROXY: ok }).TRUST_PROXY).toBe(ok);
    }
    expect(validateEnv({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe('true');
  });
});
