/**
 * The edge agent's durable store-and-forward outbox.
 *
 * Every level, event and calibration record goes through it and leaves it only when trimmed: by
 * central's stored mark (`trimOn: central`) or by the broker's PUBACK (`trimOn: broker`). After a
 * broker outage, a network cut or a restart (even `kill -9` or a power cut mid-write) the backlog
 * is read back in order with the original timestamps.
 *
 * ```ts
 * const outbox = await Outbox.open(dir, { ...config.delivery, logger });
 * const seq = outbox.append({ topic, payload, qos: 1, retain: true }); // sequence number, from 1
 * outbox.on('appended', (seq) => wake());     // also: 'trimmed', 'dropped'
 * outbox.peek(afterSeq, 100);                 // records with seq > afterSeq, oldest first
 * for await (const batch of outbox.follow(outbox.trimmedThrough)) publish(batch);
 * outbox.trimThrough(storedMark);             // delivered: gone for good
 * outbox.stats();                             // queued, bytes, appended, delivered, dropped{…}
 * await outbox.close();
 * ```
 *
 * - Sequence numbers are assigned at append, increase by 1, and keep increasing across restarts
 *   even when everything was trimmed (the meta file keeps the next one). A trim mark above the
 *   last number handed out (central remembers more than this directory, e.g. after it was wiped)
 *   moves numbering past it, so central never mistakes new records for duplicates.
 * - `append` writes synchronously (`fs.writeSync`) to an append-only segment file: when it returns,
 *   the record is in the OS and a process crash or `kill -9` loses nothing. Durability against a
 *   power cut depends on `fsync`: `append` syncs every record; `interval` (default) syncs at most
 *   `fsyncIntervalMs` (default 5 ms) after an append, so a power cut can lose the records appended
 *   in that last window plus the sync itself; `none` leaves it to the OS. After an unclean stop
 *   across a reboot, numbering skips ahead by `powerLossSeqSkip` so a number whose record was lost
 *   but already published is never reused for different content.
 * - Each record carries its length and a CRC-32: a torn tail is truncated on open, a damaged record
 *   is skipped; both are counted as `dropped.corrupt`, and the records around them are kept.
 * - Bounds (`maxRecords`, `maxBytes` of live records, `maxAgeMs` by record `ts`): when one is
 *   exceeded the oldest records are dropped and counted by reason, and only then. Disk use can
 *   exceed `maxBytes` by up to one segment, since files are deleted whole.
 * - The trim mark reaches the meta file within `metaFlushMs` (at once when a file is deleted): a
 *   crash just after a trim can bring back the records of that window, which central drops as
 *   duplicates (delivery is at least once, never lossy).
 * - `payload` is stored and returned as given; the publisher adds `seq` to what it publishes.
 *   `ts` defaults to `payload.ts`, else to the clock. Listeners of 'appended' run inside `append`
 *   and must not block. One Outbox per directory (a lock file says which process holds it).
 */
import { EventEmitter } from 'node:events';
import { openSync, unlinkSync } from 'node:fs';
import { childLogger, ensurePrivateDir, parseWith } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { createLogger } from '../log.js';
import { OutboxErrorCodes, outboxError } from './errors.js';
import { acquireLock } from './lock.js';
import { currentBootId, writeMeta } from './meta.js';
import { type AppendInput, encodeAppend, invalid, type OutboxOptions, OutboxSettings } from './options.js';
import type { OutboxRecord, RecordHeader } from './record.js';
import { recoverOutbox } from './recover.js';
import type { Segment } from './segment.js';
import { SegmentLog } from './segment-log.js';
import { Syncer } from './syncer.js';
import type { DropReason, OutboxEvents, OutboxStats } from './types.js';
import { Waiters } from './waiters.js';

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxRecordBytes: number;
  private readonly store: SegmentLog;
  private readonly syncer: Syncer;
  private nextSeq = 1;
  private appended = 0;
  private delivered = 0;
  private readonly dropped: Record<DropReason, number> = {
    maxRecords: 0,
    maxBytes: 0,
    maxAge: 0,
    corrupt: 0,
  };
  private closed = false;
  private release: () => void = () => {};
  private metaTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Waiters();

  private constructor(
    readonly dir: string,
    private readonly settings: OutboxSettings,
    options: OutboxOptions,
    private readonly bootId: string | null,
  ) {
    super();
    this.log = childLogger(options.logger ?? createLogger('warn'), 'outbox');
    this.now = options.now ?? Date.now;
    this.maxRecordBytes = Math.min(settings.maxRecordBytes, settings.maxBytes);
    this.syncer = new Syncer(settings.fsync, settings.fsyncIntervalMs, this.log);
    this.store = new SegmentLog(
      { dir, segmentBytes: settings.segmentBytes, syncer: this.syncer },
      this.log,
      (n) => this.countDrop('corrupt', n),
    );
  }

  /** Opens (creating if needed) the outbox in `dir`, repairing whatever an unclean stop left. */
  static async open(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
    const settings = parseWith(OutboxSettings, options, 'outbox options');
    // Created 0700; its files are created 0600.
    const abs = ensurePrivateDir(dir);
    const bootId = options.bootId !== undefined ? options.bootId : currentBootId();
    const outbox = new Outbox(abs, settings, options, bootId);
    outbox.release = acquireLock(abs, bootId);
    try {
      outbox.recover();
    } catch (err) {
      outbox.store.closeAll();
      outbox.release();
      throw err;
    }
    return outbox;
  }

  private recover(): void {
    const rec = recoverOutbox(this.dir, this.bootId, this.settings.powerLossSeqSkip, this.log);
    this.store.adopt(rec.segments, rec.mark);
    this.nextSeq = rec.nextSeq;
    this.persistMeta(true);
    if (rec.lost > 0) this.countDrop('corrupt', rec.lost);
    this.removeDeadSegments();
    const last = this.store.segments.at(-1);
    if (last && last.size < this.settings.segmentBytes) {
      // Reopen for appending: O_APPEND writes always land at the end of the file.
      last.closeFd();
      last.fd = openSync(last.file, 'a+');
      this.store.active = last;
    }
    this.enforceBounds();
    this.checkAge();
    const every =
      this.settings.ageCheckMs ?? Math.min(60_000, Math.max(10, Math.floor(this.settings.maxAgeMs / 10)));
    this.ageTimer = setInterval(
      () => {
        try {
          this.checkAge();
        } catch (err) {
          this.log.error({ err }, 'outbox: age check failed');
        }
      },
      Math.max(1, every),
    );
    this.ageTimer.unref();
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Records up to and including this number are delivered or dropped. */
  get trimmedThrough(): number {
    return this.store.mark;
  }

  /** Appends one record and returns its sequence number; it is in the OS when this returns. */
  append(input: AppendInput): number {
    this.assertOpen();
    const seq = this.nextSeq;
    const { buf, ts } = encodeAppend(input, seq, this.maxRecordBytes, this.now);
    try {
      this.store.write(buf, seq, ts);
    } catch (err) {
      throw outboxError(OutboxErrorCodes.IO, `outbox append failed: ${(err as Error).message}`, err);
    }
    this.nextSeq = seq + 1;
    this.appended++;
    // A rotation may leave behind a segment that was already fully trimmed.
    if (this.store.hasDead()) this.removeDeadSegments();
    this.enforceBounds();
    try {
      this.emit('appended', seq);
    } catch (err) {
      this.log.error({ err }, 'outbox: an appended listener threw');
    }
    this.waiters.wakeAll();
    return seq;
  }

  /** Up to `limit` records with a sequence number above `afterSeq` (default: the trim mark). */
  peek(afterSeq = this.store.mark, limit = 100): OutboxRecord[] {
    this.assertOpen();
    if (!Number.isSafeInteger(afterSeq)) throw invalid('peek', 'afterSeq', 'an integer');
    if (Math.max(afterSeq, this.store.mark) >= this.lastSeq) return [];
    return this.store.read(afterSeq, limit);
  }

  /**
   * Removes every record with a sequence number up to `seq` (delivered) and returns how many went.
   * Whole segment files below the mark are deleted.
   */
  trimThrough(seq: number): number {
    this.assertOpen();
    if (!Number.isSafeInteger(seq) || seq < 0) throw invalid('trim mark', 'seq', 'a non-negative integer');
    if (seq <= this.store.mark) return 0;
    const count = this.store.consume(
      (h) => h.seq > seq,
      (s) => s.lastSeq <= seq,
    );
    this.store.mark = Math.max(this.store.mark, seq);
    this.delivered += count;
    if (seq >= this.nextSeq) {
      this.log.warn(
        { mark: seq, lastSeq: this.lastSeq },
        'outbox: trim mark above the last number; moving past it',
      );
      this.nextSeq = seq + 1;
      this.tryPersistMeta();
    }
    this.afterConsume();
    if (count > 0) this.emit('trimmed', { through: seq, count });
    return count;
  }

  /** Drops the records older than `maxAgeMs` now; also runs on a timer every `ageCheckMs`. */
  checkAge(): number {
    if (this.closed || this.store.liveCount === 0) return 0;
    const cutoff = this.now() - this.settings.maxAgeMs;
    return this.drop(
      'maxAge',
      (h) => h.ts >= cutoff,
      (s) => s.maxTs < cutoff,
    );
  }

  /** Resolves true once a record above `afterSeq` exists; false on close or abort. */
  waitForAppend(afterSeq: number, signal?: AbortSignal): Promise<boolean> {
    return this.waiters.wait(
      () => this.lastSeq > afterSeq,
      () => this.closed || signal?.aborted === true,
      signal,
    );
  }

  /**
   * Batches of records after `afterSeq`, oldest first, waiting for appends when caught up; ends on
   * close or abort. Records trimmed or dropped meanwhile are skipped.
   */
  async *follow(
    afterSeq = this.store.mark,
    opts: { batch?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<OutboxRecord[]> {
    let after = afterSeq;
    for (;;) {
      if (this.closed || opts.signal?.aborted) return;
      const batch = this.peek(after, opts.batch ?? 100);
      const last = batch.at(-1);
      if (last) {
        after = last.seq;
        yield batch;
      } else {
        after = Math.max(after, this.store.mark);
        if (!(await this.waitForAppend(after, opts.signal))) return;
      }
    }
  }

  stats(): OutboxStats {
    return {
      queued: this.store.liveCount,
      bytes: this.store.liveBytes,
      appended: this.appended,
      delivered: this.delivered,
      dropped: { ...this.dropped },
      firstSeq: this.closed ? null : this.store.firstLiveSeq(),
      lastSeq: this.lastSeq,
      trimmedThrough: this.store.mark,
      segments: this.store.segments.length,
      diskBytes: this.store.diskBytes(),
      fsyncs: this.syncer.syncs,
      fsyncErrors: this.syncer.errors,
    };
  }

  /** Forces what was appended to disk now (fdatasync). */
  flush(): void {
    this.assertOpen();
    if (this.store.active) this.syncer.now(this.store.active, true);
  }

  /** Syncs, writes the meta file as cleanly closed, releases every file, timer and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.metaTimer);
    clearInterval(this.ageTimer);
    await this.syncer.stop();
    try {
      if (this.store.active) this.syncer.now(this.store.active);
      this.persistMeta(false);
    } finally {
      this.store.closeAll();
      this.release();
      this.waiters.wakeAll();
    }
  }

  /** close(), under the start()/stop() lifecycle name. */
  stop(): Promise<void> {
    return this.close();
  }

  // --- internals ---------------------------------------------------------------------------------

  private persistMeta(open: boolean): void {
    clearTimeout(this.metaTimer);
    this.metaTimer = undefined;
    writeMeta(this.dir, {
      version: 1,
      nextSeq: this.nextSeq,
      trimmedThrough: this.store.mark,
      open,
      bootId: this.bootId,
    });
  }

  /** persistMeta for the paths that must not throw (timers, trims): a failure is logged. */
  private tryPersistMeta(): boolean {
    try {
      this.persistMeta(true);
      return true;
    } catch (err) {
      this.log.error({ err }, 'outbox: could not write the meta file');
      return false;
    }
  }

  private enforceBounds(): void {
    const { maxRecords, maxBytes } = this.settings;
    const s = this.store;
    if (s.liveCount > maxRecords) {
      this.drop(
        'maxRecords',
        () => s.liveCount <= maxRecords,
        (seg) => s.liveCount - seg.liveCount >= maxRecords,
      );
    }
    if (s.liveBytes > maxBytes) {
      this.drop(
        'maxBytes',
        () => s.liveBytes <= maxBytes,
        (seg) => s.liveBytes - seg.liveBytes >= maxBytes,
      );
    }
  }

  private drop(
    reason: DropReason,
    stop: (h: RecordHeader) => boolean,
    whole: (s: Segment) => boolean,
  ): number {
    const count = this.store.consume(stop, whole);
    if (count > 0) {
      this.countDrop(reason, count);
      this.afterConsume();
    }
    return count;
  }

  private countDrop(reason: DropReason, count: number): void {
    this.dropped[reason] += count;
    const through = this.store.mark;
    this.log.warn({ reason, count, through }, 'outbox: records dropped');
    try {
      this.emit('dropped', { reason, count, through });
    } catch (err) {
      this.log.error({ err }, 'outbox: a dropped listener threw');
    }
  }

  /** The trim mark moved: delete emptied segments now, write the mark to the meta file soon. */
  private afterConsume(): void {
    this.removeDeadSegments();
    if (this.metaTimer || this.closed) return;
    this.metaTimer = setTimeout(() => {
      this.metaTimer = undefined;
      if (!this.closed) this.tryPersistMeta();
    }, this.settings.metaFlushMs);
    this.metaTimer.unref();
  }

  /** Deletes segment files with no live record; the meta file goes first so numbering survives. */
  private removeDeadSegments(): void {
    const dead = this.store.takeDead();
    if (dead.length === 0) return;
    // Without the numbering safely in the meta file, keep the files: the next open reads them
    // again (delivery is at least once) rather than risk handing out a number twice.
    const keep = !this.tryPersistMeta();
    for (const seg of dead) {
      try {
        if (!keep) unlinkSync(seg.file);
      } catch (err) {
        this.log.error({ err, file: seg.file }, 'outbox: could not delete a trimmed segment');
      }
      if (this.syncer.mayClose(seg)) seg.closeFd();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw outboxError(OutboxErrorCodes.CLOSED, `outbox ${this.dir} is closed`);
  }
}
