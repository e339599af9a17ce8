import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { HashingGate, type HashingLane } from './hashing-gate';
import { USERS_OPTIONS, type UsersOptions } from './users.options';

/**
 * argon2id hashing with the configured cost; verification of unknown users costs the same.
 *
 * At most `concurrency` argon2 calls run at once (argon2 runs on libuv's thread pool, 4 threads
 * by default, shared with file and DNS work) and at most `queue` more wait per lane (see
 * HashingGate). Anything beyond is refused at once with 429 RATE_LIMITED: a flood of junk logins
 * gets fast refusals instead of growing a queue that every legitimate login waits behind (32
 * concurrent junk logins pushed a valid one from 55 ms to about a second, 128 to about five),
 * and trusted callers go ahead of it.
 */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash: string;
  private readonly gate: HashingGate;

  constructor(@Inject(USERS_OPTIONS) private readonly settings: UsersOptions) {
    const { concurrency, queue } = settings.passwordHashing;
    this.gate = new HashingGate(concurrency, queue);
  }

  async onModuleInit(): Promise<void> {
    // Verified against when the user does not exist, so that "no such user" takes as long as
    // "wrong password" and the answer time does not reveal which usernames exist.
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  /** A new hash. Only signed-in callers and start-up set passwords, so it takes the trusted lane. */
  hash(password: string): Promise<string> {
    const { memoryCostKib, timeCost, parallelism } = this.settings.passwordHashing;
    return this.gate.run('trusted', () =>
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
   * (429) before any hashing when `lane` is full: never a wrong-password answer. The lane must
   * not depend on whether the user exists, or a refusal would tell the two apart.
   */
  verify(
    hash: string | null | undefined,
    password: string,
    lane: HashingLane = 'anyone',
  ): Promise<boolean> {
    const target = hash ?? this.dummyHash;
    return this.gate.run(lane, async () => {
      try {
        return (await argon2.verify(target, password)) && hash != null;
      } catch {
        return false;
      }
    });
  }
}
