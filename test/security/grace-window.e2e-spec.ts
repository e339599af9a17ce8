import { createTestApp, createUser, login, TestApp } from '../support/app';

/**
 * Issue 11 finding 6: a refresh token replayed inside REFRESH_REUSE_GRACE_SECONDS gets the
 * current pair (what two tabs racing need, and what a thief inside the window gets); outside
 * it, the replay revokes the session. 0 disables the window. Exposure figures:
 * bench/results/grace-window.md.
 */
const PASSWORD = 'a-long-password-for-the-window';

describe.each([
  ['the default window (10 s)', {}, 10],
  ['REFRESH_REUSE_GRACE_SECONDS=3', { REFRESH_REUSE_GRACE_SECONDS: '3' }, 3],
  ['REFRESH_REUSE_GRACE_SECONDS=0 (disabled)', { REFRESH_REUSE_GRACE_SECONDS: '0' }, 0],
])('refresh replay with %s (issue 11 finding 6, e2e)', (_name, env, graceSeconds) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(env);
    await createUser(t, { username: 'alice', password: PASSWORD });
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refreshToken });

  if (graceSeconds > 0) {
    it('a replay just inside the window answers the very pair the rotation issued', async () => {
      const s = await login(t, 'alice', PASSWORD);
      const rotated = await refresh(s.refreshToken).expect(200);
      t.clock.advance(graceSeconds * 1000 - 1);
      const replay = await refresh(s.refreshToken).expect(200);
      expect(replay.body.refreshToken).toBe(rotated.body.refreshToken);
      expect(replay.body.accessToken).toBe(rotated.body.accessToken);
    });
  }

  it('a replay at the end of the window (or any replay when it is 0) revokes the session', async () => {
    const s = await login(t, 'alice', PASSWORD);
    const rotated = await refresh(s.refreshToken).expect(200);
    t.clock.advance(graceSeconds * 1000);
    const replay = await refresh(s.refreshToken);
    expect([replay.status, replay.body.code]).toEqual([401, 'REFRESH_TOKEN_REUSED']);
    const victim = await refresh(rotated.body.refreshToken);
    expect([victim.status, victim.body.code]).toEqual([401, 'REFRESH_TOKEN_REUSED']);
  });
});
