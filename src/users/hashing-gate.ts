import { RateLimitedException } from '../common/api.exception';

/**
 * Who asks for a hash. `trusted`: a signed-in caller (reauth, password change, an admin) or a
 * login from a device that signed this user in before (see DeviceTrust); `anyone`: every other
 * login, which is what a junk-login flood is made of.
 */
export type HashingLane = 'trusted' | 'anyone';

interface Waiting {
  start: () => void;
}

/**
 * At most `concurrency` argon2 calls at once, and per lane at most `queue` waiting; anything
 * beyond is refused at once with 429 RATE_LIMITED. A freed slot goes to the trusted lane first,
 * so a flood of anonymous logins fills only its own queue: a returning device waits for one
 * running hash to finish, never behind the flood (issue 12, finding 2).
 *
 * Hand-written: p-limit is one FIFO line, and p-queue, which has priorities, bounds neither
 * line on its own (and its maintained majors are ESM-only, which this CommonJS library cannot
 * `require` on Node 20).
 */
export class HashingGate {
  private running = 0;
  private readonly waiting: Record<HashingLane, Waiting[]> = { trusted: [], anyone: [] };

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Runs `work` in a slot of `lane`, or rejects with 429 when that lane's queue is full. */
  run<T>(lane: HashingLane, work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) return this.start(work);
    const line = this.waiting[lane];
    if (line.length >= this.queue) {
      return Promise.reject(
        new RateLimitedException(
          'Too many sign-ins are being checked right now; try again shortly',
          1,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      line.push({ start: () => this.start(work).then(resolve, reject) });
    });
  }

  /** How many run and wait per lane now (for tests and metrics). */
  get load(): { running: number; trusted: number; anyone: number } {
    const { trusted, anyone } = this.waiting;
    return { running: this.running, trusted: trusted.length, anyone: anyone.length };
  }

  private async start<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      (this.waiting.trusted.shift() ?? this.waiting.anyone.shift())?.start();
    }
  }
}
