import { parseCsvRecords } from '../../../test/support/csv';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import {
  createChunker,
  createCsvStream,
  createJsonArrayStream,
  neutraliseFormula,
} from './export-formats';

const row = (over: Record<string, unknown> = {}) => ({
  id: 's1',
  userId: 'u1',
  username: 'alice',
  state: 'active',
  endReason: null,
  groups: ['staff', 'ops'],
  ip: '203.0.113.7',
  userAgent: 'curl/8',
  label: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  lastSeenAt: '2026-01-01T00:05:00.000Z',
  expiresAt: '2026-01-08T00:00:00.000Z',
  expiredAt: null,
  current: false,
  ...over,
});

const csvOf = (records: object[]) => text(Readable.from(records).pipe(createCsvStream()));

describe('neutraliseFormula', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://x")'])(
    'prefixes %j with a quote',
    (v) => expect(neutraliseFormula(v)).toBe(`'${v}`),
  );
  it.each(['\n=1+1', 'ok\r\n-2', 'a\n@x', 'a\r\tb', 'a\r\rb', 'x\n+1\ny'])(
    'prefixes %j, a line of which starts a formula, with a quote',
    (v) => expect(neutraliseFormula(v)).toBe(`'${v}`),
  );
  it.each(['alice', '', '1-2', 'a=b', ' =1', "'=1", 'a\r\nb', 'a\n =1'])('leaves %j alone', (v) =>
    expect(neutraliseFormula(v)).toBe(v),
  );
});

describe('CSV export stream', () => {
  it('writes a header row and one CRLF-terminated row per record', async () => {
    const out = await csvOf([row(), row({ id: 's2' })]);
    const lines = out.split('\r\n');
    expect(lines[0]).toBe(
      'id,userId,username,state,endReason,groups,ip,userAgent,label,createdAt,lastSeenAt,expiresAt,expiredAt',
    );
    expect(lines[1]).toBe(
      's1,u1,alice,active,,"staff;ops",203.0.113.7,curl/8,,2026-01-01T00:00:00.000Z,2026-01-01T00:05:00.000Z,2026-01-08T00:00:00.000Z,',
    );
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
  });

  it('writes only the header when there are no records', async () => {
    expect(await csvOf([])).toBe(
      'id,userId,username,state,endReason,groups,ip,userAgent,label,createdAt,lastSeenAt,expiresAt,expiredAt\r\n',
    );
  });

  it('quotes commas, quotes and newlines (RFC 4180) so the file parses back to the same values', async () => {
    const label = 'my "work", laptop\nsecond line\r\nthird';
    const userAgent = 'Mozilla/5.0 (X11, Linux) "quoted"';
    const out = await csvOf([row({ label, userAgent })]);
    expect(out).toContain('"my ""work"", laptop\nsecond line\r\nthird"');
    const [parsed] = parseCsvRecords(out);
    expect(parsed.label).toBe(label);
    expect(parsed.userAgent).toBe(userAgent);
  });

  it('quotes a lone LF, a lone CR and a semicolon, so each record stays one record', async () => {
    const out = await csvOf([row({ label: 'a\nb', userAgent: 'c\rd', ip: 'x;y' })]);
    expect(out).toContain('"a\nb"');
    expect(out).toContain('"c\rd"');
    expect(out).toContain('"x;y"');
    expect(out.split('\r\n')).toHaveLength(3);
  });

  it('neutralises formula cells, including inside arrays and quoted fields', async () => {
    const out = await csvOf([
      row({ label: '=HYPERLINK("http://evil","x")', userAgent: '+cmd', groups: ['-x', 'y'] }),
      row({ label: '@SUM(A1:A9)', userAgent: '\t=1', ip: '-1' }),
    ]);
    const [a, b] = parseCsvRecords(out);
    expect(a.label).toBe(`'=HYPERLINK("http://evil","x")`);
    expect(a.userAgent).toBe("'+cmd");
    expect(a.groups).toBe("'-x;y");
    expect(out).toContain(`"'-x;y"`);
    expect(b.label).toBe("'@SUM(A1:A9)");
    expect(b.userAgent).toBe("'\t=1");
    expect(b.ip).toBe("'-1");
  });
});

describe('JSON array export stream', () => {
  const jsonOf = (records: object[]) => text(Readable.from(records).pipe(createJsonArrayStream()));

  it('writes a parseable array of the records', async () => {
    const records = [{ a: 1 }, { b: 'x"y' }, { c: null }];
    expect(JSON.parse(await jsonOf(records))).toEqual(records);
  });

  it('writes [] for no records', async () => {
    expect(JSON.parse(await jsonOf([]))).toEqual([]);
  });
});

describe('chunker', () => {
  it('passes every byte through, in order, in chunks of at least the given size but the last', async () => {
    const parts = Array.from({ length: 1000 }, (_, i) => `record ${i}\n`);
    const chunks: Buffer[] = [];
    const chunker = createChunker(100);
    chunker.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) =>
      Readable.from(parts).pipe(chunker).on('end', resolve).on('error', reject),
    );
    expect(Buffer.concat(chunks).toString()).toBe(parts.join(''));
    expect(chunks.slice(0, -1).every((c) => c.length >= 100)).toBe(true);
    expect(chunks.length).toBeLessThan(parts.length / 5);
  });

  it('writes nothing for nothing', async () => {
    expect(await text(Readable.from([]).pipe(createChunker(100)))).toBe('');
  });
});
