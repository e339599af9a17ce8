import { randomBytes } from 'node:crypto';
import { ConfigType, registerAs } from '@nestjs/config';
import bytes from 'bytes';
import { env } from './env.validation';
import { splitSecrets } from './secrets';

function parseTrustProxy(value: string): boolean | number | string {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return value.trim();
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * `scheme://host[:port]`, lowercase, default port dropped: how a remote call's audience is
 * written on both sides (the distributor applies the same to PEER_HOSTS entries).
 */
const origin = (url: string) => new URL(url).origin.toLowerCase();

// A development secret must survive for the life of the process only, so it is made once here
// rather than in the factory (which Nest may call more than once, e.g. in tests).
const developmentSecret = randomBytes(32).toString('hex');
// Likewise the first admin's password of a bare `npm start` (see authConfig).
const generatedAdminPassword = randomBytes(18).toString('base64url');

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    corsOrigins: list(e.CORS_ORIGINS),
    bodyLimit: e.BODY_LIMIT,
    /** BODY_LIMIT in bytes (validated to parse), for Fastify, which takes a number. */
    bodyLimitBytes: bytes.parse(e.BODY_LIMIT)!,
    logLevel: e.LOG_LEVEL,
    httpPlatform: e.HTTP_PLATFORM,
  };
});

export const databaseConfig = registerAs('database', () => ({
  uri: env().MONGODB_URI,
  /** Without a URI: where the embedded engine keeps its data (in memory only when unset). */
  embeddedDataDir: env().EMBEDDED_MONGO_DATA_DIR,
  /** Without a URI: the embedded engine answers as a one-member replica set of this name. */
  embeddedReplicaSet: env().EMBEDDED_MONGO_REPLICA_SET,
}));

/** `iss` and `aud` of every access token this service signs, and the only ones it accepts. */
export const TOKEN_ISSUER = 'nest-sessions';
export const TOKEN_AUDIENCE = 'nest-sessions';

export const authConfig = registerAs('auth', () => {
  const e = env();
  const configured = splitSecrets(e.JWT_SECRET);
  // validateEnv refused every case where generating one is wrong (production, MONGODB_URI set).
  const jwtSecrets = configured.length ? configured : [developmentSecret];
  // A bare `npm start` (development, the embedded engine in memory, no ADMIN_*) starts with an
  // empty database every time, so nobody could sign in: an admin with a generated password is
  // created then, and main.ts prints it in the log.
  const firstSignIn =
    e.NODE_ENV === 'development' &&
    !e.MONGODB_URI &&
    !e.EMBEDDED_MONGO_DATA_DIR &&
    e.ADMIN_USERNAME === undefined &&
    e.ADMIN_PASSWORD === undefined;
  return {
    /** The signing secret: the first of JWT_SECRET's list. */
    jwtSecret: jwtSecrets[0],
    /** Every secret that verifies (rotation), the signing one first. */
    jwtSecrets,
    jwtSecretGenerated: configured.length === 0,
    tokenIssuer: TOKEN_ISSUER,
    tokenAudience: TOKEN_AUDIENCE,
    /** How far in the future a token's `iat` may be (clocks of several instances disagree). */
    clockSkewSeconds: 30,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    loginIpRateLimit: e.LOGIN_IP_RATE_LIMIT,
    /** How recent an admin's password proof must be to change users. */
    adminReauthMaxAgeSeconds: e.ADMIN_REAUTH_MAX_AGE_SECONDS,
    tokenTransport: e.TOKEN_TRANSPORT,
    /** Cookies are Secure (HTTPS only, `__Host-` names) in production; plain HTTP elsewhere. */
    secureCookies: e.NODE_ENV === 'production',
    badTokenIpRateLimit: e.BAD_TOKEN_IP_RATE_LIMIT,
    adminUsername: firstSignIn ? 'admin' : e.ADMIN_USERNAME,
    adminPassword: firstSignIn ? generatedAdminPassword : e.ADMIN_PASSWORD,
    adminPasswordGenerated: firstSignIn,
    passwordHash: {
      memoryCost: e.PASSWORD_HASH_MEMORY_KIB,
      timeCost: e.PASSWORD_HASH_TIME_COST,
      parallelism: 1,
      /** argon2 calls running at once, and waiting beyond those; more is refused (429). */
      concurrency: e.PASSWORD_HASH_CONCURRENCY,
      queue: e.PASSWORD_HASH_QUEUE,
    },
    trustedDeviceMaxAgeSeconds: e.TRUSTED_DEVICE_MAX_AGE_SECONDS,
  };
});

export const sessionConfig = registerAs('session', () => {
  const e = env();
  return {
    idleTimeoutSeconds: e.SESSION_IDLE_TIMEOUT_SECONDS,
    absoluteTimeoutSeconds: e.SESSION_ABSOLUTE_TIMEOUT_SECONDS,
    maxPerUser: e.SESSION_MAX_PER_USER,
    retentionSeconds: e.SESSION_RETENTION_SECONDS,
    cacheTtlMs: e.SESSION_CACHE_TTL_MS,
    cacheWatch:
      e.SESSION_CACHE_WATCH === 'auto' ? ('auto' as const) : e.SESSION_CACHE_WATCH === 'true',
    /** lastSeenAt is written at most this often per session, to keep reads off the write path. */
    lastSeenWriteIntervalSeconds: 60,
  };
});

export const peerConfig = registerAs('peer', () => {
  const e = env();
  const secrets = splitSecrets(e.PEER_SECRET);
  return {
    hosts: list(e.PEER_HOSTS).map((h) => h.replace(/\/+$/, '')),
    /** The first signs, every one verifies (rotation); empty: remote calls are refused. */
    secrets,
    /** The origins under which peers reach this instance: the audiences it accepts. */
    self: list(e.PEER_SELF).map(origin),
    timeoutMs: e.PEER_TIMEOUT_MS,
    maxClockSkewSeconds: 300,
  };
});

export const sweepConfig = registerAs('sweep', () => {
  const e = env();
  return {
    enabled: e.SWEEP_ENABLED === 'true',
    cron: e.SWEEP_CRON,
    batchSize: e.SWEEP_BATCH_SIZE,
    leaseSeconds: 300,
  };
});

export const webhookConfig = registerAs('webhook', () => {
  const e = env();
  return {
    /** Unset: no webhook (events still reach in-process @OnEvent listeners). */
    url: e.WEBHOOK_URL ?? null,
    secret: e.WEBHOOK_SECRET ?? null,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
    pollMs: e.WEBHOOK_POLL_MS,
  };
});

export type AppConfig = ConfigType<typeof appConfig>;
export type DatabaseConfig = ConfigType<typeof databaseConfig>;
export type AuthConfig = ConfigType<typeof authConfig>;
export type SessionConfig = ConfigType<typeof sessionConfig>;
export type PeerConfig = ConfigType<typeof peerConfig>;
export type SweepConfig = ConfigType<typeof sweepConfig>;
export type WebhookConfig = ConfigType<typeof webhookConfig>;

export const allConfigs = [
  appConfig,
  databaseConfig,
  authConfig,
  sessionConfig,
  peerConfig,
  sweepConfig,
  webhookConfig,
];
