/**
 * Each lane's last count and count reference, per shelf serial number, persisted atomically under
 * the state directory (`counts/<serial>.json`) and handed back to the pipeline when the shelf
 * identifies itself again (its `counts` and `baselines` options).
 *
 * Why the reference too: while a lane is loaded, the pipeline measures each pick against a
 * reference that has followed the cell's zero drift since the count was last right. An agent that
 * restarted with its counts but a reference of 0 would read that drift as weight — with 10 g items,
 * 7 g of drift is a wrong "adjust" of one item. The reference belongs to the lane's channels: it is
 * restored only for a lane still on the channels it was measured on.
 */
import { join } from 'node:path';
import { parseWith, Serial } from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Logger } from '../log.js';
import { readJson, writeFileAtomic } from './atomic.js';

export const StoredLaneCount = z.object({
  /** The last accepted count. */
  units: z.number().check(z.int(), z.nonnegative()),
  /** The count reference (LaneReading.baselineG), grams. */
  baselineG: z.number(),
  /** The channels the reference was measured on. */
  channels: z.array(z.number().check(z.int(), z.minimum(0), z.maximum(7))).check(z.minLength(1)),
});
export type StoredLaneCount = z.infer<typeof StoredLaneCount>;

const ShelfCounts = z.object({
  serial: Serial,
  lanes: z.record(z.string(), StoredLaneCount),
  updatedAt: z.number(),
});
type ShelfCounts = z.infer<typeof ShelfCounts>;

/** What a pipeline takes back after a restart. */
export interface RestoredCounts {
  counts: Record<string, number>;
  baselines: Record<string, number>;
  /** Everything the file held. */
  stored: Record<string, StoredLaneCount>;
}

export class LaneCountStore {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  file(serial: string): string {
    return join(this.dir, 'counts', `${serial}.json`);
  }

  /** The stored lanes of a shelf; empty when there is no file or it is damaged (logged). */
  load(serial: string): Record<string, StoredLaneCount> {
    try {
      const raw = readJson(this.file(serial));
      if (raw === undefined) return {};
      const parsed: ShelfCounts = parseWith(ShelfCounts, raw, `lane counts file for ${serial}`);
      if (parsed.serial !== serial) {
        this.log.error({ serial, found: parsed.serial }, 'lane counts file names another shelf; ignoring it');
        return {};
      }
      return parsed.lanes;
    } catch (err) {
      // A damaged file must not stop the shelf: it starts without counts, as on its first day.
      this.log.error({ err: (err as Error).message, serial }, 'lane counts file unreadable; ignoring it');
      return {};
    }
  }

  /**
   * Counts and references to restore for `lanes`: the count of every stored lane that still exists,
   * the reference only where the lane kept its channels.
   */
  restore(serial: string, lanes: readonly { lane: string; channels: readonly number[] }[]): RestoredCounts {
    const stored = this.load(serial);
    const out: RestoredCounts = { counts: {}, baselines: {}, stored };
    for (const lane of lanes) {
      const s = stored[lane.lane];
      if (!s) continue;
      out.counts[lane.lane] = s.units;
      if (sameList(s.channels, lane.channels)) out.baselines[lane.lane] = s.baselineG;
    }
    return out;
  }

  /** Replaces the stored lanes of a shelf; returns once the file is on disk. */
  save(serial: string, lanes: Record<string, StoredLaneCount>): void {
    const body: ShelfCounts = { serial, lanes, updatedAt: Date.now() };
    writeFileAtomic(this.file(serial), `${JSON.stringify(body)}\n`);
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
