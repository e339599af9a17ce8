import fc from 'fast-check';
import { Query } from 'mingo';
import {
  absoluteTimeoutFilter,
  effectiveState,
  effectiveStateFilter,
  idleTimeoutFilter,
  liveSessionFilter,
  pastDeadlineFilter,
  SessionTimes,
} from './session-state';

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

describe('the filters agree with effectiveState', () => {
  // mingo evaluates Mongo filters in memory, the way the embedded engine does.
  const matches = (filter: object, doc: object) =>
    new Query(filter as Record<string, unknown>).test(doc as Record<string, unknown>);
  const idle = 100;

  it('for any stored state, deadlines and time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('active', 'expired', 'ended'),
        fc.integer({ min: -300, max: 300 }),
        fc.integer({ min: -300, max: 300 }),
        (state, lastSeenOffset, expiresOffset) => {
          const s: SessionTimes = active({
            state: state as SessionTimes['state'],
            lastSeenAt: at(lastSeenOffset),
            expiresAt: at(expiresOffset),
          });
          const now = at(0);
          const eff = effectiveState(s, now, idle);
          expect(matches(liveSessionFilter(now, idle), s)).toBe(eff.state === 'active');
          expect(matches(pastDeadlineFilter(now, idle), s)).toBe(eff.needsWrite);
          if (eff.needsWrite) {
            const filter =
              eff.endReason === 'absolute_timeout'
                ? absoluteTimeoutFilter(now)
                : idleTimeoutFilter(now, idle);
            expect(matches(filter, s)).toBe(true);
          }
          for (const wanted of ['active', 'expired', 'ended'] as const) {
            expect(matches(effectiveStateFilter(wanted, now, idle), s)).toBe(eff.state === wanted);
          }
        },
      ),
    );
  });
});
