/**
 * One segment file of the outbox and what the outbox keeps in memory about it, so reading from
 * the oldest live record or trimming never rescans the files: the sequence range, the valid size,
 * the offset of the first live (untrimmed) record, and the live count and bytes.
 */
import { closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ReadResult, RecordReader } from './reader.js';

const NAME = /^(\d{15})\.seg$/;

/** `000000000012345.seg`: named by the first sequence number, so names sort in sequence order. */
export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(15, '0')}.seg`;
}

/** Segment file names in `dir`, oldest first. */
export function listSegmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .sort();
}

export class Segment {
  /** Sequence number of the last valid record; firstSeq - 1 while empty. */
  lastSeq: number;
  /** Bytes holding records (the file's valid length). */
  size = 0;
  /** Largest record `ts` in the file, for dropping whole segments by age. */
  maxTs = 0;
  /** Offset of the first live record; everything before it is trimmed or dropped. */
  liveOffset = 0;
  liveCount = 0;
  liveBytes = 0;
  /** Damaged byte ranges (start → end) found inside the file; readers jump over them. */
  readonly holes = new Map<number, number>();
  deleted = false;

  constructor(
    readonly file: string,
    public fd: number,
    public firstSeq: number,
  ) {
    this.lastSeq = firstSeq - 1;
  }

  static path(dir: string, firstSeq: number): string {
    return join(dir, segmentName(firstSeq));
  }

  reader(from: number): RecordReader {
    const r = new RecordReader(this.fd, this.size);
    r.seek(from);
    return r;
  }

  /** Next record from `reader`, jumping over known holes. */
  next(reader: RecordReader, verify: boolean): ReadResult {
    reader.end = this.size;
    for (;;) {
      const holeEnd = this.holes.get(reader.pos);
      if (holeEnd === undefined) return reader.next(verify);
      reader.seek(holeEnd);
    }
  }

  closeFd(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = -1;
    }
  }
}
