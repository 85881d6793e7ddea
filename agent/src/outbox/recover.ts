/**
 * Opening an outbox directory after any kind of stop: validates every segment, truncates a torn
 * tail, remembers damaged ranges inside a file as holes, and counts the records lost to damage
 * (only those not already trimmed). Nothing here trusts a byte that failed its check.
 */
import { fdatasyncSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { META_FILE, readMeta } from './meta.js';
import { HEADER_BYTES } from './record.js';
import { type BadRegion, scanSegment } from './scan.js';
import { listSegmentFiles, Segment } from './segment.js';

export interface Recovered {
  /** Segments holding at least one valid record, oldest first, fds open read/write. */
  segments: Segment[];
  /** Highest valid sequence number on disk, 0 if none. */
  lastSeq: number;
  /** Live records lost to damage. */
  lost: number;
  truncatedBytes: number;
}

/** Records with a sequence number above `mark` that a damaged range can have held. */
function lostIn(region: BadRegion, mark: number, tail = false): number {
  const known = region.nextSeq === undefined ? 0 : region.nextSeq - 1 - Math.max(region.prevSeq ?? 0, mark);
  const most = Math.ceil((region.end - region.start) / HEADER_BYTES);
  const lost = Math.max(0, Math.min(known, most));
  // A torn tail holds at least the record being written when the process or the power went.
  if (tail && lost === 0 && (region.prevSeq === undefined || region.prevSeq >= mark)) return 1;
  return lost;
}

/**
 * `nextSeqHint` is the meta file's next number: exact after a clean close, so it bounds what a
 * damaged tail of the last segment held.
 */
export function recoverSegments(
  dir: string,
  mark: number,
  nextSeqHint: number | undefined,
  log: Logger,
): Recovered {
  const segments: Segment[] = [];
  const tails: { index: number; region: BadRegion }[] = [];
  let lastSeq: number | undefined;
  let lost = 0;
  let truncatedBytes = 0;

  for (const name of listSegmentFiles(dir)) {
    const file = join(dir, name);
    const fd = openSync(file, 'r+');
    const size = fstatSync(fd).size;
    const seg = new Segment(file, fd, Number.parseInt(name, 10));
    const res = scanSegment(fd, size, lastSeq, (h, offset) => {
      if (h.ts > seg.maxTs) seg.maxTs = h.ts;
      if (h.seq <= mark) return;
      if (seg.liveCount === 0) seg.liveOffset = offset;
      seg.liveCount++;
      seg.liveBytes += h.length;
    });
    for (const region of res.regions) {
      if (region.nextSeq !== undefined) {
        seg.holes.set(region.start, region.end);
        const n = lostIn(region, mark);
        lost += n;
        log.warn({ file: name, ...region, lost: n }, 'outbox: damaged records skipped');
      } else {
        // Cut the torn or damaged tail so appends continue from the last valid record.
        ftruncateSync(fd, region.start);
        fdatasyncSync(fd);
        truncatedBytes += region.end - region.start;
        tails.push({ index: res.firstSeq === undefined ? -1 : segments.length, region });
      }
    }
    if (res.firstSeq === undefined || res.lastSeq === undefined) {
      seg.closeFd();
      unlinkSync(file);
      continue;
    }
    seg.firstSeq = res.firstSeq;
    seg.lastSeq = res.lastSeq;
    seg.size = res.validEnd;
    if (seg.liveCount === 0) seg.liveOffset = seg.size;
    segments.push(seg);
    lastSeq = res.lastSeq;
  }
  for (const { index, region } of tails) {
    // A damaged tail followed by another segment: that segment's first number bounds the loss.
    const following = index >= 0 ? segments[index + 1] : undefined;
    const bound = following ? following.firstSeq : index === segments.length - 1 ? nextSeqHint : undefined;
    const n = lostIn({ ...region, nextSeq: bound }, mark, true);
    lost += n;
    log.warn({ ...region, lost: n }, 'outbox: torn tail truncated');
  }
  return { segments, lastSeq: lastSeq ?? 0, lost, truncatedBytes };
}

export interface OutboxState {
  segments: Segment[];
  mark: number;
  /** The next sequence number to hand out. */
  nextSeq: number;
  /** Live records lost to damage. */
  lost: number;
}

/**
 * Reads the meta file and the segments and decides where numbering resumes: past everything on
 * disk, the trim mark and the meta file's next number, and past a power-loss gap when the last
 * stop was unclean in another boot (a power cut or OS crash may have lost the last fsync window
 * although its numbers had already been published). With no meta file next to existing
 * segments, nothing can be ruled out either.
 */
export function recoverOutbox(
  dir: string,
  bootId: string | null,
  powerLossSeqSkip: number,
  log: Logger,
): OutboxState {
  const meta = readMeta(dir);
  if (meta.kind === 'bad') log.warn({ reason: meta.reason }, 'outbox: meta file unreadable');
  try {
    unlinkSync(join(dir, `${META_FILE}.tmp`));
  } catch {
    // No temp file left over.
  }
  const mark = meta.kind === 'ok' ? meta.meta.trimmedThrough : 0;
  const hint = meta.kind === 'ok' ? meta.meta.nextSeq : undefined;
  const rec = recoverSegments(dir, mark, hint, log);
  let nextSeq = Math.max(meta.kind === 'ok' ? meta.meta.nextSeq : 1, rec.lastSeq + 1, mark + 1);
  const powerLoss =
    meta.kind === 'ok'
      ? meta.meta.open && (meta.meta.bootId === null || meta.meta.bootId !== bootId)
      : meta.kind === 'bad' || rec.segments.length > 0;
  if (powerLoss && powerLossSeqSkip > 0) {
    log.warn({ from: nextSeq, skip: powerLossSeqSkip }, 'outbox: unclean stop in an earlier boot');
    nextSeq += powerLossSeqSkip;
  }
  return { segments: rec.segments, mark, nextSeq, lost: rec.lost };
}
