import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsUrl,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import bytes from 'bytes';
import { CronTime } from 'cron';
import {
  guessesLog10,
  MIN_PRODUCTION_ADMIN_PASSWORD_GUESSES_LOG10,
  passwordPolicyViolation,
  secretListProblems,
  secretWeakness,
  splitSecrets,
} from './secrets';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** An integer variable within [min, max] (no upper bound without `max`), read from its text. */
function IntRange(min: number, max?: number): PropertyDecorator {
  return (target, key) => {
    Transform(toInt)(target, key);
    IsInt()(target, key);
    Min(min)(target, key);
    if (max !== undefined) Max(max)(target, key);
  };
}

/**
 * Every variable the service reads, with its type and bounds. Validation runs once at start-up
 * so that a bad value stops the process with a message naming the variable, instead of
 * surfacing later as odd behaviour.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IntRange(0, 65535)
  PORT = 3000;

  @IsOptional()
  @IsString()
  MONGODB_URI?: string;

  /** Without MONGODB_URI: the directory that makes the embedded engine's data durable; production refuses the engine without it. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  EMBEDDED_MONGO_DATA_DIR?: string;

  /** Without MONGODB_URI: run the embedded engine as a one-member replica set of this name (change streams). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  EMBEDDED_MONGO_REPLICA_SET?: string;

  /** Checked in validateEnv (secretListProblems), which never prints the value. */
  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  ADMIN_USERNAME?: string;

  /** Checked in validateEnv (passwordPolicyViolation), which never prints the value. */
  @IsOptional()
  @IsString()
  ADMIN_PASSWORD?: string;

  @IntRange(1)
  ACCESS_TOKEN_TTL_SECONDS = 900;

  @IntRange(1)
  SESSION_IDLE_TIMEOUT_SECONDS = 1800;

  @IntRange(1)
  SESSION_ABSOLUTE_TIMEOUT_SECONDS = 604800;

  @IntRange(0)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  @IntRange(0)
  SESSION_MAX_PER_USER = 100;

  @IntRange(0)
  SESSION_RETENTION_SECONDS = 2592000;

  /** How long a live session may be answered from this instance's memory. */
  @IntRange(0)
  SESSION_CACHE_TTL_MS = 5000;

  /**
   * Follow session and user changes through change streams so that revocation by any
   * instance empties this one's cache at once: `auto` where the database supports them.
   */
  @IsIn(['auto', 'true', 'false'])
  SESSION_CACHE_WATCH: 'auto' | 'true' | 'false' = 'auto';

  @IsString()
  SWEEP_CRON = '0 * * * * *';

  @IntRange(1, 100000)
  SWEEP_BATCH_SIZE = 1000;

  /** `false` leaves the schedule off on this instance (`npm run sweep` still works). */
  @IsIn(['true', 'false'])
  SWEEP_ENABLED: 'true' | 'false' = 'true';

  @IsOptional()
  @IsString()
  PEER_HOSTS = '';

  /** Checked in validateEnv (secretListProblems), which never prints the value. */
  @IsOptional()
  @IsString()
  PEER_SECRET?: string;

  /** Comma-separated origins (`scheme://host[:port]`) under which peers reach this instance. */
  @IsOptional()
  @IsString()
  PEER_SELF = '';

  @IntRange(1)
  PEER_TIMEOUT_MS = 3000;

  @IsString()
  TRUST_PROXY = 'false';

  @IntRange(1)
  LOGIN_RATE_LIMIT = 10;

  /** Session events are POSTed here (signed with WEBHOOK_SECRET); unset: no webhook. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  WEBHOOK_URL?: string;

  /** Signs webhook deliveries like remote calls; 32+ characters (checked in validateEnv). */
  @IsOptional()
  @IsString()
  WEBHOOK_SECRET?: string;

  /** One webhook delivery attempt may take this long. */
  @IntRange(100, 120000)
  WEBHOOK_TIMEOUT_MS = 5000;

  /** The first webhook retry waits about this long; each later one twice as long (to 1 h). */
  @IntRange(10, 3600000)
  WEBHOOK_RETRY_BASE_MS = 1000;

  /** Failed attempts after which an event is kept as failed and not retried. */
  @IntRange(1, 1000)
  WEBHOOK_MAX_ATTEMPTS = 20;

  /** How often the delivery worker looks for due events when nothing wakes it. */
  @IntRange(10, 600000)
  WEBHOOK_POLL_MS = 1000;

  /** How recent an admin's password proof must be to change users (@RequireRecentAuth). */
  @IntRange(0, 31536000)
  ADMIN_REAUTH_MAX_AGE_SECONDS = 900;

  /** Login attempts per minute per IP, whatever the username (password spraying). */
  @IntRange(1)
  LOGIN_IP_RATE_LIMIT = 50;

  /**
   * Bearer tokens we did not sign (forged, garbage) per minute per IP; past it the IP gets 429
   * for a minute. Expired tokens of ours never count. 0 turns the limit off.
   */
  @IntRange(0)
  BAD_TOKEN_IP_RATE_LIMIT = 30;

  /** argon2id memory cost in KiB (OWASP minimum 19456). Lower only for tests. */
  @IntRange(1024, 4194304)
  PASSWORD_HASH_MEMORY_KIB = 19456;

  /** argon2id iterations (OWASP minimum 2 at 19 MiB). */
  @IntRange(1, 100)
  PASSWORD_HASH_TIME_COST = 2;

  /** argon2 calls at once (libuv's pool has 4 threads by default, shared with file I/O). */
  @IntRange(1, 64)
  PASSWORD_HASH_CONCURRENCY = 4;

  /** argon2 calls that may wait for a slot; beyond, logins are refused at once with 429. */
  @IntRange(0, 10000)
  PASSWORD_HASH_QUEUE = 8;

  /**
   * How long a device that signed a user in stays trusted for that user's next login (its
   * password check goes ahead of a login flood); 0 turns trusted devices off. 180 days.
   */
  @IntRange(0, 10 * 365 * 24 * 3600)
  TRUSTED_DEVICE_MAX_AGE_SECONDS = 180 * 24 * 3600;

  /** Where tokens travel: headers and JSON bodies, HttpOnly cookies with CSRF, or both. */
  @IsIn(['header', 'cookie', 'both'])
  TOKEN_TRANSPORT: 'header' | 'cookie' | 'both' = 'header';

  @IsOptional()
  @IsString()
  CORS_ORIGINS = '';

  @IsString()
  BODY_LIMIT = '100kb';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** The Nest HTTP adapter (docs/operations.md says why the default is what it is). */
  @IsIn(['express', 'fastify'])
  HTTP_PLATFORM: HttpPlatform = 'fastify';
}

export type HttpPlatform = 'express' | 'fastify';

function describe(errors: ValidationError[]): string {
  return errors
    .map(
      (e) =>
        `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    )
    .join('\n  ');
}

/**
 * The secret and credential rules (docs/security.md): a weak or missing secret, a bootstrap
 * admin password outside the policy, or an unauthenticated in-memory database in production
 * stop the service at start instead of running insecurely.
 */
function securityProblems(env: EnvironmentVariables): string[] {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';

  const jwtSecrets = splitSecrets(env.JWT_SECRET);
  if (jwtSecrets.length) {
    problems.push(...secretListProblems('JWT_SECRET', jwtSecrets, { entropy: true }));
  } else if (env.JWT_SECRET !== undefined) {
    problems.push('JWT_SECRET: set but empty; ' + 'unset it or give at least one secret');
  } else if (production) {
    problems.push(
      'JWT_SECRET: required in production (32+ random characters; generate one with `openssl rand -base64 32`)',
    );
  } else if (env.MONGODB_URI) {
    problems.push(
      'JWT_SECRET: required when MONGODB_URI is set: every instance on one database must sign and verify with the same secret (generate one with `openssl rand -base64 32`)',
    );
  }

  if (env.PEER_SECRET !== undefined) {
    const peerSecrets = splitSecrets(env.PEER_SECRET);
    if (!peerSecrets.length) problems.push('PEER_SECRET: set but empty');
    problems.push(...secretListProblems('PEER_SECRET', peerSecrets, { entropy: false }));
  }

  if (env.WEBHOOK_URL !== undefined) {
    // One secret (a webhook receiver checks one), with PEER_SECRET's rules.
    if (!env.WEBHOOK_SECRET) {
      problems.push('WEBHOOK_SECRET: required with WEBHOOK_URL (deliveries are signed with it)');
    } else {
      const why = secretWeakness(env.WEBHOOK_SECRET, { entropy: false });
      if (why) problems.push(`WEBHOOK_SECRET: ${why}`);
    }
  } else if (env.WEBHOOK_SECRET !== undefined) {
    problems.push('WEBHOOK_SECRET: set without WEBHOOK_URL');
  }

  if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    problems.push(
      'ADMIN_USERNAME/ADMIN_PASSWORD: set both (to create the bootstrap admin) or neither',
    );
  } else if (env.ADMIN_USERNAME !== undefined && env.ADMIN_PASSWORD !== undefined) {
    const violation = passwordPolicyViolation(env.ADMIN_PASSWORD, env.ADMIN_USERNAME);
    if (violation) {
      problems.push(`ADMIN_PASSWORD: the bootstrap admin's password ${violation}`);
    } else if (
      production &&
      guessesLog10(env.ADMIN_PASSWORD, [env.ADMIN_USERNAME]) <
        MIN_PRODUCTION_ADMIN_PASSWORD_GUESSES_LOG10
    ) {
      problems.push(
        `ADMIN_PASSWORD: too easy to guess for the bootstrap admin in production (at least 10^${MIN_PRODUCTION_ADMIN_PASSWORD_GUESSES_LOG10} guesses by zxcvbn's estimate)`,
      );
    }
  }

  if (production && !env.MONGODB_URI && !env.EMBEDDED_MONGO_DATA_DIR) {
    problems.push(
      'MONGODB_URI: required in production, or EMBEDDED_MONGO_DATA_DIR for the embedded engine: without either, production would keep every session in the memory of one process, behind a port with no authentication',
    );
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Validates and types `process.env`; throws with every offending variable named. */
export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  const problems: string[] = errors.length ? [describe(errors)] : [];

  try {
    new CronTime(env.SWEEP_CRON);
  } catch {
    problems.push(`SWEEP_CRON=${JSON.stringify(env.SWEEP_CRON)}: not a valid cron expression`);
  }
  if (env.SESSION_ABSOLUTE_TIMEOUT_SECONDS < env.SESSION_IDLE_TIMEOUT_SECONDS) {
    problems.push(
      'SESSION_ABSOLUTE_TIMEOUT_SECONDS must not be shorter than SESSION_IDLE_TIMEOUT_SECONDS',
    );
  }
  problems.push(...securityProblems(env));
  for (const [name, value] of [
    ['PEER_SELF', env.PEER_SELF],
    ['PEER_HOSTS', env.PEER_HOSTS],
  ] as const) {
    for (const entry of (value ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (!isHttpUrl(entry)) {
        problems.push(`${name}: ${JSON.stringify(entry)} is not an http(s) origin`);
      }
    }
  }
  if (env.NODE_ENV === 'production' && env.TRUST_PROXY.trim().toLowerCase() === 'true') {
    problems.push(
      'TRUST_PROXY=true: every client could choose its own IP (and rate-limit key) with X-Forwarded-For; ' +
        "in production give the number of proxy hops (e.g. 1) or the proxies' addresses or subnets (e.g. 10.0.0.0/8,loopback)",
    );
  }
  const bodyLimit = bytes.parse(env.BODY_LIMIT);
  if (bodyLimit === null || !(bodyLimit > 0)) {
    problems.push(`BODY_LIMIT=${JSON.stringify(env.BODY_LIMIT)}: not a size (e.g. 100kb, 1mb)`);
  }
  if (env.NODE_ENV === 'production') {
    if (env.PASSWORD_HASH_MEMORY_KIB < 19456 || env.PASSWORD_HASH_TIME_COST < 2) {
      problems.push(
        'PASSWORD_HASH_MEMORY_KIB/PASSWORD_HASH_TIME_COST: in production at least 19456 KiB and 2 iterations are required',
      );
    }
  }
  if (problems.length) {
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return env;
}

/** The validated environment; cheap enough to call from each config factory at start-up. */
export function env(): EnvironmentVariables {
  return validateEnv(process.env);
}
