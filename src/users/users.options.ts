/** UsersModule's settings; SessionModule provides them from its own options. */
export const USERS_OPTIONS = Symbol('USERS_OPTIONS');

export interface UsersOptions {
  /** argon2id cost, and how many hashes may run and wait at once. */
  passwordHashing: {
    memoryCostKib: number;
    timeCost: number;
    parallelism: number;
    concurrency: number;
    queue: number;
  };
}
