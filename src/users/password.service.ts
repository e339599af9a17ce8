import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { SESSION_SETTINGS, type SessionSettings } from '../sessions/session-module.options';

/** argon2id hashing with the configured cost; verification of unknown users costs the same. */
@Injectable()
export class PasswordService implements OnModuleInit {
  private dummyHash: string;

  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  async onModuleInit(): Promise<void> {
    // Verified against when the user does not exist, so that "no such user" takes as long as
    // "wrong password" and the answer time does not reveal which usernames exist.
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.settings.passwordHashing.memoryCostKib,
      timeCost: this.settings.passwordHashing.timeCost,
      parallelism: this.settings.passwordHashing.parallelism,
    });
  }

  /** Verifies `password` against `hash`, or against a dummy hash when there is none. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    try {
      const ok = await argon2.verify(hash ?? this.dummyHash, password);
      return ok && hash != null;
    } catch {
      return false;
    }
  }
}
