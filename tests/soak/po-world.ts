/**
 * The purchase-order week's world: the soak store (world.ts) with its two suppliers, `acme` on a
 * delivery schedule (its lane needs gathered into purchase orders) and `crunchy` without one (one
 * order per lane, the control).
 *
 * The shelves run on compressed device time, but central's clock — cut-offs, a PO's sent and
 * received times, the lead time it learns — is the wall clock. So the schedule is written in wall
 * time for the run at hand: cut-offs on whole minutes of today (UTC), a few minutes apart, spread
 * over the minutes the simulated week takes; each cycle's goods are due `leadMin` minutes after
 * its cut-off. Weekly schedules take at most 21 cycles, so a week at one cut-off a wall minute
 * lasts about 21 minutes: three cut-offs per simulated day.
 */
import type { Simulator, SoakWeek } from '@shelfsense/firmware-sim';
import { type DeliverySchedule, WEEKDAYS } from '@shelfsense/protocol';
import { centralConfig } from './world.js';

export const SCHEDULED = 'acme';
export const CONTROL = 'crunchy';
/** The schedule's zone: no daylight-saving change can stretch a cycle. */
export const TIMEZONE = 'UTC';
/** A weekly schedule holds at most this many cycles (protocol/src/config/schedule.ts). */
export const MAX_CYCLES = 21;
/**
 * Restock steps this close (device time) add up to one delivery; a lane delivered short of what
 * shipped is received as counted once this has passed without another step. The van puts a lane's
 * goods on in one go, so a few seconds suffice (the default, 30 minutes, is for people shelving).
 */
export const RECEIPT_WINDOW_MS = 4_000;

const MINUTE_MS = 60_000;

/** `{day, at}` of a wall-clock instant in UTC. */
function utcSlot(ms: number): { day: (typeof WEEKDAYS)[number]; at: string } {
  const d = new Date(ms);
  const day = WEEKDAYS[(d.getUTCDay() + 6) % 7] as (typeof WEEKDAYS)[number];
  const at = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return { day, at };
}

export interface MinuteSchedule {
  schedule: DeliverySchedule;
  /** Wall-clock cut-offs, ms since the epoch, in order. */
  cutoffs: number[];
  /** Cut-off → delivery, ms: what central takes as the nominal lead time before any delivery. */
  nominalMs: number;
}

/**
 * `count` cycles (at most 21) `everyMin` minutes apart, the first on the first whole minute at
 * least `afterMs` after `now`; each delivers `leadMin` minutes after its cut-off.
 */
export function minuteSchedule(
  now: number,
  opts: { count: number; everyMin: number; leadMin: number; afterMs?: number },
): MinuteSchedule {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > MAX_CYCLES) {
    throw new RangeError(`count: 1–${MAX_CYCLES} cycles`);
  }
  if (!Number.isInteger(opts.everyMin) || opts.everyMin < 1)
    throw new RangeError('everyMin: whole minutes ≥ 1');
  if (!Number.isInteger(opts.leadMin) || opts.leadMin < 1) throw new RangeError('leadMin: whole minutes ≥ 1');
  const first = Math.ceil((now + (opts.afterMs ?? 0)) / MINUTE_MS) * MINUTE_MS;
  const cutoffs = Array.from({ length: opts.count }, (_, k) => first + k * opts.everyMin * MINUTE_MS);
  return {
    schedule: {
      timezone: TIMEZONE,
      cycles: cutoffs.map((c) => ({ cutoff: utcSlot(c), delivery: utcSlot(c + opts.leadMin * MINUTE_MS) })),
    },
    cutoffs,
    nominalMs: opts.leadMin * MINUTE_MS,
  };
}

/** The soak store's central config with `acme` on `schedule` and a short receipt window. */
export function poCentralConfig(
  week: SoakWeek,
  sim: Simulator,
  dataDir: string,
  webhookUrl: string,
  schedule: DeliverySchedule,
) {
  const base = centralConfig(week, sim, dataDir, webhookUrl);
  return {
    ...base,
    suppliers: base.suppliers.map((s) => (s.id === SCHEDULED ? { ...s, schedule } : s)),
    replenishment: {
      ...base.replenishment,
      receipt: { ...base.replenishment.receipt, windowMs: RECEIPT_WINDOW_MS },
    },
  };
}
