/**
 * When one shelf's lane counts are written (LaneCountStore): only when something changed — a count,
 * a lane's channels, or a count reference that moved by `baselineStepG` — and at most once per
 * `minIntervalMs`, never once per frame (an SD card wears out, and each write is fsynced). A change
 * that comes too soon is written by a later call: the agent's watch timer calls `maybeSave` every
 * second or so, and `flush` on stop. A kill -9 loses at most `minIntervalMs` of changes; the
 * pipeline then recounts them as an adjust.
 */
import type { Logger } from '../log.js';
import type { LaneReading } from '../pipeline/index.js';
import type { LaneCountStore, StoredLaneCount } from './lane-counts.js';

export interface CountKeeperOptions {
  /** Fewest milliseconds between two writes of the shelf's file. */
  minIntervalMs?: number;
  /** A count reference moving less than this (grams) since the last write is not a change. */
  baselineStepG?: number;
}

export class CountKeeper {
  private readonly minIntervalMs: number;
  private readonly baselineStepG: number;
  private written = new Map<string, StoredLaneCount>();
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private failing = false;
  /** Writes done and failed, for tests and diagnostics. */
  writes = 0;
  failures = 0;

  constructor(
    private readonly store: LaneCountStore,
    private readonly serial: string,
    private readonly log: Logger,
    options: CountKeeperOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 2_000;
    this.baselineStepG = options.baselineStepG ?? 0.1;
  }

  /** What was restored counts as written: an unchanged shelf is not rewritten after a restart. */
  restored(lanes: Record<string, StoredLaneCount>): void {
    this.written = new Map(Object.entries(lanes));
  }

  /** Writes the lanes if they changed and the last write is old enough. Returns true if it wrote. */
  maybeSave(lanes: readonly LaneReading[], now = Date.now()): boolean {
    if (now - this.lastWriteAt < this.minIntervalMs) return false;
    return this.flush(lanes, now);
  }

  /** Writes the lanes now if they changed (on stop). Returns true if it wrote. */
  flush(lanes: readonly LaneReading[], now = Date.now()): boolean {
    const next = snapshot(lanes);
    if (!this.changed(next)) return false;
    this.lastWriteAt = now;
    try {
      this.store.save(this.serial, Object.fromEntries(next));
      this.written = next;
      this.writes++;
      // The shelf's logger carries its serial and shelf id already.
      if (this.failing) this.log.warn('lane counts saved again');
      this.failing = false;
      return true;
    } catch (err) {
      // A full or read-only disk must not stop counting; retried after minIntervalMs, logged once.
      this.failures++;
      if (!this.failing) {
        this.log.error({ err: (err as Error).message }, 'lane counts not saved');
      }
      this.failing = true;
      return false;
    }
  }

  private changed(next: Map<string, StoredLaneCount>): boolean {
    if (next.size !== this.written.size) return true;
    for (const [lane, n] of next) {
      const w = this.written.get(lane);
      if (!w || w.units !== n.units || !sameList(w.channels, n.channels)) return true;
      if (Math.abs(w.baselineG - n.baselineG) >= this.baselineStepG) return true;
    }
    return false;
  }
}

/** The lanes that have a count, as stored (the reference rounded to 0.01 g). */
function snapshot(lanes: readonly LaneReading[]): Map<string, StoredLaneCount> {
  const out = new Map<string, StoredLaneCount>();
  for (const l of lanes) {
    if (l.units === null) continue;
    out.set(l.id, {
      units: l.units,
      baselineG: Math.round(l.baselineG * 100) / 100,
      channels: [...l.channels],
    });
  }
  return out;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
