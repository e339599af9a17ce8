import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { RateLimitedException } from '../common/api.exception';
import { USERS_OPTIONS, type UsersOptions } from './users.options';

/**
 * argon2id hashing with the configured cost; verification of unknown users costs the same.
 *
 * At most `concurrency` argon2 calls run at once (argon2 runs on libuv's thread pool, 4 threads
 * by default, shared with file and DNS work) and at most `queue` more wait. Anything beyond is
 * refused at once with 429 RATE_LIMITED: a flood of junk logins then gets fast refusals instead
 * of growing a queue that every legitimate login waits behind (32 concurrent junk logins pushed
 * a valid one from 55 ms to about a second, 128 to about five).
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash: string;
  private readonly slots: pLimit.Limit;

  constructor(@Inject(USERS_OPTIONS) private readonly settings: UsersOptions) {
    this.slots = pLimit(settings.passwordHashing.concurrency);
  }

  /** Runs one argon2 call in a slot, or refuses it when the slots and the queue are full. */
  private bounded<T>(work: () => Promise<T>): Promise<T> {
    const { concurrency, queue } = this.settings.passwordHashing;
    if (this.slots.activeCount + this.slots.pendingCount >= concurrency + queue) {
      return Promise.reject(
        new RateLimitedException(
          'Too many sign-ins are being checked right now; try again shortly',
          1,
        ),
      );
    }
    return this.slots(work);
  }

  async onModuleInit(): Promise<void> {
    // Verified against when the user does not exist, so that "no such user" takes as long as
    // "wrong password" and the answer time does not reveal which usernames exist.
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    const { memoryCostKib, timeCost, parallelism } = this.settings.passwordHashing;
    return this.bounded(() =>
      argon2.hash(password, {
        type: argon2.argon2id,
        memoryCost: memoryCostKib,
        timeCost,
        parallelism,
      }),
    );
  }

  /**
   * Verifies `password` against `hash`, or against a dummy hash when there is none. Refused
   * (429) before any hashing when the slots are full: never a wrong-password answer.
   */
  verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const target = hash ?? this.dummyHash;
    return this.bounded(async () => {
      try {
        return (await argon2.verify(target, password)) && hash != null;
      } catch {
        return false;
      }
    });
  }
}
