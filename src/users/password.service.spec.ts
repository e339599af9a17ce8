import { PasswordService } from './password.service';

describe('PasswordService', () => {
  const config = {
    passwordHashing: {
      memoryCostKib: 1024,
      timeCost: 1,
      parallelism: 1,
      concurrency: 4,
      queue: 64,
    },
  };
  const passwords = new PasswordService(config);
  beforeAll(() => passwords.onModuleInit());

  it('hashes with argon2id and the configured cost, never storing the password', async () => {
    const hash = await passwords.hash('s3cret');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(hash).not.toContain('s3cret');
    expect(await passwords.hash('s3cret')).not.toBe(hash); // salted
  });

  it('verifies the right password only', async () => {
    const hash = await passwords.hash('s3cret');
    expect(await passwords.verify(hash, 's3cret')).toBe(true);
    expect(await passwords.verify(hash, 'S3cret')).toBe(false);
    expect(await passwords.verify('not a hash', 's3cret')).toBe(false);
  });

  it('answers false for a missing user after the same work, against a dummy hash', async () => {
    expect(await passwords.verify(null, 's3cret')).toBe(false);
    expect(await passwords.verify(undefined, '')).toBe(false);
    // The dummy hash has the configured cost, so the unknown-user path costs what a real one does.
    const dummy = (passwords as unknown as { dummyHash: string }).dummyHash;
    expect(dummy).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
  });
});
