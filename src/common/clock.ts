import { Injectable } from '@nestjs/common';

/**
 * The service's notion of "now". Everything time-dependent (timeouts, token expiry, sweep,
 * signature skew) reads it through this provider, so tests move time instead of sleeping.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  nowMs(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to; for tests and benchmarks. */
export class ManualClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }

  override now(): Date {
    return new Date(this.current);
  }

  override nowMs(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(date: Date | number): void {
    this.current = typeof date === 'number' ? date : date.getTime();
  }
}
