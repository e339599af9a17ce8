import { Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HashingLane } from '../users/hashing-gate';
import { purposeMac } from './purpose-mac';
import { SESSION_SETTINGS, type SessionSettings } from './session-module.options';
import { TokenService } from './token.service';
import type { HeaderWritable } from './transport/set-cookie';
import { TokenTransport } from './transport/token-transport.service';

/** The throttler name of the trusted-lane counters (next to `login` and `login-ip`). */
const DEVICE_LANE = 'device-lane';

/** `<issued at, base36 seconds>.<43 base64url characters of HMAC-SHA256>` */
const TOKEN = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, username: string, issuedAt: string): Buffer {
  // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
  const message = `${username.length}:${username}:${issuedAt}`;
  return purposeMac(secret, 'nest-sessions/device/v1', message);
}

/**
 * Trusted devices (OWASP's "device cookies", issue 12 finding 2): a successful password login
 * gives the device a token bound to that username; a later login for the same username that
 * presents it is checked in the trusted hashing lane, so a flood of logins from anywhere else
 * cannot keep a returning user out.
 *
 * The server stores nothing: the token is an HMAC under the access-token secrets (the first
 * signs, all verify). A token only ever moves a login up the hashing queue. It skips no rate
 * limit and proves nothing about the password, and the lane is chosen before the user is looked
 * up, so it says nothing about whether a username exists.
 *
 * Each username gets the trusted lane at most `loginRateLimit.limit` times per rate-limit
 * window, counted in the module's throttler storage (MongoDB: shared by every instance), so
 * someone holding one account's token and many addresses (each with its own per-IP budget)
 * cannot crowd the lane the other returning users wait in.
 */
@Injectable()
export class DeviceTrust {
  constructor(
    private readonly tokens: TokenService,
    private readonly transport: TokenTransport,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
  ) {}

  private get maxAgeSeconds(): number {
    return this.settings.trustedDevices.maxAgeSeconds;
  }

  /** The hashing lane of a login for `username`: `trusted` when the request carries its token. */
  async laneFor(request: Request, username: string): Promise<HashingLane> {
    if (this.maxAgeSeconds === 0) return 'anyone';
    const token = this.transport.deviceToken(request);
    const parts = token === null ? null : TOKEN.exec(token);
    if (!parts) return 'anyone';
    const [, issuedAt, signature] = parts;
    const age = this.settings.clock.nowMs() / 1000 - parseInt(issuedAt, 36);
    if (!(age >= 0 && age < this.maxAgeSeconds)) return 'anyone';
    const given = Buffer.from(signature, 'base64url');
    const secrets = await this.tokens.secretsFor(request);
    const vouched = secrets.some((secret) =>
      timingSafeEqual(given, mac(secret, username, issuedAt)),
    );
    return vouched && (await this.spendTrustedUse(username)) ? 'trusted' : 'anyone';
  }

  /** Counts one trusted-lane login of `username`; false once its window's budget is spent. */
  private async spendTrustedUse(username: string): Promise<boolean> {
    const { limit, windowSeconds } = this.settings.loginRateLimit;
    const windowMs = windowSeconds * 1000;
    // Hashed: the counters' keys need not hold usernames.
    const key = createHash('sha256').update(`device-lane|${username}`).digest('hex');
    const record = await this.storage.increment(key, windowMs, limit, windowMs, DEVICE_LANE);
    return !record.isBlocked;
  }

  /** Gives the device of a successful login for `username` a fresh token (nothing when off). */
  async remember(request: Request, response: HeaderWritable, username: string): Promise<void> {
    if (this.maxAgeSeconds === 0) return;
    const [secret] = await this.tokens.secretsFor(request);
    const issuedAt = Math.floor(this.settings.clock.nowMs() / 1000).toString(36);
    const token = `${issuedAt}.${mac(secret, username, issuedAt).toString('base64url')}`;
    this.transport.rememberDevice(request, response, token, this.maxAgeSeconds);
  }
}
