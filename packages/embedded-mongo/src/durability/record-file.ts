import { deserialize, serialize, type Document } from 'bson';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { normalizeInPlace } from '../storage/bson-number';
import { DESERIALIZE_OPTIONS } from '../wire-protocol';

/**
 * The framing shared by the journal and snapshots: each record is
 * `[payload length: u32 LE][CRC-32 of the payload: u32 LE][payload: one BSON document]`.
 * A crash can cut the last record short or leave garbage where it was being written; the
 * length and the checksum detect both, so a reader keeps exactly the records written whole.
 */
export const RECORD_HEADER_BYTES = 8;

/**
 * Stored documents are read back with the wire protocol's BSON options, so a document
 * recovered from disk is the value a client's write produced, type for type.
 */
export function encodeRecord(payload: Document): Buffer {
  const body = serialize(payload, { checkKeys: false, ignoreUndefined: false });
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  record.writeUInt32LE(body.length, 0);
  record.writeUInt32LE(crc32(body), 4);
  record.set(body, RECORD_HEADER_BYTES);
  return record;
}

export interface ReadRecords {
  records: Document[];
  /** Bytes from the start of the file up to the end of the last whole record. */
  validBytes: number;
  /** Bytes after it: a torn or corrupt tail (0 for a clean file). */
  tornBytes: number;
}

export function decodeRecords(data: Buffer): ReadRecords {
  const records: Document[] = [];
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    const start = offset + RECORD_HEADER_BYTES;
    if (length < 5 || start + length > data.length) break;
    const body = data.subarray(start, start + length);
    if (crc32(body) !== checksum) break;
    try {
      // Decoded as on the wire: BSON number types, then the engine's representation of them.
      const record = deserialize(body, DESERIALIZE_OPTIONS);
      normalizeInPlace(record);
      records.push(record);
    } catch {
      break;
    }
    offset = start + length;
  }
  return { records, validBytes: offset, tornBytes: data.length - offset };
}

export function readRecordFile(path: string): ReadRecords {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, data, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return decodeRecords(data.subarray(0, read));
  } finally {
    closeSync(fd);
  }
}

/** writeSync may write less than asked; the rest follows until the buffer is out. */
export function writeFully(fd: number, buffer: Buffer): void {
  let written = 0;
  while (written < buffer.length) {
    written += writeSync(fd, buffer, written, buffer.length - written);
  }
}
