import { RateLimitedException } from '../common/api.exception';
import { HashingGate } from './hashing-gate';

/** Work that finishes when the test says so. */
function held() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { work: () => done, finish, fail };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('HashingGate', () => {
  it('runs up to `concurrency` at once and refuses a lane whose queue is full, with Retry-After 1', async () => {
    const gate = new HashingGate(2, 1);
    const jobs = [held(), held(), held()];
    const runs = jobs.map((j) => gate.run('anyone', j.work));
    expect(gate.load).toEqual({ running: 2, trusted: 0, anyone: 1 });

    const refused = gate.run('anyone', async () => 'never');
    await expect(refused).rejects.toBeInstanceOf(RateLimitedException);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 1 });

    jobs.forEach((j) => j.finish());
    await Promise.all(runs);
    expect(gate.load).toEqual({ running: 0, trusted: 0, anyone: 0 });
  });

  it('gives a freed slot to the trusted lane before an earlier anonymous waiter', async () => {
    const gate = new HashingGate(1, 4);
    const running = held();
    const order: string[] = [];
    const first = gate.run('anyone', running.work);
    const anonymous = gate.run('anyone', async () => void order.push('anyone'));
    const trusted = gate.run('trusted', async () => void order.push('trusted'));
    running.finish();
    await Promise.all([first, anonymous, trusted]);
    expect(order).toEqual(['trusted', 'anyone']);
  });

  it('still admits a trusted caller while the anonymous lane is full', async () => {
    const gate = new HashingGate(1, 1);
    const running = held();
    const first = gate.run('anyone', running.work);
    const queued = gate.run('anyone', async () => 'queued');
    await expect(gate.run('anyone', async () => 'x')).rejects.toBeInstanceOf(RateLimitedException);
    const trusted = gate.run('trusted', async () => 'trusted');
    expect(gate.load).toEqual({ running: 1, trusted: 1, anyone: 1 });
    running.finish();
    await expect(trusted).resolves.toBe('trusted');
    await expect(queued).resolves.toBe('queued');
    await first;
  });

  it('frees the slot of work that fails and passes its error on', async () => {
    const gate = new HashingGate(1, 1);
    const failing = held();
    const first = gate.run('anyone', failing.work);
    const next = gate.run('anyone', async () => 'next');
    failing.fail(new Error('argon2 broke'));
    await expect(first).rejects.toThrow('argon2 broke');
    await expect(next).resolves.toBe('next');
    await settle();
    expect(gate.load).toEqual({ running: 0, trusted: 0, anyone: 0 });
  });

  it('with queue 0, refuses whatever finds every slot busy', async () => {
    const gate = new HashingGate(1, 0);
    const running = held();
    const first = gate.run('trusted', running.work);
    await expect(gate.run('trusted', async () => 'x')).rejects.toBeInstanceOf(RateLimitedException);
    running.finish();
    await first;
  });
});
