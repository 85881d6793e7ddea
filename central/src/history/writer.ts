/**
 * The history writer: takes points from ingest without ever making it wait, writes them in
 * batches (batchSize points, or whatever waits after flushMs), and while the store cannot be
 * reached keeps them in a bounded buffer — past bufferLimit the oldest are dropped and counted —
 * retrying with exponential backoff. One write is in flight at a time, so points arrive in order.
 *
 *   const writer = new HistoryWriter({ store, batchSize, flushMs, bufferLimit, retry, log });
 *   writer.start();
 *   ingest.on('committed', (readings) => writer.enqueue(pointsFromReadings(readings)));
 *   … await writer.stop();
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { HistoryPoint, HistoryStore, WriteResult } from './contract.js';
import { HistoryErrorCodes, isHistoryError } from './errors.js';
import { BoundedQueue } from './queue.js';

export interface HistoryWriterOptions {
  store: HistoryStore;
  batchSize: number;
  flushMs: number;
  bufferLimit: number;
  retry: { initialMs: number; maxMs: number };
  /** On stop, the last writes may take this long; what is left then is dropped (and counted). */
  stopTimeoutMs?: number;
  log: Logger;
  /** 0..1, for the retry jitter (seeded in tests). */
  random?: () => number;
}

export interface HistoryWriterCounters {
  /** Points the store accepted. */
  written: number;
  /** Points the store refused for good (bad value, type conflict). */
  rejected: number;
  /** Points given up: the buffer was full (oldest first), or the writer stopped with them unsent. */
  dropped: number;
  /** Write attempts repeated after a failure. */
  retries: number;
  /** Write attempts that failed (the store could not be reached). */
  failures: number;
}

export interface HistoryWriterEvents {
  written: [result: WriteResult];
  failed: [err: Error, retryInMs: number];
  dropped: [count: number];
}

/** Share of a retry delay that is randomised away, so central nodes that failed together spread out. */
const JITTER = 0.2;

export class HistoryWriter extends EventEmitter<HistoryWriterEvents> {
  readonly counters: HistoryWriterCounters = { written: 0, rejected: 0, dropped: 0, retries: 0, failures: 0 };
  private readonly queue: BoundedQueue<HistoryPoint>;
  private readonly batchSize: number;
  private inflight: Promise<void> | null = null;
  private inflightSize = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** Consecutive failed attempts; 0 while the store answers. */
  private failing = 0;
  private running = false;
  /** Set once stop() has given up what was left: a late answer then changes nothing. */
  private closed = false;

  constructor(private readonly o: HistoryWriterOptions) {
    super();
    for (const k of ['batchSize', 'bufferLimit'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`${k} must be a positive integer`);
    }
    this.queue = new BoundedQueue(o.bufferLimit);
    this.batchSize = Math.min(o.batchSize, o.bufferLimit);
  }

  /** Points waiting or in flight. */
  get buffered(): number {
    return this.queue.size + this.inflightSize;
  }

  /** Whether the last write attempt failed (the writer is backing off). */
  get degraded(): boolean {
    return this.failing > 0;
  }

  start(): void {
    this.running = true;
    this.closed = false;
    if (this.queue.size) this.schedule();
  }

  /**
   * Takes points to write; returns at once. Never throws on the caller: a point it cannot keep is
   * counted as dropped.
   */
  enqueue(points: readonly HistoryPoint[]): void {
    if (points.length === 0) return;
    if (!this.running) {
      this.drop(points.length, 'writer is stopped');
      return;
    }
    const over = this.queue.push(points);
    if (over) this.drop(over, 'buffer full');
    this.schedule();
  }

  /** Arranges the next write: now when a batch is full, after flushMs otherwise, never during a backoff. */
  private schedule(): void {
    if (!this.running || this.inflight || this.retryTimer || this.immediate) return;
    if (this.queue.size >= this.batchSize) {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      // setImmediate: the write (and its encoding) runs after the caller's turn, never inside it.
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.writeNext();
      });
    } else if (this.queue.size > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.writeNext();
      }, this.o.flushMs);
    }
  }

  private writeNext(): void {
    if (this.inflight || this.queue.size === 0) return;
    const batch = this.queue.take(this.batchSize);
    this.inflightSize = batch.length;
    this.inflight = this.attempt(batch).finally(() => {
      this.inflight = null;
      this.inflightSize = 0;
      this.schedule();
    });
  }

  private async attempt(batch: HistoryPoint[]): Promise<void> {
    try {
      const r = await this.o.store.write(batch);
      if (this.failing) this.o.log.info({ after: this.failing }, 'history store reachable again');
      this.failing = 0;
      this.counters.written += r.written;
      this.counters.rejected += r.rejected;
      this.emit('written', r);
    } catch (err) {
      if (isHistoryError(err, HistoryErrorCodes.REJECTED)) {
        this.counters.rejected += batch.length;
        this.o.log.warn({ err: err.message, points: batch.length }, 'history batch refused');
        return;
      }
      this.failing++;
      this.counters.failures++;
      if (this.closed) {
        this.drop(batch.length, 'stopped before they could be written');
        return;
      }
      const over = this.queue.unshift(batch);
      if (over) this.drop(over, 'buffer full');
      const delay = this.backoff();
      const log = this.failing === 1 ? this.o.log.warn : this.o.log.debug;
      log.call(
        this.o.log,
        { err: (err as Error).message, buffered: this.buffered, retryInMs: delay },
        'history write failed; buffering',
      );
      if (this.running) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.counters.retries++;
          this.writeNext();
        }, delay);
      }
      this.emit('failed', err as Error, delay);
    }
  }

  private backoff(): number {
    const { initialMs, maxMs } = this.o.retry;
    const exp = Math.min(maxMs, initialMs * 2 ** Math.min(this.failing - 1, 40));
    const r = Math.min(1, Math.max(0, (this.o.random ?? Math.random)()));
    return Math.max(1, Math.round(exp * (1 - JITTER * r)));
  }

  private drop(n: number, why: string): void {
    this.counters.dropped += n;
    this.o.log.warn({ dropped: n, total: this.counters.dropped, why }, 'history points dropped');
    this.emit('dropped', n);
  }

  /**
   * Stops taking points and writes what waits, for at most stopTimeoutMs (not at all while the
   * store is failing); the rest is dropped and counted. Releases every timer.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of [this.flushTimer, this.retryTimer]) if (t) clearTimeout(t);
    if (this.immediate) clearImmediate(this.immediate);
    this.flushTimer = this.retryTimer = this.immediate = null;
    const deadline = Date.now() + (this.o.stopTimeoutMs ?? 2_000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()));
    });
    try {
      for (;;) {
        if (this.inflight && (await Promise.race([this.inflight, timeout])) === 'timeout') break;
        if (this.failing || this.queue.size === 0 || Date.now() >= deadline) break;
        this.writeNext();
      }
    } finally {
      clearTimeout(timer);
      // A write the deadline cut off is counted when it ends: written if it lands, dropped if not.
      const left = this.queue.drain().length;
      if (left) this.drop(left, 'stopped before they could be written');
      this.closed = true;
    }
  }
}
