/**
 * The ordered list of segment files and the live window across them: which records are still
 * queued (above the trim mark), how many and how many bytes. Reading resumes from a cursor, so
 * the publisher's sequential reads cost only the records returned; removing from the head walks
 * record headers only, and whole segments below a bound go without being read at all.
 */
import { ftruncateSync, openSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { fsyncDir, writeAll } from './meta.js';
import type { RecordReader } from './reader.js';
import { decodeRecord, type OutboxRecord, type RecordHeader } from './record.js';
import { scanSegment } from './scan.js';
import { Segment } from './segment.js';
import type { Syncer } from './syncer.js';

export interface SegmentLogConfig {
  dir: string;
  segmentBytes: number;
  syncer: Syncer;
}

interface Cursor {
  seg: Segment;
  offset: number;
  afterSeq: number;
}

export class SegmentLog {
  segments: Segment[] = [];
  /** The segment appends go to; undefined until the next append creates one. */
  active: Segment | undefined;
  /** Records up to and including this sequence number are delivered or dropped. */
  mark = 0;
  liveCount = 0;
  liveBytes = 0;
  private cursor: Cursor | undefined;
  /**
   * One reader for the head (trims, drops) and one for reading on (peek), each kept while it stays
   * on the same segment: its buffered chunk then serves the next call without a read. Segment bytes
   * below the valid size never change, so a buffered chunk never goes stale.
   */
  private readonly readers: Record<'head' | 'tail', { seg: Segment; reader: RecordReader } | undefined> = {
    head: undefined,
    tail: undefined,
  };

  constructor(
    private readonly config: SegmentLogConfig,
    private readonly log: Logger,
    /** Called with the number of live records found damaged while running. */
    private readonly onCorrupt: (count: number) => void,
  ) {}

  adopt(segments: Segment[], mark: number): void {
    this.segments = segments;
    this.mark = mark;
    for (const s of segments) {
      this.liveCount += s.liveCount;
      this.liveBytes += s.liveBytes;
    }
  }

  /**
   * Writes an encoded record at the end of the active segment (starting a new one at the size
   * limit) and books it; synchronous, so it is in the OS on return. On a failed or partial write
   * the file is cut back, so no torn record stays in the middle of it.
   */
  write(buf: Buffer, seq: number, ts: number): Segment {
    const seg = this.segmentFor(buf.length, seq);
    try {
      writeAll(seg.fd, buf);
    } catch (err) {
      try {
        ftruncateSync(seg.fd, seg.size);
      } catch (cutErr) {
        // Cannot cut it back: append elsewhere. Bytes past seg.size are never read while open,
        // and the next open skips them as damage.
        this.log.error({ err: cutErr, file: seg.file }, 'outbox: could not undo a partial write');
        if (this.active === seg) this.active = undefined;
      }
      throw err;
    }
    if (seg.liveCount === 0) seg.liveOffset = seg.size;
    seg.size += buf.length;
    seg.lastSeq = seq;
    if (ts > seg.maxTs) seg.maxTs = ts;
    seg.liveCount++;
    seg.liveBytes += buf.length;
    this.liveCount++;
    this.liveBytes += buf.length;
    this.config.syncer.written(seg);
    return seg;
  }

  private segmentFor(length: number, seq: number): Segment {
    const cur = this.active;
    if (cur && (cur.size === 0 || cur.size + length <= this.config.segmentBytes)) return cur;
    if (cur) this.config.syncer.now(cur);
    const file = Segment.path(this.config.dir, seq);
    const seg = new Segment(file, openSync(file, 'a+', PRIVATE_FILE_MODE), seq);
    this.segments.push(seg);
    this.active = seg;
    try {
      // The new directory entry must survive a power cut along with the records written into it.
      fsyncDir(this.config.dir);
    } catch (err) {
      this.log.error({ err, file }, 'outbox: could not fsync the directory');
    }
    return seg;
  }

  /** Up to `limit` live records with a sequence number above `afterSeq`, oldest first. */
  read(afterSeq: number, limit: number): OutboxRecord[] {
    const out: OutboxRecord[] = [];
    const from = Math.max(afterSeq, this.mark);
    if (limit <= 0 || this.liveCount === 0) return out;
    const c = this.cursor;
    let idx: number;
    let offset = 0;
    if (c && c.afterSeq === from && !c.seg.deleted) {
      idx = this.segments.indexOf(c.seg);
      offset = c.offset;
    } else {
      idx = this.segments.findIndex((s) => s.lastSeq > from && s.liveCount > 0);
    }
    for (; idx >= 0 && idx < this.segments.length && out.length < limit; idx++, offset = 0) {
      const seg = this.segments[idx] as Segment;
      if (seg.liveCount === 0) continue;
      const reader = this.readerFor('tail', seg, Math.max(offset, seg.liveOffset));
      let rescanned = false;
      while (out.length < limit) {
        const r = seg.next(reader, true);
        if (r.kind === 'end') break;
        if (r.kind === 'bad') {
          if (rescanned) break;
          rescanned = true;
          this.rescan(seg);
          continue;
        }
        if (r.header.seq <= from) continue;
        try {
          out.push(decodeRecord(r.buf, r.at, r.header));
        } catch (err) {
          // Passed its CRC yet is not a JSON object: not written by us. Skip it and count it.
          this.log.error({ err, seq: r.header.seq }, 'outbox: undecodable record skipped');
          seg.holes.set(r.offset, r.offset + r.header.length);
          this.takeLive(seg, r.header.length);
          this.onCorrupt(1);
          continue;
        }
        this.cursor = { seg, offset: reader.pos, afterSeq: r.header.seq };
      }
    }
    return out;
  }

  /**
   * Removes live records from the oldest on until `stop` says the next one stays; a segment for
   * which `whole` holds goes at once, unread. Returns how many records went.
   */
  consume(stop: (h: RecordHeader) => boolean, whole: (s: Segment) => boolean): number {
    let count = 0;
    for (const seg of this.segments) {
      if (this.liveCount === 0) break;
      if (seg.liveCount === 0) continue;
      if (whole(seg)) {
        count += seg.liveCount;
        this.mark = Math.max(this.mark, seg.lastSeq);
        this.takeLive(seg, seg.liveBytes, seg.liveCount);
        seg.liveOffset = seg.size;
        continue;
      }
      const reader = this.readerFor('head', seg, seg.liveOffset);
      let rescanned = false;
      while (seg.liveCount > 0) {
        const r = seg.next(reader, false);
        if (r.kind !== 'ok') {
          if (rescanned) break;
          rescanned = true;
          this.rescan(seg);
          reader.seek(seg.liveOffset);
          continue;
        }
        if (stop(r.header)) return count;
        seg.liveOffset = r.offset + r.header.length;
        this.takeLive(seg, r.header.length);
        this.mark = Math.max(this.mark, r.header.seq);
        count++;
      }
    }
    return count;
  }

  private takeLive(seg: Segment, bytes: number, count = 1): void {
    seg.liveCount -= count;
    seg.liveBytes -= bytes;
    this.liveCount -= count;
    this.liveBytes -= bytes;
  }

  /** True when a segment other than the active one has no live record left. */
  hasDead(): boolean {
    return this.segments.some((s) => s.liveCount === 0 && s !== this.active);
  }

  /**
   * Segments with no live record left, taken off the list (the caller deletes their files). The
   * active one stays even when empty: a connected agent trims right behind its appends, and
   * recreating the file each time would cost a file creation and two fsyncs per record.
   */
  takeDead(): Segment[] {
    const dead = this.segments.filter((s) => s.liveCount === 0 && s !== this.active);
    if (dead.length === 0) return dead;
    for (const seg of dead) seg.deleted = true;
    this.segments = this.segments.filter((s) => !s.deleted);
    return dead;
  }

  /**
   * The bytes of a segment changed while open (a failed check): validate the file again, turn the
   * damaged ranges into holes and count the live records they took.
   */
  rescan(seg: Segment): void {
    const idx = this.segments.indexOf(seg);
    const before = idx > 0 ? this.segments[idx - 1]?.lastSeq : undefined;
    let liveCount = 0;
    let liveBytes = 0;
    let liveOffset = seg.size;
    const res = scanSegment(seg.fd, seg.size, before, (h, offset) => {
      if (h.seq <= this.mark) return;
      if (liveCount === 0) liveOffset = offset;
      liveCount++;
      liveBytes += h.length;
    });
    seg.holes.clear();
    for (const r of res.regions) seg.holes.set(r.start, r.end);
    const lost = Math.max(0, seg.liveCount - liveCount);
    this.liveCount += liveCount - seg.liveCount;
    this.liveBytes += liveBytes - seg.liveBytes;
    seg.liveCount = liveCount;
    seg.liveBytes = liveBytes;
    seg.liveOffset = liveOffset;
    this.cursor = undefined;
    this.log.error({ file: seg.file, regions: res.regions, lost }, 'outbox: segment damaged while open');
    if (lost > 0) this.onCorrupt(lost);
  }

  firstLiveSeq(): number | null {
    for (const seg of this.segments) {
      if (seg.liveCount === 0) continue;
      const r = seg.next(this.readerFor('head', seg, seg.liveOffset), false);
      if (r.kind === 'ok') return r.header.seq;
    }
    return null;
  }

  private readerFor(which: 'head' | 'tail', seg: Segment, from: number): RecordReader {
    let cached = this.readers[which];
    if (!cached || cached.seg !== seg || cached.reader.fd !== seg.fd) {
      cached = { seg, reader: seg.reader(from) };
      this.readers[which] = cached;
    }
    cached.reader.seek(from);
    return cached.reader;
  }

  diskBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  closeAll(): void {
    for (const seg of this.segments) seg.closeFd();
    this.segments = [];
    this.active = undefined;
  }
}
