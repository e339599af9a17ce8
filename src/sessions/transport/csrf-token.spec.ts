import { signCsrfToken, verifyCsrfToken } from './csrf-token';

const SECRET = 'csrf-spec-secret-0123456789-0123456789';

describe('CSRF tokens', () => {
  it('verify for the session they were made for, under any listed secret', () => {
    const token = signCsrfToken('sid-1', SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verifyCsrfToken(token, 'sid-1', [SECRET])).toBe(true);
    expect(verifyCsrfToken(token, 'sid-1', ['new-secret-first', SECRET])).toBe(true);
  });

  it('fail for another session, another secret, or any change', () => {
    const token = signCsrfToken('sid-1', SECRET);
    expect(verifyCsrfToken(token, 'sid-2', [SECRET])).toBe(false);
    expect(verifyCsrfToken(token, 'sid-1', ['another-secret'])).toBe(false);
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect(verifyCsrfToken(flipped, 'sid-1', [SECRET])).toBe(false);
    expect(verifyCsrfToken('', 'sid-1', [SECRET])).toBe(false);
    expect(verifyCsrfToken(`${token}x`, 'sid-1', [SECRET])).toBe(false);
    expect(verifyCsrfToken(token.slice(1), 'sid-1', [SECRET])).toBe(false);
  });

  it('are one per session: the same after every answer, different between sessions', () => {
    expect(signCsrfToken('sid-1', SECRET)).toBe(signCsrfToken('sid-1', SECRET));
    expect(signCsrfToken('sid-1', SECRET)).not.toBe(signCsrfToken('sid-2', SECRET));
  });
});
