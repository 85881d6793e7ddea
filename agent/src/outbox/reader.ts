/**
 * Buffered, forward reading of records from one segment file. Reads in chunks with positioned
 * reads (pread), so walking a segment costs one system call per chunk, not per record, and never
 * disturbs the append position of the same file.
 */
import { readSync } from 'node:fs';
import { checkRecord, HEADER_BYTES, MAGIC, READ_LIMIT, type RecordHeader, readHeader } from './record.js';

const CHUNK = 64 * 1024;

export type ReadResult =
  | { kind: 'ok'; offset: number; header: RecordHeader; buf: Buffer; at: number }
  | { kind: 'end' }
  | { kind: 'bad'; offset: number };

export class RecordReader {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private bufStart = 0;
  private bufLen = 0;
  /** File offset of the next record to read. */
  pos = 0;

  constructor(
    readonly fd: number,
    /** Bytes of the file that hold records; nothing past it is read. */
    public end: number,
  ) {}

  seek(offset: number): void {
    this.pos = offset;
  }

  /** Makes `need` bytes at file offset `offset` available in the buffer; false if past `end`. */
  private ensure(offset: number, need: number): boolean {
    if (offset + need > this.end) return false;
    if (offset >= this.bufStart && offset + need <= this.bufStart + this.bufLen) return true;
    const want = Math.min(Math.max(need, CHUNK), this.end - offset);
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, this.buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.bufStart = offset;
    this.bufLen = got;
    return got >= need;
  }

  /**
   * Reads the record at `pos` and moves past it. With `verify`, the CRC is checked too. A record
   * that is cut short, has no magic or fails its check is reported as `bad` and `pos` stays on it.
   */
  next(verify: boolean): ReadResult {
    const pos = this.pos;
    if (pos >= this.end) return { kind: 'end' };
    if (!this.ensure(pos, HEADER_BYTES)) return { kind: 'bad', offset: pos };
    const header = readHeader(this.buf, pos - this.bufStart, READ_LIMIT);
    if (!header || !this.ensure(pos, header.length)) return { kind: 'bad', offset: pos };
    const at = pos - this.bufStart;
    if (verify && !checkRecord(this.buf, at, header.length)) return { kind: 'bad', offset: pos };
    this.pos = pos + header.length;
    return { kind: 'ok', offset: pos, header, buf: this.buf, at };
  }

  /** File offset of the next occurrence of the record magic at or after `from`; -1 if none. */
  findMagic(from: number): number {
    let offset = from;
    while (offset + MAGIC.length <= this.end) {
      if (!this.ensure(offset, Math.min(CHUNK, this.end - offset))) return -1;
      const i = this.buf.subarray(0, this.bufLen).indexOf(MAGIC, offset - this.bufStart);
      if (i >= 0) return this.bufStart + i;
      // Step back a little so a magic split across two chunks is still found.
      const next = this.bufStart + this.bufLen - (MAGIC.length - 1);
      if (next <= offset) return -1;
      offset = next;
    }
    return -1;
  }
}
