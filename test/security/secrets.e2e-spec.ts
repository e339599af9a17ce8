import { startAppProcess } from '../support/app-process';
import { startTestDatabase, TestDatabase } from '../support/database';

/**
 * Issue 11, findings 1, 4 and 5: the service as deployed (`npm start`), with the configurations
 * the review attacked. Each used to start and serve; now each stops before it listens, with a
 * message naming the variable, and never printing the secret.
 */

// Random-looking, as `openssl rand -base64 32` prints; used nowhere else.
const STRONG = 'Hk3v9QzT1mWc7Rb0Ya5Nf2Lx8Jd4Ps6Ge+UoViCtE=';
const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'plum-Orbit-63-cascade' };

/** Variables the test runner's own environment must not leak into the started service. */
const CLEAN = { MONGODB_URI: undefined, JWT_SECRET: undefined, PEER_SECRET: undefined };

async function refusal(env: Record<string, string | undefined>): Promise<string> {
  // A loaded machine can take long to load the app just to refuse it; the exit is what counts.
  const started = startAppProcess({ ...CLEAN, ...env }, { startTimeoutMs: 100_000 });
  const outcome = await started.then(
    (app) => {
      app.kill('SIGKILL');
      return null;
    },
    (error: Error) => error.message,
  );
  if (outcome === null) throw new Error('the service started and listened');
  return outcome;
}

describe('secrets and production refusals at start (issue 11, e2e)', () => {
  // Each case starts the service as a process (from source when the build is stale).
  jest.setTimeout(150_000);
  let db: TestDatabase;
  beforeAll(async () => (db = await startTestDatabase()));
  afterAll(() => db.stop());

  it('finding 1: NODE_ENV unset with JWT_SECRET=secret does not start', async () => {
    // "unset" is the development default; the weak secret used to be accepted silently there.
    const message = await refusal({
      NODE_ENV: 'development',
      MONGODB_URI: db.uri,
      JWT_SECRET: 'secret',
    });
    expect(message).toMatch(/JWT_SECRET: shorter than 32 characters/);
  });

  it('finding 1: production with changeme-changeme-changeme-changeme does not start', async () => {
    const message = await refusal({
      NODE_ENV: 'production',
      MONGODB_URI: db.uri,
      JWT_SECRET: 'changeme-changeme-changeme-changeme',
      ...ADMIN,
    });
    expect(message).toMatch(/JWT_SECRET: looks like a placeholder/);
    expect(message).not.toContain('changeme-changeme');
  });

  it('finding 4: an instance on a shared database without JWT_SECRET does not start', async () => {
    // Two such instances each made a random secret: tokens from one failed on the other, and
    // tabs refreshing on both revoked the session as reuse.
    const message = await refusal({ NODE_ENV: 'development', MONGODB_URI: db.uri });
    expect(message).toMatch(/JWT_SECRET: required when MONGODB_URI is set/);
  });

  it('finding 5: production with ADMIN_PASSWORD=admin does not start', async () => {
    const message = await refusal({
      NODE_ENV: 'production',
      MONGODB_URI: db.uri,
      JWT_SECRET: STRONG,
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'admin',
    });
    expect(message).toMatch(/ADMIN_PASSWORD: the bootstrap admin's password must be at least 12/);
  });

  it('finding 5: production without MONGODB_URI does not serve from the in-memory engine', async () => {
    const message = await refusal({ NODE_ENV: 'production', JWT_SECRET: STRONG, ...ADMIN });
    expect(message).toMatch(/MONGODB_URI: required in production, or EMBEDDED_MONGO_DATA_DIR/);
  });

  it('generates a secret only for the embedded engine outside production, and says so', async () => {
    const app = await startAppProcess(
      { ...CLEAN, NODE_ENV: 'development' },
      { startTimeoutMs: 100_000 },
    );
    try {
      const warning = await app.waitForLine((line) => line.includes('JWT_SECRET is not set'));
      expect(JSON.parse(warning)).toMatchObject({ level: 40 });
    } finally {
      app.kill('SIGKILL');
      await app.exited;
    }
  });
});
