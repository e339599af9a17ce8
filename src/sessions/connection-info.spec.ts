import type { Request } from 'express';
import { getConnectionInfo } from './connection-info';

const req = (over: Partial<Request>) => ({ headers: {}, socket: {}, ...over }) as Request;

describe('getConnectionInfo', () => {
  it('reads req.ip and the user agent', () => {
    expect(
      getConnectionInfo(req({ ip: '203.0.113.7', headers: { 'user-agent': 'curl/8' } })),
    ).toEqual({ ip: '203.0.113.7', userAgent: 'curl/8' });
  });

  it('shows IPv4-mapped addresses as IPv4 and keeps real IPv6', () => {
    expect(getConnectionInfo(req({ ip: '::ffff:127.0.0.1' })).ip).toBe('127.0.0.1');
    expect(getConnectionInfo(req({ ip: '::1' })).ip).toBe('::1');
  });

  it('keeps the peer address when a trusted X-Forwarded-For names no address', () => {
    const peer = { remoteAddress: '::ffff:10.0.0.2' } as Request['socket'];
    for (const forged of ['=cmd|calc!A0', 'x'.repeat(3000), 'unknown', '1.2.3.4:80', '[::1]:99']) {
      expect(getConnectionInfo(req({ ip: forged, socket: peer })).ip).toBe('10.0.0.2');
    }
    expect(getConnectionInfo(req({ ip: '2001:db8::1', socket: peer })).ip).toBe('2001:db8::1');
  });

  it('gives null for what is missing and caps a huge user agent', () => {
    expect(getConnectionInfo(req({}))).toEqual({ ip: null, userAgent: null });
    const long = getConnectionInfo(req({ ip: '::1', headers: { 'user-agent': 'x'.repeat(5000) } }));
    expect(long.userAgent).toHaveLength(512);
  });
});
