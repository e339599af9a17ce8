import { startTestDatabase, TestDatabase } from './support/database';
import { bearer, createTestApp, login } from './support/app';

describe('users (e2e)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await startTestDatabase()));
  afterAll(() => db.stop());

  it('creates the bootstrap admin once, and never overwrites an existing user', async () => {
    const first = await createTestApp(
      { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'first-password' },
      { db },
    );
    try {
      const s = await login(first, 'root', 'first-password');
      const me = await first
        .http()
        .get('/sessions/current')
        .set('Authorization', bearer(s.accessToken));
      expect(me.body.user).toMatchObject({ username: 'root', roles: ['admin'], groups: [] });
      const stored = await first.connection.collection('users').findOne({ username: 'root' });
      expect(stored!.passwordHash).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(me.body)).not.toMatch(/argon2|passwordHash/);
    } finally {
      await first.app.close();
    }

    // A restart with another ADMIN_PASSWORD keeps the existing user as it is.
    const second = await createTestApp(
      { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'second-password' },
      { db },
    );
    try {
      await login(second, 'root', 'first-password');
      const res = await second
        .http()
        .post('/auth/login')
        .send({ username: 'root', password: 'second-password' });
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
      expect(await second.connection.collection('users').countDocuments({ username: 'root' })).toBe(
        1,
      );
    } finally {
      await second.app.close();
    }
  });
});
