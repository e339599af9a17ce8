import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { createTestApp, createUser, login, TestApp } from './support/app';

const PASSWORD = 'correct horse battery staple';

/** What a spreadsheet treats as a formula at the start of a line (the contract's list). */
const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Written from the contract, not from the implementation: a cell any of whose lines starts with
 * a trigger gets one leading `'`.
 */
function expectedCell(value: string): string {
  const lines = value.split(LINE_BREAK);
  // A cell starting with CR: the first "line" is empty and the CR is the line break, so check
  // the raw first character too.
  const risky =
    TRIGGERS.includes(value[0]) || lines.some((l, i) => i > 0 && TRIGGERS.includes(l[0]));
  // "…\r\r…": the second CR starts a line.
  const crStartsLine = /[\r\n]\r/.test(value);
  return risky || crStartsLine ? `'${value}` : value;
}

/** Pieces a hostile cell is built from: triggers, delimiters, quotes, line breaks, plain text. */
const PIECES = [...TRIGGERS, '\n', '\r\n', ',', ';', '"', "'", ' ', 'a', 'é', '1+1', 'SUM(A1:A9)'];
const cell = (pieces: string[]) =>
  fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 12 });
/** Labels go in a JSON body: anything (lone surrogates aside, which the API refuses). */
const label = () =>
  cell(PIECES)
    .map((parts) => parts.join(''))
    .filter((s) => s.length <= 200 && !/[\uD800-\uDFFF]/.test(s));
/**
 * A header value Node will send: tab and visible ASCII, no CR or LF; the HTTP parser drops
 * leading and trailing blanks, so a tab inside the value is what can reach a cell's start
 * (after a CR/LF-free value, only as the first character of a trimmed value: never).
 */
const userAgent = () =>
  cell(PIECES.filter((p) => !/[\r\n]/.test(p)))
    .map((parts) =>
      parts
        .join('')
        .replace(/[^\t\x20-\x7e]/g, 'x')
        .replace(/^[ \t]+|[ \t]+$/g, ''),
    )
    .filter((s) => s.length > 0 && s.length <= 200);

/**
 * Issue 12, finding 1 (CSV injection): the admin export read back with an RFC 4180 parser that,
 * like a spreadsheet, also ends a record at a bare CR or LF. Whatever a user puts in a label or
 * user agent, the file holds exactly one record per session, every cell reads back as the
 * stored value (plus the `'` neutraliser where the contract asks for one), and any cell holding
 * a comma, quote, semicolon, CR or LF is quoted.
 */
describe('CSV export of hostile labels and user agents (e2e, property-based)', () => {
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    await createUser(t, { username: 'root', password: PASSWORD, roles: ['admin'] });
    await createUser(t, { username: 'eve', password: PASSWORD });
    adminToken = (await login(t, 'root', PASSWORD)).accessToken;
  });
  afterAll(() => t?.close());

  const exportEve = async () => {
    const res = await t
      .http()
      .get('/admin/sessions?format=csv&user=eve&state=all')
      .set('Authorization', `Bearer ${adminToken}`)
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => done(null, text));
      });
    expect(res.status).toBe(200);
    return res.body as string;
  };

  const records = (text: string): Record<string, string>[] =>
    parse(text, {
      columns: true,
      // A spreadsheet ends a row at any of these outside quotes.
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_quotes: false,
      relax_column_count: false,
      skip_empty_lines: false,
    });

  it('the reported label "\\n=1+1" stays inside one quoted, neutralised cell', async () => {
    await t.connection.collection('sessions').deleteMany({ username: 'eve' });
    const s = await login(t, 'eve', PASSWORD, { label: '\n=1+1', userAgent: 'ok' });
    const text = await exportEve();
    expect(text).toContain(`"'\n=1+1"`);
    const rows = records(text);
    expect(rows.map((r) => [r.id, r.label])).toEqual([[s.session.id, "'\n=1+1"]]);
  });

  it('holds one record per session whatever the cells hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ label: label(), userAgent: userAgent() }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (devices) => {
          await t.connection.collection('sessions').deleteMany({ username: 'eve' });
          const ids: string[] = [];
          for (const d of devices) {
            ids.push((await login(t, 'eve', PASSWORD, d)).session.id);
            t.clock.advance(1000);
          }
          const text = await exportEve();
          const rows = records(text);
          // Newest first: the reverse of the login order.
          expect(rows.map((r) => r.id)).toEqual([...ids].reverse());
          [...devices].reverse().forEach((d, i) => {
            expect(rows[i].label).toBe(expectedCell(d.label));
            expect(rows[i].userAgent).toBe(expectedCell(d.userAgent));
          });
          for (const row of rows) {
            for (const value of Object.values(row)) {
              if (/[,";\r\n]/.test(value)) {
                expect(text).toContain(`"${value.replace(/"/g, '""')}"`);
              }
              // No line of any cell starts with a trigger unless the cell was neutralised.
              if (!value.startsWith("'")) {
                for (const line of value.split(LINE_BREAK)) {
                  expect(TRIGGERS).not.toContain(line[0]);
                }
              }
            }
          }
        },
      ),
      { numRuns: 40, endOnFailure: true },
    );
  }, 120_000);
});
