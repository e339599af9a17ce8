import { Types } from 'mongoose';
import { SessionRecord, toSessionView } from './session.view';

describe('toSessionView', () => {
  const id = new Types.ObjectId();
  const doc = {
    _id: id,
    userId: new Types.ObjectId(),
    groups: ['g1'],
    ip: '203.0.113.7',
    userAgent: 'curl/8',
    label: null,
    state: 'active',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    lastSeenAt: new Date('2026-01-01T00:00:00Z'),
    expiresAt: new Date('2026-01-08T00:00:00Z'),
    expiredAt: null,
    endReason: null,
    refreshHash: 'secret-hash',
    refreshHistory: ['older-hash'],
    data: { cart: 1 },
    username: 'alice',
    __v: 0,
  } as SessionRecord;

  it('gives exactly the contract fields, as strings, with no hashes or data', () => {
    const view = toSessionView(doc, id.toHexString());
    expect(Object.keys(view).sort()).toEqual(
      [
        'id',
        'userId',
        'groups',
        'ip',
        'lastSeenIp',
        'userAgent',
        'device',
        'label',
        'createdAt',
        'lastSeenAt',
        'authenticatedAt',
        'expiresAt',
        'expiredAt',
        'endReason',
        'state',
        'current',
      ].sort(),
    );
    expect(view).toMatchObject({
      id: id.toHexString(),
      createdAt: '2026-01-01T00:00:00.000Z',
      state: 'active',
      current: true,
    });
    expect(JSON.stringify(view)).not.toMatch(/hash|cart/);
  });

  it('fills the fields a session stored before them lacks from what it has', () => {
    expect(toSessionView(doc)).toMatchObject({
      lastSeenIp: '203.0.113.7',
      authenticatedAt: '2026-01-01T00:00:00.000Z',
      device: { name: null, browser: null, os: null, type: null },
    });
  });

  it('shows the stored device, last address and password proof', () => {
    const view = toSessionView({
      ...doc,
      lastSeenIp: '198.51.100.9',
      authenticatedAt: new Date('2026-01-01T00:20:00Z'),
      device: { name: 'Safari on iOS', browser: 'Safari', os: 'iOS', type: 'mobile' },
    });
    expect(view).toMatchObject({
      lastSeenIp: '198.51.100.9',
      authenticatedAt: '2026-01-01T00:20:00.000Z',
      device: { name: 'Safari on iOS', browser: 'Safari', os: 'iOS', type: 'mobile' },
    });
  });

  it('marks only the requesting session as current', () => {
    expect(toSessionView(doc).current).toBe(false);
    expect(toSessionView(doc, new Types.ObjectId().toHexString()).current).toBe(false);
  });

  it('shows the effective state when given the time', () => {
    const view = toSessionView(doc, null, {
      now: new Date('2026-01-01T01:00:00Z'),
      idleTimeoutSeconds: 1800,
    });
    expect(view).toMatchObject({
      state: 'expired',
      endReason: 'idle_timeout',
      expiredAt: '2026-01-01T00:30:00.000Z',
    });
  });
});
