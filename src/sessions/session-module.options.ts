import type { ModuleMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { Clock } from '../common/clock';
import { type ConnectionInfo, getConnectionInfo } from './connection-info';
import type { TokenResponse } from './dto/token-response.dto';
import { bearerToken } from './guards/bearer-token';
import type { WaterfallHook } from './hooks';
import type { AuthContext } from './session-context';

/** The options exactly as the host passed them (forRoot's argument or forRootAsync's result). */
export const SESSION_MODULE_OPTIONS = Symbol('SESSION_MODULE_OPTIONS');
/** The options with defaults applied and checked: what the module's own code reads. */
export const SESSION_SETTINGS = Symbol('SESSION_SETTINGS');

/** What `onUpsertSessionError` hooks learn about the failed write. */
export interface UpsertSessionErrorContext {
  operation: 'login' | 'refresh' | 'reauth' | 'password';
  request: Request;
}

export interface SessionHooks {
  /** After the session check on every protected request; the result becomes `request.auth`. Do not mutate the input: it may be the cached context. */
  onRequest?: WaterfallHook<AuthContext, Request>[];
  /** Before login, refresh and reauth answer; the result is the response body. */
  onRefreshTokens?: WaterfallHook<TokenResponse, Request>[];
  /** When creating or updating a session fails; the result is what gets thrown. */
  onUpsertSessionError?: WaterfallHook<unknown, UpsertSessionErrorContext>[];
}

/** Whether the session cache follows database changes (see `SessionModuleOptions.cache.watch`). */
export type CacheWatchMode = 'auto' | boolean;

/** Where login, refresh and reauth put the tokens, and where the guard looks for them. */
export type TokenTransportMode = 'header' | 'cookie' | 'both';

/** The cookies of the `cookie` and `both` transports (see docs/security.md for the flags). */
export interface CookieOptions {
  /**
   * Send the cookies with `Secure` (HTTPS only). Default true; turn it off only for plain-HTTP
   * development. With it, the names get the `__Host-`/`__Secure-` prefixes, which a browser only
   * accepts from a secure origin without a Domain (no sibling subdomain can plant them).
   */
  secure?: boolean;
  /** SameSite of the access and CSRF cookies: `lax` (default) or `strict`. The refresh cookie is always `strict`. */
  sameSite?: 'lax' | 'strict';
  /**
   * The Path of the refresh and device cookies: where POST /auth/refresh and POST /auth/login
   * are served. Default `/auth`.
   */
  refreshPath?: string;
}

/** A secret, or a list of them: the first signs, every one verifies (rotation). */
export type TokenSecrets = string | readonly string[];

/**
 * Every setting of `SessionModule`. All are optional except a way to get the token secret
 * (`secrets` or `getTokenSecret`). The module never reads environment variables: an app maps
 * its own configuration onto these (this repository's AppModule maps env variables).
 */
export interface SessionModuleOptions {
  /**
   * Access-token signing secrets: the first signs, every one verifies, so a new secret can be
   * put first while tokens signed with the old one stay valid until they expire. Each must be
   * a non-empty string; choose at least 32 random characters.
   */
  secrets?: TokenSecrets;
  /**
   * The secret(s) for one request (e.g. per tenant), instead of `secrets`. The first signs,
   * every one verifies. Called on every protected request: keep it cheap.
   */
  getTokenSecret?: (request: Request) => TokenSecrets | Promise<TokenSecrets>;
  /** Access-token lifetime in seconds. Default 900. */
  accessTokenTtlSeconds?: number;
  /**
   * `iss` and `aud` of the access tokens, the only ones accepted; and how far ahead of this
   * server's clock a token's `iat` may be. Defaults: 'nest-sessions', 'nest-sessions', 30.
   */
  tokenClaims?: { issuer?: string; audience?: string; clockSkewSeconds?: number };
  /** A session unused this long expires (`idle_timeout`). Default 1800. */
  idleTimeoutSeconds?: number;
  /** No session lives longer than this (`absolute_timeout`); at least the idle timeout. Default 604800 (7 days). */
  absoluteTimeoutSeconds?: number;
  /**
   * A just-rotated refresh token presented again within this many seconds answers with the
   * same new pair (concurrent tabs); later it revokes the session as reuse. 0 disables the
   * grace. Default 10.
   */
  refreshReuseGraceSeconds?: number;
  /** More live sessions per user than this expires the oldest (`evicted`); 0 means no limit. Default 100. */
  maxSessionsPerUser?: number;
  /** How long expired and ended sessions are kept before a sweep deletes them. Default 2592000 (30 days). */
  retentionSeconds?: number;
  /**
   * How recent a session's password proof (`authenticatedAt`) must be on `@RequireRecentAuth()`
   * routes that name no age of their own, in seconds. Default 900.
   */
  recentAuthMaxAgeSeconds?: number;
  /** `lastSeenAt` is written at most this often per session (and at least twice per idle timeout). Default 60. */
  lastSeenWriteIntervalSeconds?: number;
  /**
   * The in-process cache of live sessions that spares the per-request database read. `ttlMs`
   * bounds how long another instance may still honour a session ended elsewhere (0 turns the
   * cache off); `maxEntries` bounds its memory. Defaults: 5000 ms, 100000 entries.
   *
   * `watch`: follow the sessions and users collections through change streams, so that a
   * session ended, expired or changed by any instance (or a user changed or removed) leaves
   * this instance's cache at once instead of after `ttlMs`. `'auto'` (default) watches when the
   * database supports change streams (a replica set or sharded cluster) and otherwise logs
   * once and relies on `ttlMs`; `true` refuses to start without them; `false` never watches.
   */
  cache?: { ttlMs?: number; maxEntries?: number; watch?: CacheWatchMode };
  /** Login and reauth attempts allowed per client IP and username per window. Defaults: 10 per 60 s. */
  loginRateLimit?: {
    /** Attempts per window per client IP and username. Default 10. */
    limit?: number;
    /** Attempts per window per client IP, whatever the username (password spraying). Default 50. */
    ipLimit?: number;
    windowSeconds?: number;
  };
  /**
   * Bearer tokens that are not ours (bad signature, unknown key, garbage) allowed per client IP
   * per window; past it the IP is refused with 429 RATE_LIMITED for a window, and its tokens
   * are not even verified unless this instance issued or verified them before. Expired or
   * otherwise refused tokens we signed never count: clients send those in normal use. `limit`
   * 0 turns it off. Defaults: 30 per 60 s.
   */
  badTokenRateLimit?: { limit?: number; windowSeconds?: number };
  /**
   * argon2id cost (OWASP minimum, the default: 19456 KiB, 2 iterations, parallelism 1; lower
   * only in tests), and how many verifications may run at once (`concurrency`, default 4:
   * libuv's thread pool) and wait per lane (`queue`, default 8); beyond that a login is refused
   * at once with 429 RATE_LIMITED instead of queueing behind a flood. Trusted devices and
   * signed-in callers have a lane of their own that goes first (see `trustedDevices`).
   */
  passwordHashing?: {
    memoryCostKib?: number;
    timeCost?: number;
    parallelism?: number;
    concurrency?: number;
    queue?: number;
  };
  /**
   * A successful password login hands the device a token (`X-Device-Token` response header, and
   * a cookie in the cookie modes) that vouches for that username on that device for
   * `maxAgeSeconds` (default 180 days; 0: off). A later login presenting it, by the same
   * header or cookie, is checked in the trusted hashing lane, ahead of a junk-login flood
   * (OWASP's "device cookies"). It bypasses no rate limit and proves nothing by itself.
   */
  trustedDevices?: { maxAgeSeconds?: number };
  /** Created with the `admin` role at start-up unless a user of that name exists. */
  initialAdmin?: { username: string; password: string };
  /**
   * The client's IP and user agent as recorded on a session and used as the rate-limit key.
   * The default reads Express's `req.ip`, so the host's `trust proxy` setting decides whether
   * `X-Forwarded-For` counts.
   */
  connectionInfo?: (request: Request) => ConnectionInfo;
  /**
   * Where tokens travel. `tokens`: `header` (default: JSON bodies and `Authorization: Bearer`),
   * `cookie` (HttpOnly cookies with a CSRF check; tokens left out of JSON bodies) or `both`.
   * `accessToken` reads a header token your own way (default: the bearer header); it is always
   * looked at first, and a token found there is never CSRF-checked.
   */
  transport?: {
    tokens?: TokenTransportMode;
    accessToken?: (request: Request) => string | null;
    cookies?: CookieOptions;
  };
  hooks?: SessionHooks;
  /** The module's notion of now (timeouts, token expiry); pass a manual clock in tests. */
  clock?: Clock;
}

export interface SessionModuleStaticOptions {
  /**
   * Register SessionGuard, RolesGuard and GroupsGuard as global guards (deny by default).
   * Default true; with false, apply them yourself with
   * `@UseGuards(SessionGuard, RolesGuard, GroupsGuard)` (in that order) and, where
   * `@SessionData()` is used, `@UseInterceptors(SessionDataInterceptor)`.
   */
  globalGuards?: boolean;
}

export interface SessionModuleAsyncOptions
  extends SessionModuleStaticOptions, Pick<ModuleMetadata, 'imports'> {
  inject?: unknown[];
  useFactory: (...args: never[]) => SessionModuleOptions | Promise<SessionModuleOptions>;
}

/** The options after defaults and checks; what the module's services read. */
export interface SessionSettings {
  /** Secrets for a request: the first signs, all verify. */
  secretsFor: (request: Request) => readonly string[] | Promise<readonly string[]>;
  accessTokenTtlSeconds: number;
  tokenClaims: { issuer: string; audience: string; clockSkewSeconds: number };
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  refreshReuseGraceSeconds: number;
  maxSessionsPerUser: number;
  retentionSeconds: number;
  recentAuthMaxAgeSeconds: number;
  lastSeenWriteIntervalSeconds: number;
  cache: { ttlMs: number; maxEntries: number; watch: CacheWatchMode };
  loginRateLimit: { limit: number; ipLimit: number; windowSeconds: number };
  badTokenRateLimit: { limit: number; windowSeconds: number };
  passwordHashing: {
    memoryCostKib: number;
    timeCost: number;
    parallelism: number;
    concurrency: number;
    queue: number;
  };
  trustedDevices: { maxAgeSeconds: number };
  initialAdmin: { username: string; password: string } | null;
  connectionInfo: (request: Request) => ConnectionInfo;
  accessToken: (request: Request) => string | null;
  transport: {
    mode: TokenTransportMode;
    cookies: {
      secure: boolean;
      sameSite: 'lax' | 'strict';
      refreshPath: string;
      names: CookieNames;
    };
  };
  hooks: SessionHooks;
  clock: Clock;
}

export const SESSION_DEFAULTS = {
  accessTokenTtlSeconds: 900,
  idleTimeoutSeconds: 1800,
  absoluteTimeoutSeconds: 604800,
  refreshReuseGraceSeconds: 10,
  maxSessionsPerUser: 100,
  retentionSeconds: 2592000,
  recentAuthMaxAgeSeconds: 900,
  lastSeenWriteIntervalSeconds: 60,
  cacheTtlMs: 5000,
  cacheMaxEntries: 100_000,
  cacheWatch: 'auto' as CacheWatchMode,
  loginRateLimit: 10,
  loginIpRateLimit: 50,
  loginRateWindowSeconds: 60,
  badTokenRateLimit: 30,
  badTokenRateWindowSeconds: 60,
  memoryCostKib: 19456,
  timeCost: 2,
  parallelism: 1,
  hashConcurrency: 4,
  hashQueue: 8,
  trustedDeviceMaxAgeSeconds: 180 * 24 * 3600,
} as const;

interface CookieNames {
  access: string;
  refresh: string;
  csrf: string;
  device: string;
}

/**
 * `__Host-` (Secure, Path=/, no Domain) and `__Secure-` are only accepted by browsers over
 * HTTPS, so plain-HTTP development gets the bare names.
 */
function cookieNames(secure: boolean): CookieNames {
  return secure
    ? {
        access: '__Host-access_token',
        refresh: '__Secure-refresh_token',
        csrf: '__Host-csrf_token',
        // Scoped to the auth routes like the refresh cookie, which `__Host-` (Path=/) forbids.
        device: '__Secure-device_token',
      }
    : {
        access: 'access_token',
        refresh: 'refresh_token',
        csrf: 'csrf_token',
        device: 'device_token',
      };
}

function secretList(value: TokenSecrets): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/**
 * Applies defaults and checks every option, throwing one error that names each bad one: a
 * misconfigured module stops the app at start-up rather than misbehaving later.
 */
export function resolveSessionOptions(options: SessionModuleOptions = {}): SessionSettings {
  const problems: string[] = [];
  const int = (name: string, value: number | undefined, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min) {
      problems.push(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(value)})`);
    }
    return v;
  };
  const fn = (name: string, value: unknown) => {
    if (value !== undefined && typeof value !== 'function')
      problems.push(`${name} must be a function`);
  };
  const d = SESSION_DEFAULTS;

  if (options.secrets === undefined && options.getTokenSecret === undefined) {
    problems.push('secrets (or getTokenSecret) is required');
  }
  let secrets: readonly string[] = [];
  if (options.secrets !== undefined) {
    secrets = secretList(options.secrets);
    if (
      !Array.isArray(secrets) ||
      secrets.length === 0 ||
      !secrets.every((s) => typeof s === 'string' && s.length > 0)
    ) {
      problems.push('secrets must be a non-empty string or a non-empty list of them');
    }
  }
  fn('getTokenSecret', options.getTokenSecret);
  fn('connectionInfo', options.connectionInfo);
  fn('transport.accessToken', options.transport?.accessToken);
  const mode = options.transport?.tokens ?? 'header';
  if (!['header', 'cookie', 'both'].includes(mode)) {
    problems.push(`transport.tokens must be header, cookie or both (got ${JSON.stringify(mode)})`);
  }
  const cookieOptions = options.transport?.cookies ?? {};
  const secure = cookieOptions.secure ?? true;
  if (typeof secure !== 'boolean') problems.push('transport.cookies.secure must be a boolean');
  const sameSite = cookieOptions.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict') {
    problems.push('transport.cookies.sameSite must be lax or strict');
  }
  const refreshPath = cookieOptions.refreshPath ?? '/auth';
  if (typeof refreshPath !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(refreshPath)) {
    problems.push('transport.cookies.refreshPath must be a path starting with /');
  }

  const idle = int('idleTimeoutSeconds', options.idleTimeoutSeconds, d.idleTimeoutSeconds, 1);
  const absolute = int(
    'absoluteTimeoutSeconds',
    options.absoluteTimeoutSeconds,
    d.absoluteTimeoutSeconds,
    1,
  );
  if (absolute < idle)
    problems.push('absoluteTimeoutSeconds must not be shorter than idleTimeoutSeconds');

  const admin = options.initialAdmin;
  if (
    admin !== undefined &&
    (typeof admin?.username !== 'string' ||
      typeof admin.password !== 'string' ||
      !admin.username ||
      !admin.password)
  ) {
    problems.push('initialAdmin needs a non-empty username and password');
  }
  for (const [name, hooks] of Object.entries(options.hooks ?? {})) {
    if (
      hooks !== undefined &&
      (!Array.isArray(hooks) || !hooks.every((h) => typeof h === 'function'))
    ) {
      problems.push(`hooks.${name} must be a list of functions`);
    }
  }
  const watch = options.cache?.watch;
  if (watch !== undefined && watch !== 'auto' && typeof watch !== 'boolean') {
    problems.push(`cache.watch must be 'auto', true or false (got ${JSON.stringify(watch)})`);
  }
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    problems.push('clock must be a Clock (now() and nowMs())');
  }

  const getTokenSecret = options.getTokenSecret;
  const settings: SessionSettings = {
    secretsFor: getTokenSecret
      ? (request) => {
          const got = getTokenSecret(request);
          return got instanceof Promise ? got.then(secretList) : secretList(got);
        }
      : () => secrets,
    accessTokenTtlSeconds: int(
      'accessTokenTtlSeconds',
      options.accessTokenTtlSeconds,
      d.accessTokenTtlSeconds,
      1,
    ),
    idleTimeoutSeconds: idle,
    absoluteTimeoutSeconds: absolute,
    refreshReuseGraceSeconds: int(
      'refreshReuseGraceSeconds',
      options.refreshReuseGraceSeconds,
      d.refreshReuseGraceSeconds,
      0,
    ),
    maxSessionsPerUser: int(
      'maxSessionsPerUser',
      options.maxSessionsPerUser,
      d.maxSessionsPerUser,
      0,
    ),
    retentionSeconds: int('retentionSeconds', options.retentionSeconds, d.retentionSeconds, 0),
    recentAuthMaxAgeSeconds: int(
      'recentAuthMaxAgeSeconds',
      options.recentAuthMaxAgeSeconds,
      d.recentAuthMaxAgeSeconds,
      0,
    ),
    lastSeenWriteIntervalSeconds: int(
      'lastSeenWriteIntervalSeconds',
      options.lastSeenWriteIntervalSeconds,
      d.lastSeenWriteIntervalSeconds,
      1,
    ),
    cache: {
      ttlMs: int('cache.ttlMs', options.cache?.ttlMs, d.cacheTtlMs, 0),
      maxEntries: int('cache.maxEntries', options.cache?.maxEntries, d.cacheMaxEntries, 1),
      watch: options.cache?.watch ?? d.cacheWatch,
    },
    loginRateLimit: {
      limit: int('loginRateLimit.limit', options.loginRateLimit?.limit, d.loginRateLimit, 1),
      ipLimit: int(
        'loginRateLimit.ipLimit',
        options.loginRateLimit?.ipLimit,
        d.loginIpRateLimit,
        1,
      ),
      windowSeconds: int(
        'loginRateLimit.windowSeconds',
        options.loginRateLimit?.windowSeconds,
        d.loginRateWindowSeconds,
        1,
      ),
    },
    badTokenRateLimit: {
      limit: int(
        'badTokenRateLimit.limit',
        options.badTokenRateLimit?.limit,
        d.badTokenRateLimit,
        0,
      ),
      windowSeconds: int(
        'badTokenRateLimit.windowSeconds',
        options.badTokenRateLimit?.windowSeconds,
        d.badTokenRateWindowSeconds,
        1,
      ),
    },
    passwordHashing: {
      memoryCostKib: int(
        'passwordHashing.memoryCostKib',
        options.passwordHashing?.memoryCostKib,
        d.memoryCostKib,
        1024,
      ),
      timeCost: int('passwordHashing.timeCost', options.passwordHashing?.timeCost, d.timeCost, 1),
      parallelism: int(
        'passwordHashing.parallelism',
        options.passwordHashing?.parallelism,
        d.parallelism,
        1,
      ),
      concurrency: int(
        'passwordHashing.concurrency',
        options.passwordHashing?.concurrency,
        d.hashConcurrency,
        1,
      ),
      queue: int('passwordHashing.queue', options.passwordHashing?.queue, d.hashQueue, 0),
    },
    trustedDevices: {
      maxAgeSeconds: int(
        'trustedDevices.maxAgeSeconds',
        options.trustedDevices?.maxAgeSeconds,
        d.trustedDeviceMaxAgeSeconds,
        0,
      ),
    },
    initialAdmin: admin ? { username: admin.username, password: admin.password } : null,
    tokenClaims: {
      issuer: options.tokenClaims?.issuer ?? 'nest-sessions',
      audience: options.tokenClaims?.audience ?? 'nest-sessions',
      clockSkewSeconds: int(
        'tokenClaims.clockSkewSeconds',
        options.tokenClaims?.clockSkewSeconds,
        30,
        0,
      ),
    },
    connectionInfo: options.connectionInfo ?? getConnectionInfo,
    accessToken: options.transport?.accessToken ?? bearerToken,
    transport: {
      mode,
      cookies: { secure, sameSite, refreshPath, names: cookieNames(secure) },
    },
    hooks: options.hooks ?? {},
    clock: options.clock ?? new Clock(),
  };
  if (problems.length) {
    throw new Error(`Invalid SessionModule options:\n  ${problems.join('\n  ')}`);
  }
  return settings;
}
