/**
 * The history writer's own logic against an in-memory store whose availability the test controls:
 * batching, never writing inside the caller's turn, the retry schedule, refused batches, stop.
 * (The same writer against a real influxd under a live ingest: tests/integration/history.)
 */
import {
  HistoryError,
  HistoryErrorCodes,
  type HistoryPoint,
  type HistoryStore,
  HistoryWriter,
  type HistoryWriterOptions,
  type WriteResult,
} from '@shelfsense/central/history';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { onceWithTimeout, waitFor } from '../../../helpers/wait.js';
import { BASE_TS, Points } from '../../../integration/history/fixtures.js';

type Mode = 'up' | 'down' | 'refuse' | 'hang';

/** Holds what it is given; `mode` decides how the next write ends. */
class MemoryStore implements HistoryStore {
  readonly kind = 'sqlite' as const;
  mode: Mode = 'up';
  batches: number[][] = [];
  calls = 0;
  private hung: ((err: Error) => void)[] = [];

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  write(points: readonly HistoryPoint[]): Promise<WriteResult> {
    this.calls++;
    switch (this.mode) {
      case 'up':
        this.batches.push(points.map((p) => (p.kind === 'health' ? 0 : p.payload.seq)));
        return Promise.resolve({ written: points.length, rejected: 0 });
      case 'down':
        return Promise.reject(new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'down'));
      case 'refuse':
        return Promise.reject(new HistoryError(HistoryErrorCodes.REJECTED, 'bad points', 400));
      case 'hang':
        return new Promise((_, reject) => this.hung.push(reject));
    }
  }
  /** Ends every hanging write with a failure. */
  fail(): void {
    for (const r of this.hung.splice(0)) r(new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'timed out'));
  }
  levels = async () => [];
  events = async () => [];
  calibrations = async () => [];
  health = async () => [];
  latest = async () => [];
}

const log = pino({ level: 'silent' });
const LANE = { site: 's1', shelf: 'a', lane: 'l1' };
const writers: HistoryWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop();
});

function writer(store: HistoryStore, o: Partial<HistoryWriterOptions> = {}): HistoryWriter {
  const w = new HistoryWriter({
    store,
    batchSize: 5,
    flushMs: 20,
    bufferLimit: 1_000,
    retry: { initialMs: 10, maxMs: 80 },
    log,
    random: () => 0,
    ...o,
  });
  w.start();
  writers.push(w);
  return w;
}

function levels(pts: Points, n: number): HistoryPoint[] {
  return Array.from({ length: n }, (_, i) => pts.level(LANE, BASE_TS + i));
}

describe('HistoryWriter', () => {
  it('[HIST-BATCH] full batches go at once, the rest after flushMs, all in order', async () => {
    const store = new MemoryStore();
    const w = writer(store);
    w.enqueue(levels(new Points(), 12));
    await waitFor(() => w.counters.written === 12, 5_000, { what: '12 points written' });
    expect(store.batches).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
      [11, 12],
    ]);
  });

  it('[HIST-NONBLOCKING] enqueue returns before any write begins, even with a full batch', async () => {
    const store = new MemoryStore();
    const w = writer(store);
    const written = onceWithTimeout(w, 'written');
    expect(w.enqueue(levels(new Points(), 5))).toBeUndefined();
    expect(store.calls).toBe(0);
    expect(w.buffered).toBe(5);
    await written;
    expect(store.calls).toBe(1);
  });

  it('[HIST-BACKOFF] retries double from initialMs to maxMs, less up to 20 % jitter; success resets', async () => {
    for (const [random, expected] of [
      [() => 0, [10, 20, 40, 80, 80]],
      [() => 1, [8, 16, 32, 64, 64]],
    ] as const) {
      const store = new MemoryStore();
      store.mode = 'down';
      const w = writer(store, { random });
      const delays: number[] = [];
      w.on('failed', (_err, ms) => delays.push(ms));
      w.enqueue(levels(new Points(), 3));
      await waitFor(() => delays.length >= 5, 5_000, { what: 'five failed attempts' });
      expect(delays.slice(0, 5)).toEqual(expected);
      expect(w.degraded).toBe(true);
      expect(w.buffered).toBe(3);
      store.mode = 'up';
      await waitFor(() => w.counters.written === 3, 5_000, { what: 'delivery once the store is back' });
      expect(w.degraded).toBe(false);
      expect(w.counters.retries).toBeGreaterThanOrEqual(5);
      expect(w.counters.dropped).toBe(0);
    }
  });

  it('[HIST-REJECTED] a batch the store refuses is counted and not retried; the next one goes', async () => {
    const store = new MemoryStore();
    store.mode = 'refuse';
    const w = writer(store);
    const pts = new Points();
    w.enqueue(levels(pts, 5));
    await waitFor(() => w.counters.rejected === 5, 5_000, { what: 'the refused batch' });
    expect(w.counters.failures).toBe(0);
    expect(w.buffered).toBe(0);
    store.mode = 'up';
    w.enqueue(levels(pts, 5));
    await waitFor(() => w.counters.written === 5, 5_000, { what: 'the next batch' });
    expect(store.calls).toBe(2);
  });

  it('[HIST-STOP] stop writes what waits before it returns', async () => {
    const store = new MemoryStore();
    const w = writer(store, { flushMs: 60_000 });
    w.enqueue(levels(new Points(), 3));
    await w.stop();
    expect(w.counters.written).toBe(3);
    expect(w.counters.dropped).toBe(0);
  });

  it('[HIST-STOP] a write cut off by the stop timeout is counted as dropped when it fails', async () => {
    const store = new MemoryStore();
    store.mode = 'hang';
    const w = writer(store, { stopTimeoutMs: 30 });
    w.enqueue(levels(new Points(), 7));
    await waitFor(() => store.calls === 1, 5_000, { what: 'the first write to start' });
    await w.stop();
    expect(w.counters.dropped).toBe(2); // the two still waiting
    store.fail();
    await waitFor(() => w.counters.dropped === 7, 5_000, { what: 'the cut-off batch to be counted' });
    expect(w.buffered).toBe(0);
  });
});
