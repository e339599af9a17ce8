import { effectiveState, SessionTimes } from './session-state';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const active = (over: Partial<SessionTimes> = {}): SessionTimes => ({
  state: 'active',
  endReason: null,
  expiredAt: null,
  lastSeenAt: t0,
  expiresAt: at(1000),
  ...over,
});

describe('effectiveState', () => {
  it('keeps a session inside both deadlines active', () => {
    expect(effectiveState(active(), at(99), 100)).toEqual({
      state: 'active',
      endReason: null,
      expiredAt: null,
      needsWrite: false,
    });
  });

  it('expires on the idle deadline, dated at that deadline', () => {
    expect(effectiveState(active(), at(100), 100)).toEqual({
      state: 'expired',
      endReason: 'idle_timeout',
      expiredAt: at(100),
      needsWrite: true,
    });
  });

  it('expires on the absolute deadline even when recently used', () => {
    const s = active({ lastSeenAt: at(990) });
    expect(effectiveState(s, at(1000), 100)).toMatchObject({
      state: 'expired',
      endReason: 'absolute_timeout',
      expiredAt: at(1000),
    });
  });

  it('names the deadline that came first when both have passed', () => {
    expect(effectiveState(active(), at(5000), 100)).toMatchObject({
      endReason: 'idle_timeout',
      expiredAt: at(100),
    });
    const late = active({ lastSeenAt: at(950) });
    expect(effectiveState(late, at(5000), 100)).toMatchObject({
      endReason: 'absolute_timeout',
      expiredAt: at(1000),
    });
  });

  it('reports stored expired and ended sessions as they are', () => {
    const ended = active({ state: 'ended', endReason: 'logout', expiredAt: at(5) });
    expect(effectiveState(ended, at(1), 100)).toEqual({
      state: 'ended',
      endReason: 'logout',
      expiredAt: at(5),
      needsWrite: false,
    });
  });
});
