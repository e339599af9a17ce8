import { createHash, randomBytes } from 'node:crypto';
import { scrubSecrets } from './scrub-secrets';

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
});
