/**
 * Calibration (tare offset, scale, reference points) per shelf serial number and channel,
 * persisted atomically under the state directory. Calibration stays on the agent: it belongs to
 * the physical cell, whichever lane or site the shelf is mapped to.
 *
 * A calibration and its audit record must not part: the file is written first, then the record
 * is queued in the outbox. A power cut between the two would leave a calibration in force that
 * central never hears of, so the file also carries the record as `pending`, with the outbox's
 * last sequence number before it; at start-up the agent queues a pending record the outbox does
 * not have (see Agent.requeueCalibrationRecords).
 *
 * Temperature coefficients learned at rest (pipeline/thermal-learner.ts) are kept per channel under
 * `thermal`, apart from the technician's calibrations: they apply to whichever calibration the
 * channel has, unless that one carries coefficients from a calibration at two temperatures. The
 * agent and a shelf each hold a store of the same directory: every write starts from the file as it
 * is on disk, so neither undoes the other's.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Calibration, parseWith, ThermalCoefficients } from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Logger } from '../log.js';
import { readJson, writeFileAtomic } from './atomic.js';

const ShelfCalibration = z.object({
  serial: z.string(),
  channels: z.record(z.string(), Calibration),
  /** Unit weights learned on this shelf, by lane id; they override the lane settings. */
  unitWeights: z._default(z.record(z.string(), z.number().check(z.positive())), {}),
  /** Temperature coefficients learned on this shelf, by channel. */
  thermal: z._default(z.record(z.string(), ThermalCoefficients), {}),
  updatedAt: z.number(),
  /** The audit record of the last change, until the outbox is known to hold it. */
  pending: z._default(
    z.nullable(
      z.object({
        afterSeq: z.number().check(z.int(), z.nonnegative()),
        topic: z.string(),
        record: z.record(z.string(), z.unknown()),
      }),
    ),
    null,
  ),
});
type ShelfCalibration = z.infer<typeof ShelfCalibration>;

export interface PendingCalibrationRecord {
  serial: string;
  /** The outbox's last sequence number just before the record was to be appended. */
  afterSeq: number;
  topic: string;
  record: Record<string, unknown>;
}

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
    let value: ShelfCalibration = {
      serial,
      channels: {},
      unitWeights: {},
      thermal: {},
      updatedAt: 0,
      pending: null,
    };
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

  /** Temperature coefficients learned for a channel, if any. */
  thermal(serial: string, channel: number): ThermalCoefficients | undefined {
    return this.load(serial).thermal[String(channel)];
  }

  /** Persists coefficients learned for a channel; returns when it is on disk. */
  setThermal(serial: string, channel: number, thermal: ThermalCoefficients): void {
    const current = this.fresh(serial);
    this.write(serial, {
      ...current,
      thermal: { ...current.thermal, [String(channel)]: thermal },
      updatedAt: Date.now(),
    });
  }

  /**
   * A channel's calibration with the coefficients learned for it, unless it carries coefficients
   * from a calibration at two temperatures (those win).
   */
  withThermal(serial: string, channel: number, cal: Calibration): Calibration {
    const learned = this.thermal(serial, channel);
    if (!learned || cal.thermal?.source === 'calibration') return cal;
    return { ...cal, thermal: learned };
  }

  /**
   * Persists new calibrations and learned unit weights of a shelf, with the audit record about to
   * be queued for them; returns when it is on disk.
   */
  set(
    serial: string,
    updates: Record<number, Calibration>,
    unitWeights: Record<string, number> = {},
    pending: Omit<PendingCalibrationRecord, 'serial'> | null = null,
  ): void {
    const current = this.fresh(serial);
    const next: ShelfCalibration = {
      serial,
      channels: { ...current.channels },
      unitWeights: { ...current.unitWeights, ...unitWeights },
      thermal: current.thermal,
      updatedAt: Date.now(),
      pending,
    };
    for (const [ch, cal] of Object.entries(updates)) next.channels[ch] = cal;
    this.write(serial, next);
  }

  /** The file as it is on disk now (another store of the directory may have written it). */
  private fresh(serial: string): ShelfCalibration {
    this.cache.delete(serial);
    return this.load(serial);
  }

  private write(serial: string, value: ShelfCalibration): void {
    writeFileAtomic(this.file(serial), `${JSON.stringify(value, null, 2)}\n`);
    this.cache.set(serial, value);
  }

  /** Audit records of every shelf's last change that may not have reached the outbox. */
  pending(): PendingCalibrationRecord[] {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, 'calibration'));
    } catch {
      return [];
    }
    const out: PendingCalibrationRecord[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const serial = name.slice(0, -'.json'.length);
      const p = this.load(serial).pending;
      if (p) out.push({ serial, ...p });
    }
    return out;
  }

  /** The outbox holds the shelf's pending record (or it was queued again): forget it. */
  clearPending(serial: string): void {
    const current = this.fresh(serial);
    if (current.pending) this.write(serial, { ...current, pending: null });
  }
}
