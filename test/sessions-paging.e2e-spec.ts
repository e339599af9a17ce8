import { Types } from 'mongoose';
import { bearer, createTestApp, createUser, login, LoggedIn, TestApp } from './support/app';

/**
 * GET /sessions pages: `limit` (1–200, default 50) and `before=<session id>` (the sessions
 * created before that one), newest first, only the caller's (issue 12 finding 6: the listing
 * was unbounded and loaded whole documents).
 */
describe('own sessions, paged (e2e)', () => {
  let t: TestApp;
  const ids = (body: { id: string }[]) => body.map((s) => s.id);
  const list = (s: LoggedIn, query: string) =>
    t.http().get(`/sessions${query}`).set('Authorization', bearer(s.accessToken));

  beforeAll(async () => {
    // No per-user cap here: the paging test holds 120 live sessions of one user.
    t = await createTestApp({ SESSION_MAX_PER_USER: '0' });
    for (const name of ['pager', 'alice', 'bob']) {
      await createUser(t, { username: name, password: `${name}-password` });
    }
  });
  afterAll(() => t.close());

  it('pages through 120 sessions with limit 50 as 50, 50 and 20: newest first, no duplicates, no gaps', async () => {
    const created: LoggedIn[] = [];
    for (let i = 0; i < 120; i++) {
      created.push(await login(t, 'pager', 'pager-password', { label: `device ${i}` }));
    }
    const newestFirst = created.map((s) => s.session.id as string).reverse();
    const caller = created[0];

    const pages: string[][] = [];
    let query = '?limit=50';
    for (;;) {
      const res = await list(caller, query).expect(200);
      const page = ids(res.body);
      if (page.length === 0) break;
      pages.push(page);
      query = `?limit=50&before=${page[page.length - 1]}`;
    }
    expect(pages.map((page) => page.length)).toEqual([50, 50, 20]);
    expect(pages.flat()).toEqual(newestFirst);

    // The default page is 50; 200 is allowed and holds them all.
    expect(ids((await list(caller, '').expect(200)).body)).toEqual(newestFirst.slice(0, 50));
    expect(ids((await list(caller, '?limit=200').expect(200)).body)).toEqual(newestFirst);
    expect(ids((await list(caller, '?limit=1').expect(200)).body)).toEqual([newestFirst[0]]);
    // `current` still marks the caller's own session, wherever it falls.
    const last = await list(caller, `?limit=50&before=${newestFirst[100]}`).expect(200);
    expect(last.body.map((s: { current: boolean }) => s.current)).toEqual(
      newestFirst.slice(101).map((id) => id === caller.session.id),
    );
  }, 180_000);

  it('pages within a state filter', async () => {
    const sessions: LoggedIn[] = [];
    for (let i = 0; i < 5; i++) sessions.push(await login(t, 'alice', 'alice-password'));
    // End the first four; the fifth lists them.
    for (const s of sessions.slice(0, 4)) {
      await t.http().post('/auth/logout').set('Authorization', bearer(s.accessToken)).expect(204);
    }
    const caller = sessions[4];
    const ended = sessions
      .slice(0, 4)
      .map((s) => s.session.id as string)
      .reverse();
    const first = await list(caller, '?state=ended&limit=3').expect(200);
    expect(ids(first.body)).toEqual(ended.slice(0, 3));
    const second = await list(caller, `?state=ended&limit=3&before=${ended[2]}`).expect(200);
    expect(ids(second.body)).toEqual([ended[3]]);
    // The active page skips the ended ones older than the cursor.
    const active = await list(caller, `?state=active&before=${ended[0]}`).expect(200);
    expect(ids(active.body)).toEqual([]);
  });

  it('lists only the caller’s sessions; a `before` naming another user’s session tells nothing about it', async () => {
    const a1 = await login(t, 'bob', 'bob-password');
    const a2 = await login(t, 'bob', 'bob-password');
    // Made in this process between a2 and the intruder's session, like the app's own ids:
    // a position in the same order that no session has.
    const ghost = new Types.ObjectId().toHexString();
    const intruder = await login(t, 'pager', 'pager-password');
    const a3 = await login(t, 'bob', 'bob-password');

    const all = await list(a3, '?state=all&limit=200').expect(200);
    expect(ids(all.body)).toEqual([a3.session.id, a2.session.id, a1.session.id]);

    const viaOther = await list(a3, `?before=${intruder.session.id}`).expect(200);
    const viaGhost = await list(a3, `?before=${ghost}`).expect(200);
    expect(ids(viaOther.body)).toEqual([a2.session.id, a1.session.id]);
    // Same answer, byte for byte, whether the id is someone else's session or no session.
    expect(viaOther.text).toBe(viaGhost.text);
    expect(viaOther.text).not.toContain(intruder.session.id);
  });

  describe('refuses hostile paging values with 400 VALIDATION_FAILED', () => {
    let caller: LoggedIn;
    beforeAll(async () => {
      caller = await login(t, 'alice', 'alice-password');
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=1e2', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=', 'limit'],
      ['limit=%205', 'limit'],
      ['limit=99999999999999999999', 'limit'],
      ['limit=5&limit=6', 'limit'],
      ['before=abc', 'before'],
      ['before=', 'before'],
      ['before=123', 'before'],
      ['before=zzzzzzzzzzzzzzzzzzzzzzzz', 'before'],
      [`before=${'a'.repeat(25)}`, 'before'],
      ['before=665f1c2e8b3e4a0012345678&before=665f1c2e8b3e4a0012345679', 'before'],
      ['before[$gt]=', 'before'],
      ['before=%7B%22%24gt%22%3A%22%22%7D', 'before'],
    ])('?%s', async (query, field) => {
      const res = await list(caller, `?${query}`).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining(field),
      });
    });
  });
});
