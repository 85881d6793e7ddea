/**
 * Calibration (tare offset, scale, reference points) per shelf serial number and channel,
 * persisted atomically under the state directory. Calibration stays on the agent: it belongs to
 * the physical cell, whichever lane or site the shelf is mapped to.
 */
import { join } from 'node:path';
import { Calibration, parseWith } from '@shelfsense/protocol';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { readJson, writeFileAtomic } from './atomic.js';

const ShelfCalibration = z.object({
  serial: z.string(),
  channels: z.record(z.string(), Calibration),
  /** Unit weights learned on this shelf, by lane id; they override the lane settings. */
  unitWeights: z.record(z.string(), z.number().positive()).default({}),
  updatedAt: z.number(),
});
type ShelfCalibration = z.infer<typeof ShelfCalibration>;

export class CalibrationStore {
  private readonly cache = new Map<string, ShelfCalibration>();

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  private file(serial: string): string {
    return join(this.dir, 'calibration', `${serial}.json`);
  }

  private load(serial: string): ShelfCalibration {
    const hit = this.cache.get(serial);
    if (hit) return hit;
    let value: ShelfCalibration = { serial, channels: {}, unitWeights: {}, updatedAt: 0 };
    try {
      const raw = readJson(this.file(serial));
      if (raw !== undefined) value = parseWith(ShelfCalibration, raw, `calibration file for ${serial}`);
    } catch (err) {
      // A damaged file must not stop the shelf: fall back to defaults and say so loudly.
      this.log.error({ err: (err as Error).message, serial }, 'calibration file unreadable; using defaults');
    }
    this.cache.set(serial, value);
    return value;
  }

  /** The stored calibration of a channel, if any. */
  get(serial: string, channel: number): Calibration | undefined {
    return this.load(serial).channels[String(channel)];
  }

  unitWeights(serial: string): Record<string, number> {
    return this.load(serial).unitWeights;
  }

  /** Persists new calibrations and learned unit weights of a shelf; returns when it is on disk. */
  set(serial: string, updates: Record<number, Calibration>, unitWeights: Record<string, number> = {}): void {
    const current = this.load(serial);
    const next: ShelfCalibration = {
      serial,
      channels: { ...current.channels },
      unitWeights: { ...current.unitWeights, ...unitWeights },
      updatedAt: Date.now(),
    };
    for (const [ch, cal] of Object.entries(updates)) next.channels[ch] = cal;
    writeFileAtomic(this.file(serial), `${JSON.stringify(next, null, 2)}\n`);
    this.cache.set(serial, next);
  }
}
