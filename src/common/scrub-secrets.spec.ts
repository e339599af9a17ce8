import { createHash, randomBytes } from 'node:crypto';
import { redactSecrets, redactUrl, scrubSecrets } from './scrub-secrets';

describe('scrubSecrets', () => {
  const refreshToken = randomBytes(32).toString('base64url');
  const hash = createHash('sha256').update(refreshToken).digest('hex');
  const jwt =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NzQwIiwic2lkIjoiNjc0MSJ9.c2lnbmF0dXJlLWJ5dGVz';

  it('removes tokens, hashes and URI credentials wherever they sit in the text', () => {
    const text = [
      `Error: E11000 dup key: { refreshHash: "${hash}" }`,
      `bad token ${jwt} from client`,
      `refresh=${refreshToken};`,
      'connect failed: mongodb://app:s3cr3t-pw@db.internal:27017/nest',
    ].join('\n');
    const out = scrubSecrets(text);
    for (const secret of [hash, jwt, refreshToken, 's3cr3t-pw']) expect(out).not.toContain(secret);
    expect(out).toContain('mongodb://[redacted]@db.internal:27017/nest');
    expect(out).toContain('E11000 dup key');
  });

  it('keeps ordinary error text and stack frames readable', () => {
    const stack = [
      'TypeError: Cannot read properties of undefined (reading "id")',
      '    at SessionsService.load (/srv/app/dist/src/sessions/sessions.service.js:120:31)',
      'session 6740a1b2c3d4e5f601234567 of user 6740a1b2c3d4e5f601234568',
    ].join('\n');
    expect(scrubSecrets(stack)).toBe(stack);
  });

  it('handles the inputs that made the old patterns backtrack, with the same verdicts', () => {
    const dotted = 'a.'.repeat(7000);
    expect(scrubSecrets(dotted)).toBe(dotted);
    const scheme = `${'a.'.repeat(5000)}x`;
    expect(scrubSecrets(scheme)).toBe(scheme);
    const eyj = 'eyJ'.repeat(4000);
    expect(scrubSecrets(eyj)).toBe('[redacted]');
    // a 31-character hex word is kept, a 32-character one is not, a hex run inside a word is kept
    expect(scrubSecrets('f'.repeat(31))).toBe('f'.repeat(31));
    expect(scrubSecrets(`x ${'f'.repeat(32)} y`)).toBe('x [redacted] y');
    expect(scrubSecrets(`${'f'.repeat(35)}_zz`)).toBe(`${'f'.repeat(35)}_zz`);
    expect(scrubSecrets(`id=${'f'.repeat(32)}-tail`)).toBe('id=[redacted]-tail');
    expect(scrubSecrets('://a://b://c:d@e')).toBe('://a://b://[redacted]@e');
  });
});

describe('redactUrl', () => {
  it('keeps the path and plain parameters, redacts secret-named ones', () => {
    expect(redactUrl('/auth/login?username=ann&password=hunter2&state=active')).toBe(
      '/auth/login?username=ann&password=[redacted]&state=active',
    );
    expect(redactUrl('/x?New%50assword=a&api_key=b&X-Signature=c&token')).toBe(
      '/x?New%50assword=[redacted]&api_key=[redacted]&X-Signature=[redacted]&token',
    );
    expect(redactUrl('/x?%zz=1&q=2')).toBe('/x?%zz=1&q=2');
    expect(redactUrl('/sessions')).toBe('/sessions');
    expect(redactUrl(undefined)).toBe('');
  });

  it('cuts a very long URL', () => {
    const out = redactUrl(`/s?state=${'a.'.repeat(7000)}`);
    expect(out.length).toBeLessThan(2100);
    expect(out.endsWith('…[redacted]') || out.endsWith('…[truncated]')).toBe(true);
  });
});

describe('redactSecrets', () => {
  it('redacts every secret-named field at any depth, leaving the rest', () => {
    const input = {
      user: 'ann',
      a: { b: [{ c: { newPassword: 'x', webhookSecret: 'y', note: 'keep' } }] },
      headers: { authorization: 'Bearer z', 'x-signature': 'sig', 'user-agent': 'curl/8' },
      refreshHistory: ['h1'],
    };
    expect(redactSecrets(input)).toEqual({
      user: 'ann',
      a: { b: [{ c: { newPassword: '[redacted]', webhookSecret: '[redacted]', note: 'keep' } }] },
      headers: { authorization: '[redacted]', 'x-signature': '[redacted]', 'user-agent': 'curl/8' },
      refreshHistory: '[redacted]',
    });
    expect(input.a.b[0].c.newPassword).toBe('x');
  });

  it('passes class instances through and survives cycles and depth', () => {
    const err = new Error('boom');
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    expect(redactSecrets({ err, cyclic })).toEqual({
      err,
      cyclic: { name: 'c', self: '[circular]' },
    });
    let deep: unknown = { password: 'p' };
    for (let i = 0; i < 50; i++) deep = { d: deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain('"p"');
  });
});
