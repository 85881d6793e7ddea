/**
 * Level downsampling for a store that does not do it itself: per lane, keep a reading when the
 * count, stability or state changed since the last kept one, or when `intervalMs` has passed — the
 * same rule as the SQLite level history (store/history.ts), so both stores draw the same chart.
 * A late (older) reading is kept only when it differs: it may be the one change that was missed.
 */
import type { LevelPayload } from '@shelfsense/protocol';

interface Kept {
  ts: number;
  units: number;
  stable: boolean;
  state: string;
}

export class Downsampler {
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly intervalMs: number,
    /** Lanes remembered at most; the least recently kept is forgotten first (then kept once more). */
    private readonly maxLanes = 1_000_000,
  ) {}

  /** Whether to keep this reading of the lane `key`; remembers it when kept. */
  keep(key: string, p: Pick<LevelPayload, 'ts' | 'units' | 'stable' | 'state'>): boolean {
    const last = this.kept.get(key);
    const changed = !last || last.units !== p.units || last.stable !== p.stable || last.state !== p.state;
    const due = last !== undefined && p.ts - last.ts >= this.intervalMs;
    if (!changed && !due) return false;
    if (!last || p.ts >= last.ts) {
      // Re-insert so the map's order is least recently kept first.
      this.kept.delete(key);
      this.kept.set(key, { ts: p.ts, units: p.units, stable: p.stable, state: p.state });
      if (this.kept.size > this.maxLanes) {
        const oldest = this.kept.keys().next().value;
        if (oldest !== undefined) this.kept.delete(oldest);
      }
    }
    return true;
  }

  get size(): number {
    return this.kept.size;
  }
}
