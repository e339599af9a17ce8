import fc from 'fast-check';
import { signatureHeaders } from '../../src/admin/remote/request-signature';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Types } from 'mongoose';
import {
  bearer,
  createTestApp,
  createUser,
  login,
  LoggedIn,
  TestApp,
  TEST_ENV,
} from '../support/app';
import {
  assertNoServerError,
  CRAFTED_BODIES,
  fetchOpenApi,
  fillPath,
  forgedAuthorizations,
  headerValue,
  HOSTILE_QUERY_KEYS,
  hostileBody,
  hostileString,
  encodeBytes,
  Operation,
  operationsOf,
  opName,
  prototypeKeys,
  RawBody,
  rawUrlPiece,
} from '../support/hostile';

const PASSWORD = 'a-long-password-for-hardening';
type Actor = 'user' | 'admin';
/** `signed`: a correct peer signature (PEER_SECRET) over the request exactly as sent. */
type Caller = 'none' | 'forged' | 'signed' | Actor;
const PEER_SECRET = 'hardening-peer-secret-0123456789abcdef';
const PEER_SELF = 'http://hardening.peer.test';

/** Every field the session and user schemas declare; a stored document has no others. */
const SESSION_FIELDS = new Set([
  '_id',
  '__v',
  'userId',
  'username',
  'groups',
  'ip',
  'userAgent',
  'label',
  'state',
  'lastSeenAt',
  'expiresAt',
  'expiredAt',
  'endReason',
  'refreshHash',
  'refreshHistory',
  'rotatedAt',
  'generation',
  'rotationKey',
  'data',
  'createdAt',
]);
const USER_FIELDS = new Set([
  '_id',
  '__v',
  'username',
  'passwordHash',
  'roles',
  'groups',
  'disabledAt',
  'createdAt',
  'updatedAt',
]);
const END_REASONS = new Set([
  'logout',
  'admin',
  'superseded',
  'idle_timeout',
  'absolute_timeout',
  'refresh_reuse',
  'evicted',
]);

/** What never appears in any response, whatever was asked. */
const SECRET_MARKERS = [
  'refreshHash',
  'passwordHash',
  '$argon2',
  'refreshHistory',
  'rotationKey',
];

/** Throws on a key in stored session data that could act as an operator or reach a prototype. */
function assertSafeKeys(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    if (
      key.startsWith('$') ||
      key.includes('.') ||
      ['__proto__', 'constructor', 'prototype'].includes(key)
    ) {
      throw new Error(`stored ${where} holds the key ${JSON.stringify(key)}`);
    }
    assertSafeKeys((value as Record<string, unknown>)[key], where);
  }
}

/**
 * Issue #6 hardening: hostile bodies, params, queries and headers on every route of the
 * OpenAPI document, as nobody, as a forger, as a user and as an admin. Nothing may answer 5xx
 * or leave the error shape, and the database must afterwards hold exactly what the accepted
 * requests wrote.
 */
describe('hostile input on every documented route (e2e, property-based)', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  let ops: Operation[];
  const protoBefore = prototypeKeys();
  const actors: Record<Actor, { username: string; id?: string }> = {
    user: { username: 'alice' },
    admin: { username: 'root' },
  };
  const live: Record<Actor, LoggedIn | null> = { user: null, admin: null };
  /** What the accepted requests (and this test's own logins) created. */
  const ledger = {
    logins: 0,
    usernames: new Set<string>(),
    /** Last data and label each session was answered with after a successful write. */
    data: new Map<string, unknown>(),
    labels: new Map<string, unknown>(),
    answered: new Map<string, number>(),
  };
  const validIds: string[] = [];
  const reached = new Set<string>();

  const tokenFor = async (who: Actor): Promise<LoggedIn> => {
    if (!live[who]) {
      live[who] = await login(t, actors[who].username, PASSWORD);
      ledger.logins++;
      validIds.push(live[who].session.id);
    }
    return live[who];
  };

  beforeAll(async () => {
    t = await createTestApp({ PEER_SECRET, PEER_SELF });
    for (const [who, roles] of [
      ['user', []],
      ['admin', ['admin']],
    ] as const) {
      actors[who].id = (
        await createUser(t, {
          username: actors[who].username,
          password: PASSWORD,
          roles: [...roles],
        })
      ).id;
      ledger.usernames.add(actors[who].username);
    }
    await createUser(t, { username: 'bob', password: PASSWORD });
    ledger.usernames.add('bob');
    const bob = await login(t, 'bob', PASSWORD);
    ledger.logins++;
    validIds.push(bob.session.id);
    doc = await fetchOpenApi(t);
    ops = operationsOf(doc);
  });
  afterAll(() => t?.close());

  /** One request, sent exactly as drawn; records what an accepted request changed. */
  const send = async (
    op: Operation,
    input: {
      caller: Caller;
      forgery?: string;
      params: string[];
      query: [string, string][];
      body: RawBody | { json: unknown } | null;
      headers: [string, string][];
    },
  ) => {
    let authorization: string | undefined;
    let sid: string | undefined;
    if (input.caller === 'user' || input.caller === 'admin') {
      const s = await tokenFor(input.caller);
      authorization = bearer(s.accessToken);
      sid = s.session.id;
    } else if (input.caller === 'forged') {
      authorization = input.forgery;
    }
    let path = op.path;
    op.pathParams.forEach((name, i) => {
      path = path.replace(`{${name}}`, input.params[i] ?? 'x');
    });
    const qs = input.query.map(([k, v]) => `${encodeURI(k)}=${v}`).join('&');
    const url = qs ? `${path}?${qs}` : path;
    const req = t.http()[op.method](url).timeout(15_000);
    for (const [name, value] of input.headers) req.set(name, value);
    if (authorization !== undefined) req.set('Authorization', authorization);
    let preview = 'no body';
    let sent = url;
    let bytes: Buffer | string = '';
    if (input.body && 'raw' in input.body) {
      bytes = input.body.raw;
      // The identity serializer sends a Buffer's bytes as they are (superagent would JSON-encode it).
      if (input.body.contentEncoding) req.set('Content-Encoding', input.body.contentEncoding);
      req
        .set('Content-Type', input.body.contentType)
        .serialize((b: unknown) => b as string)
        .send(input.body.raw as string);
      sent += input.body.raw.toString();
      preview = `${input.body.contentType} ${input.body.contentEncoding ?? ''} ${input.body.raw.toString().slice(0, 120)}`;
    } else if (input.body) {
      const text = JSON.stringify(input.body.json);
      bytes = text;
      req.set('Content-Type', 'application/json').send(text);
      sent += text;
      preview = `json ${text.slice(0, 120)}`;
    }
    if (input.caller === 'signed') {
      req.set(
        signatureHeaders(
          PEER_SECRET,
          { method: op.method.toUpperCase(), audience: PEER_SELF, path, body: bytes },
          t.clock.nowMs(),
        ),
      );
    }
    const res = await req;
    const what = `${op.method.toUpperCase()} ${url.slice(0, 200)} as ${input.caller} with ${preview}`;
    assertNoServerError(what, res);
    const text = res.text ?? '';
    for (const marker of SECRET_MARKERS) {
      // A validation message may name a field the client sent; anything else is a leak.
      if (text.includes(marker) && !sent.includes(marker))
        throw new Error(`${what} leaked ${marker}: ${text.slice(0, 300)}`);
    }
    ledger.answered.set(
      res.status.toString(),
      (ledger.answered.get(res.status.toString()) ?? 0) + 1,
    );
    if (res.status === 401 && (input.caller === 'user' || input.caller === 'admin')) {
      live[input.caller] = null;
    }
    if (res.status < 300) record(op, res.body, sid);
    return res;
  };

  const record = (op: Operation, body: any, sid: string | undefined) => {
    const name = opName(op);
    if (name === 'POST /auth/login') {
      ledger.logins++;
      validIds.push(body.session.id);
    }
    if (name === 'POST /admin/users') ledger.usernames.add(body.username);
    if ((name === 'PUT /sessions/current/data' || name === 'PATCH /sessions/current/data') && sid) {
      ledger.data.set(sid, body);
    }
    if (name === 'PATCH /sessions/{id}') ledger.labels.set(body.id, body.label);
  };

  const queryFor = (op: Operation) =>
    fc
      .tuple(
        fc.tuple(
          ...op.queryParams.map((q) =>
            fc.option(
              fc.oneof(
                q.enum?.length
                  ? fc.constantFrom(...q.enum.map(String))
                  : hostileString().map(encodeBytes),
                rawUrlPiece(validIds),
              ),
              { nil: undefined },
            ),
          ),
        ),
        fc.array(fc.tuple(fc.constantFrom(...HOSTILE_QUERY_KEYS), rawUrlPiece(validIds)), {
          maxLength: 2,
        }),
      )
      .map(([declared, extra]) => [
        ...op.queryParams.flatMap((q, i) =>
          declared[i] === undefined ? [] : [[q.name, declared[i]] as [string, string]],
        ),
        ...extra,
      ]);

  it('reads the routes from the OpenAPI document', () => {
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.map(opName)).toEqual(
      expect.arrayContaining(['POST /auth/login', 'GET /sessions/{id}']),
    );
  });

  it('never answers 5xx and always in the contract’s error shape, whatever is sent', async () => {
    const forgeries = Object.values(
      forgedAuthorizations({
        secret: TEST_ENV.JWT_SECRET,
        nowSeconds: Math.floor(t.clock.nowMs() / 1000),
        sub: actors.user.id!,
        sid: validIds[0],
      }),
    );
    const arbitrary = fc.constantFrom(...ops).chain((op) =>
      fc.record({
        op: fc.constant(op),
        caller: op.path.startsWith('/remote/')
          ? fc.constantFrom<Caller>('none', 'forged', 'signed', 'signed', 'signed')
          : fc.constantFrom<Caller>('none', 'forged', 'signed', 'user', 'user', 'admin', 'admin'),
        forgery: fc.constantFrom(...forgeries),
        params: fc.array(rawUrlPiece(validIds), {
          minLength: op.pathParams.length,
          maxLength: op.pathParams.length,
        }),
        query: queryFor(op),
        body: op.hasBody ? hostileBody() : fc.constant(null),
        headers: fc.array(
          fc.tuple(
            fc.constantFrom(
              'X-Forwarded-For',
              'User-Agent',
              'X-Request-Id',
              'X-Signature',
              'X-Signature-Timestamp',
              'Cookie',
            ),
            headerValue(),
          ),
          { maxLength: 2 },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ op, ...input }) => {
        await send(op, input);
      }),
      { numRuns: 100, endOnFailure: true },
    );
  }, 180_000);

  it('answers every crafted body on every route that takes one, as a user, an admin or a signed peer', async () => {
    for (const op of ops.filter((o) => o.hasBody)) {
      for (const [i, body] of CRAFTED_BODIES.entries()) {
        // Alternating callers keeps the sweep short; across routes each body meets both.
        const caller: Caller = op.path.startsWith('/remote/')
          ? 'signed'
          : (i + ops.indexOf(op)) % 2
            ? 'user'
            : 'admin';
        await send(op, {
          caller,
          params: op.pathParams.map(() => live.user?.session.id ?? validIds[0]),
          query: [],
          body,
          headers: [],
        });
      }
    }
  }, 180_000);

  it('answers hostile path parameters and queries on every route, past authentication', async () => {
    const values = [
      '%24ne',
      '%ff%fe',
      '%',
      encodeBytes('{"$gt":""}'),
      encodeBytes('__proto__'),
      encodeBytes('x'.repeat(3000)),
      '0123456789abcdef01234567',
      encodeBytes('\u0000\uD800'),
    ];
    for (const op of ops) {
      const caller: Caller = op.path.startsWith('/remote/')
        ? 'signed'
        : op.path.startsWith('/admin/')
          ? 'admin'
          : 'user';
      for (const [i, value] of values.entries()) {
        const res = await send(op, {
          caller,
          params: op.pathParams.map(() => value),
          query: [
            ...op.queryParams.map((q) => [q.name, value] as [string, string]),
            [HOSTILE_QUERY_KEYS[i % HOSTILE_QUERY_KEYS.length], value],
          ],
          body: op.hasBody ? { json: { username: value, label: value } } : null,
          headers: [],
        });
        reached.add(`${opName(op)} ${res.status}`);
      }
    }
    // Each route answered at least once with something other than an authentication refusal,
    // so its own validation (not only the guards) met the hostile input.
    for (const op of ops) {
      const statuses = [...reached].filter((r) => r.startsWith(`${opName(op)} `));
      expect({ op: opName(op), reached: statuses.some((r) => !/ 40[13]$/.test(r)) }).toEqual({
        op: opName(op),
        reached: true,
      });
    }
  }, 120_000);

  it('leaves the database holding exactly what the accepted requests wrote', async () => {
    const users = await t.connection.collection('users').find().toArray();
    expect(new Set(users.map((u) => u.username))).toEqual(ledger.usernames);
    for (const u of users) {
      for (const key of Object.keys(u)) expect(USER_FIELDS).toContain(key);
      expect(Array.isArray(u.roles) && u.roles.every((r: unknown) => typeof r === 'string')).toBe(
        true,
      );
    }
    expect(users.find((u) => u.username === 'alice')!.roles).toEqual([]);
    expect(users.find((u) => u.username === 'bob')!.roles).toEqual([]);

    const sessions = await t.connection.collection('sessions').find().toArray();
    expect(sessions).toHaveLength(ledger.logins);
    for (const s of sessions) {
      for (const key of Object.keys(s)) expect(SESSION_FIELDS).toContain(key);
      expect(s.userId).toBeInstanceOf(Types.ObjectId);
      expect(typeof s.username).toBe('string');
      expect(['active', 'expired', 'ended']).toContain(s.state);
      if (s.state === 'active') expect(s.endReason).toBeNull();
      else expect(END_REASONS).toContain(s.endReason);
      expect(s.label === null || typeof s.label === 'string').toBe(true);
      expect(s.groups.every((g: unknown) => typeof g === 'string')).toBe(true);
      expect(typeof s.data === 'object' && s.data !== null && !Array.isArray(s.data)).toBe(true);
      assertSafeKeys(s.data, `data of session ${s._id}`);
      const id = String(s._id);
      // Ending a session erases its data (contract: "A session's data is erased when the
      // session ends"); a live or expired one holds what the last accepted write answered.
      const written = ledger.data.has(id) ? ledger.data.get(id) : {};
      expect(s.data).toEqual(s.state === 'ended' ? {} : written);
      if (ledger.labels.has(id)) expect(s.label).toEqual(ledger.labels.get(id));
    }
  });

  it('leaves no prototype polluted, in the test process or in the app’s behaviour', async () => {
    expect(prototypeKeys()).toEqual(protoBefore);
    const probe = {} as Record<string, unknown>;
    for (const key of ['admin', 'polluted', 'roles', 'isAdmin']) expect(probe[key]).toBeUndefined();

    await createUser(t, { username: 'fresh', password: PASSWORD });
    ledger.usernames.add('fresh');
    const fresh = await login(t, 'fresh', PASSWORD);
    const current = await t
      .http()
      .get('/sessions/current')
      .set('Authorization', bearer(fresh.accessToken));
    expect(current.status).toBe(200);
    expect(current.body.user).toEqual({
      id: expect.any(String),
      username: 'fresh',
      roles: [],
      groups: [],
    });
    const adminOp = ops.find((o) => o.path.startsWith('/admin/') && o.method === 'get');
    if (adminOp) {
      const res = await t
        .http()
        .get(fillPath(adminOp.path, {}))
        .set('Authorization', bearer(fresh.accessToken));
      expect(res.status).toBe(403);
    }
    // The spread of answers, so a run that only ever saw 401s cannot pass unnoticed.
    const answered = Object.fromEntries(ledger.answered);
    expect(Object.keys(answered).some((s) => s.startsWith('2'))).toBe(true);
    expect(answered['400']).toBeGreaterThan(0);
  });
});
