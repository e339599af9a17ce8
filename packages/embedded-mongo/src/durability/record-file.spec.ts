import { decodeRecords, encodeRecord } from './record-file';

describe('journal record framing', () => {
  const records = [{ ops: [{ op: 'i', doc: { _id: 1 } }] }, { ops: [{ op: 'd', id: 1 }] }];
  const whole = Buffer.concat(records.map(encodeRecord));

  it('reads back every whole record', () => {
    expect(decodeRecords(whole)).toEqual({ records, validBytes: whole.length, tornBytes: 0 });
  });

  it('drops a record cut short at any byte, keeping the ones before it', () => {
    const firstLength = encodeRecord(records[0]).length;
    for (let cut = firstLength + 1; cut < whole.length; cut++) {
      const read = decodeRecords(whole.subarray(0, cut));
      expect(read.records).toEqual([records[0]]);
      expect(read.validBytes).toBe(firstLength);
      expect(read.tornBytes).toBe(cut - firstLength);
    }
  });

  it('drops a tail whose checksum does not match (garbage where a record was being written)', () => {
    const damaged = Buffer.from(whole);
    damaged[damaged.length - 3] ^= 0xff;
    const read = decodeRecords(damaged);
    expect(read.records).toEqual([records[0]]);
    expect(read.tornBytes).toBeGreaterThan(0);
  });

  it('treats zeros after the last record (a preallocated or half-written block) as a torn tail', () => {
    const padded = Buffer.concat([whole, Buffer.alloc(64)]);
    expect(decodeRecords(padded)).toEqual({
      records,
      validBytes: whole.length,
      tornBytes: 64,
    });
  });
});
