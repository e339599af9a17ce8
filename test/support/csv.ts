/**
 * A strict RFC 4180 reader for tests, written independently of the CSV writer under test so a
 * quoting bug in one is not mirrored by the other. Returns rows of raw cell strings.
 */
export function parseCsv(input: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < input.length) {
    const ch = input[i];
    if (quoted) {
      if (ch === '"' && input[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i += 1;
        if (i < input.length && input[i] !== ',' && input[i] !== '\r') {
          throw new Error(`unexpected ${JSON.stringify(input[i])} after closing quote at ${i}`);
        }
      } else {
        cell += ch;
        i += 1;
      }
    } else if (ch === '"') {
      if (cell !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i += 1;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
      i += 1;
    } else if (ch === '\r' && input[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else if (ch === '\r' || ch === '\n') {
      throw new Error(`bare line break in an unquoted field at ${i}`);
    } else {
      cell += ch;
      i += 1;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

/** Rows as objects keyed by the header row. */
export function parseCsvRecords(input: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(input);
  return rows.map((r) => {
    if (r.length !== header.length)
      throw new Error(`row has ${r.length} cells, header ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}
