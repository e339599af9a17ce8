import { startTestDatabase, TestDatabase } from './support/database';
import { MongoClient, ObjectId } from 'mongodb';
import { bearer, createTestApp, createUser, login } from './support/app';

/** The users collection, read with the driver (no app running). */
function usersOf(db: TestDatabase) {
  const client = new MongoClient(db.uri);
  const collection = client.db().collection('users');
  return {
    findOne: async (filter: object) => {
      try {
        return await collection.findOne(filter);
      } finally {
        await client.close();
      }
    },
    countDocuments: async (filter: object) => {
      try {
        return await collection.countDocuments(filter);
      } finally {
        await client.close();
      }
    },
  };
}

describe('users (e2e)', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await startTestDatabase()));
  afterAll(() => db.stop());

  it('creates the bootstrap admin once, keeps it across restarts, and applies a changed ADMIN_PASSWORD', async () => {
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

    // A restart with the same ADMIN_PASSWORD leaves the admin and its sessions alone.
    const same = await createTestApp(
      { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'first-password' },
      { db },
    );
    let kept: Awaited<ReturnType<typeof login>>;
    try {
      kept = await login(same, 'root', 'first-password');
    } finally {
      await same.app.close();
    }
    const before = await usersOf(db).findOne({ username: 'root' });
    const again = await createTestApp(
      { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'first-password' },
      { db },
    );
    try {
      const after = await again.connection.collection('users').findOne({ username: 'root' });
      expect(after!.passwordHash).toBe(before!.passwordHash);
      await again
        .http()
        .get('/sessions/current')
        .set('Authorization', bearer(kept.accessToken))
        .expect(200);
    } finally {
      await again.app.close();
    }

    // Issue 11 finding 5: changing ADMIN_PASSWORD used to do nothing, so an operator rotating a
    // leaked admin password left it working. A changed value is applied at start, and every
    // session of the admin (the leaked password's included) ends.
    const second = await createTestApp(
      { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'second-password' },
      { db },
    );
    try {
      await login(second, 'root', 'second-password');
      const res = await second
        .http()
        .post('/auth/login')
        .send({ username: 'root', password: 'first-password' });
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
      const old = await second
        .http()
        .get('/sessions/current')
        .set('Authorization', bearer(kept.accessToken));
      expect(old.status).toBe(401);
      expect(old.body.code).toBe('SESSION_ENDED');
      const stored = await second.connection
        .collection('sessions')
        .findOne({ _id: new ObjectId(String(kept.session.id)) });
      expect(stored).toMatchObject({ state: 'ended', endReason: 'password_changed' });
      expect(await second.connection.collection('users').countDocuments({ username: 'root' })).toBe(
        1,
      );
    } finally {
      await second.app.close();
    }
  });

  it('refuses to start when ADMIN_USERNAME names an existing user who is not an admin', async () => {
    const first = await createTestApp({}, { db });
    try {
      await createUser(first, { username: 'carol', password: 'carol-password-1' });
    } finally {
      await first.app.close();
    }
    await expect(
      createTestApp({ ADMIN_USERNAME: 'carol', ADMIN_PASSWORD: 'taken-over-password' }, { db }),
    ).rejects.toThrow(/ADMIN_USERNAME: "carol" is an existing user without the admin role/);
    expect(await usersOf(db).countDocuments({ username: 'carol', roles: 'admin' })).toBe(0);
  });
});
