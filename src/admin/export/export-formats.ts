import { stringify } from 'csv-stringify';
import { Transform } from 'node:stream';

/**
 * A cell any of whose lines starts with a character that makes a spreadsheet read it as a
 * formula (or, for tab and CR, lets one be smuggled past a naive check), per OWASP's
 * CSV-injection guidance. Checking only the first character is not enough: a line break inside
 * the cell lets an importer that splits lines (or a later cell edit) see `=…` at a line start.
 * One pass, no backtracking: linear in the cell's length.
 */
const FORMULA_TRIGGER = /(?:^|[\r\n])[=+\-@\t\r]/;

/** Cells holding any of these are quoted: RFC 4180's comma, quote, CR and LF, and `;` (the
 * separator spreadsheets use in locales where the comma is the decimal mark). */
const MUST_QUOTE = /[,";\r\n]/;

/** Prefixes a cell a spreadsheet would evaluate with `'`, so it is shown as text instead. */
export function neutraliseFormula(value: string): string {
  return FORMULA_TRIGGER.test(value) ? `'${value}` : value;
}

/** CSV columns, in order: the Session object's fields plus `username` (`current` means nothing here). */
export const CSV_COLUMNS = [
  'id',
  'userId',
  'username',
  'state',
  'endReason',
  'groups',
  'ip',
  'userAgent',
  'label',
  'createdAt',
  'lastSeenAt',
  'expiresAt',
  'expiredAt',
] as const;

/**
 * An object-mode stream turning records into RFC 4180 CSV text (CRLF record ends; fields with a
 * comma, quote, semicolon, CR or LF quoted, quotes doubled; a header row even when there are no
 * records), so every session is exactly one record whatever its cells hold. csv-stringify on its
 * own quotes only the whole record delimiter (`\r\n`), not a lone CR or LF: `quoted_match` does.
 * Every string cell passes through `neutraliseFormula`; arrays become `;`-joined cells (then
 * neutralised too); null becomes an empty cell; dates become ISO-8601.
 */
export function createCsvStream(): Transform {
  return stringify({
    header: true,
    columns: [...CSV_COLUMNS],
    record_delimiter: 'windows',
    quoted_match: MUST_QUOTE,
    cast: {
      string: (value) => neutraliseFormula(value),
      date: (value) => value.toISOString(),
      object: (value) =>
        neutraliseFormula(Array.isArray(value) ? value.join(';') : JSON.stringify(value)),
    },
  });
}

/**
 * An object-mode-in, text-out stream writing `[`, the records as JSON separated by commas, and
 * `]`: a JSON array that is never held whole in memory. Nothing is emitted until the first
 * record (or the end), so an error before that can still become a normal error response.
 */
export function createJsonArrayStream(): Transform {
  let first = true;
  return new Transform({
    writableObjectMode: true,
    transform(record: unknown, _encoding, done) {
      const prefix = first ? '[\n' : ',\n';
      first = false;
      done(null, prefix + JSON.stringify(record));
    },
    flush(done) {
      done(null, first ? '[]\n' : '\n]\n');
    },
  });
}

/**
 * Gathers small text chunks into ones of about `bytes` before they reach the socket: the
 * formatters emit one chunk per record, and writing each to the response on its own (with its
 * own chunked-encoding frame) costs more CPU than formatting it.
 */
export function createChunker(bytes = 64 * 1024): Transform {
  let pending: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      pending.push(buf);
      size += buf.length;
      if (size < bytes) return done();
      const out = Buffer.concat(pending, size);
      pending = [];
      size = 0;
      done(null, out);
    },
    flush(done) {
      done(null, size ? Buffer.concat(pending, size) : undefined);
    },
  });
}
