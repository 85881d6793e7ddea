/**
 * When appended records reach the disk (fdatasync), per the `fsync` setting. In `interval` mode
 * the sync runs on libuv's thread pool, at most one at a time, so a slow SD card never blocks the
 * event loop; appends made while it runs are covered by the next one.
 */
import { fdatasync, fdatasyncSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Segment } from './segment.js';

export type FsyncMode = 'append' | 'interval' | 'none';

export class Syncer {
  syncs = 0;
  errors = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The segment a background sync is running on; its fd must stay open until it ends. */
  private runningOn: Segment | undefined;
  private dirty: Segment | undefined;
  private stopped = false;

  constructor(
    private readonly mode: FsyncMode,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Called after each append to `seg`. */
  written(seg: Segment): void {
    if (this.mode === 'append') {
      this.now(seg);
      return;
    }
    if (this.mode === 'none') return;
    this.dirty = seg;
    if (!this.timer && !this.running && !this.stopped) {
      this.timer = setTimeout(() => this.background(), this.intervalMs);
    }
  }

  /** Syncs `seg` now, on this thread (rotation, close), unless the mode is `none` and not `force`. */
  now(seg: Segment, force = false): void {
    if (seg.fd < 0 || (this.mode === 'none' && !force)) return;
    try {
      fdatasyncSync(seg.fd);
      this.syncs++;
    } catch (err) {
      this.errors++;
      this.log.error({ err, file: seg.file }, 'outbox: fdatasync failed');
    }
    if (this.dirty === seg) this.dirty = undefined;
  }

  /** Whether `seg`'s fd may be closed now; if not, it is closed when the running sync ends. */
  mayClose(seg: Segment): boolean {
    return this.runningOn !== seg;
  }

  private background(): void {
    this.timer = undefined;
    const seg = this.dirty;
    if (!seg || seg.fd < 0 || this.stopped) return;
    this.dirty = undefined;
    this.runningOn = seg;
    this.running = new Promise((done) => {
      fdatasync(seg.fd, (err) => {
        this.running = undefined;
        this.runningOn = undefined;
        if (err) {
          this.errors++;
          this.log.error({ err, file: seg.file }, 'outbox: fdatasync failed');
        } else {
          this.syncs++;
        }
        if (seg.deleted) seg.closeFd();
        if (this.dirty && !this.stopped) this.timer = setTimeout(() => this.background(), this.intervalMs);
        done();
      });
    });
  }

  /** Stops scheduling and waits for a running sync to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
  }
}
