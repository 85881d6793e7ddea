/**
 * Validates a segment file record by record when the outbox opens. A record that is cut short or
 * fails its CRC is skipped: the scan looks for the next offset holding a whole, valid record with a
 * higher sequence number and carries on from there, so one damaged record costs that record only.
 * Bytes after the last valid record (a torn tail) are reported so the caller can truncate them.
 */

import { RecordReader } from './reader.js';
import type { RecordHeader } from './record.js';

/** A run of bytes that held no valid record. */
export interface BadRegion {
  start: number;
  end: number;
  /** Sequence number of the last valid record before it (or the previous segment's last), if any. */
  prevSeq: number | undefined;
  /** Sequence number of the first valid record after it in this segment, if any. */
  nextSeq: number | undefined;
}

export interface ScanResult {
  /** Offset just past the last valid record: everything after it is a torn or damaged tail. */
  validEnd: number;
  regions: BadRegion[];
  firstSeq: number | undefined;
  lastSeq: number | undefined;
}

/**
 * Walks `fd` from offset 0 to `size`, calling `onRecord` for each valid record in order. Records
 * must have sequence numbers above `minSeq` and increasing; any that do not count as damage.
 */
export function scanSegment(
  fd: number,
  size: number,
  minSeq: number | undefined,
  onRecord: (header: RecordHeader, offset: number) => void,
): ScanResult {
  const reader = new RecordReader(fd, size);
  const regions: BadRegion[] = [];
  let lastSeq = minSeq;
  let firstSeq: number | undefined;
  let validEnd = 0;
  let badStart: number | undefined;

  const accept = (header: RecordHeader, offset: number): void => {
    if (badStart !== undefined) {
      regions.push({ start: badStart, end: offset, prevSeq: lastSeq, nextSeq: header.seq });
      badStart = undefined;
    }
    firstSeq ??= header.seq;
    lastSeq = header.seq;
    validEnd = offset + header.length;
    onRecord(header, offset);
  };

  for (;;) {
    const r = reader.next(true);
    if (r.kind === 'end') break;
    if (r.kind === 'ok' && (lastSeq === undefined || r.header.seq > lastSeq)) {
      accept(r.header, r.offset);
      continue;
    }
    // Damage at r.offset: resynchronise on the next valid record, if there is one.
    badStart ??= r.offset;
    let candidate = reader.findMagic(r.offset + 1);
    let resumed = false;
    while (candidate >= 0) {
      reader.seek(candidate);
      const c = reader.next(true);
      if (c.kind === 'ok' && (lastSeq === undefined || c.header.seq > lastSeq)) {
        accept(c.header, c.offset);
        resumed = true;
        break;
      }
      candidate = reader.findMagic(candidate + 1);
    }
    if (!resumed) break;
  }
  if (badStart !== undefined || validEnd < size) {
    regions.push({ start: badStart ?? validEnd, end: size, prevSeq: lastSeq, nextSeq: undefined });
  }
  return { validEnd, regions, firstSeq, lastSeq: firstSeq === undefined ? undefined : lastSeq };
}
