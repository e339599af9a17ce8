import { signCsrfToken, verifyCsrfToken } from './csrf-token';

const SECRET = 'csrf-spec-secret-0123456789-0123456789';

describe('CSRF tokens', () => {
  it('verify for the session they were made for, under any listed secret', () => {
    const token = signCsrfToken('sid-1', SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);
    expect(verifyCsrfToken(token, 'sid-1', [SECRET])).toBe(true);
    expect(verifyCsrfToken(token, 'sid-1', ['new-secret-first', SECRET])).toBe(true);
  });

  it('fail for another session, another secret, or any change', () => {
    const token = signCsrfToken('sid-1', SECRET);
    expect(verifyCsrfToken(token, 'sid-2', [SECRET])).toBe(false);
    expect(verifyCsrfToken(token, 'sid-1', ['another-secret'])).toBe(false);
    const [nonce, mac] = token.split('.');
    expect(
      verifyCsrfToken(`${signCsrfToken('sid-1', SECRET).split('.')[0]}.${mac}`, 'sid-1', [SECRET]),
    ).toBe(false);
    expect(verifyCsrfToken(`${nonce}.${mac.slice(0, -1)}`, 'sid-1', [SECRET])).toBe(false);
    expect(verifyCsrfToken('', 'sid-1', [SECRET])).toBe(false);
    expect(verifyCsrfToken(`${token}.x`, 'sid-1', [SECRET])).toBe(false);
  });

  it('are fresh each time: two tokens of one session differ, and both verify', () => {
    const a = signCsrfToken('sid-1', SECRET);
    const b = signCsrfToken('sid-1', SECRET);
    expect(a).not.toBe(b);
    expect(verifyCsrfToken(b, 'sid-1', [SECRET])).toBe(true);
  });
});
