/**
 * A lane's demand per local day from its counted levels, and when it runs out at that rate. Pure
 * functions: the caller brings the history and the time.
 *
 * Days are the store's local days (luxon), so a day across a clock change has 23 or 25 hours and its
 * demand is what the store sold that day, which is what staff and suppliers plan by.
 */

import { DateTime, Info } from 'luxon';

/** A settled count of the lane at `ts` (ms since the epoch). */
export interface LevelReading {
  ts: number;
  units: number;
}

export interface DailyDemandOptions {
  /** IANA zone of the store, e.g. `Europe/Berlin`. */
  timezone: string;
  /** Whole days the mean and spread are taken over, newest first (default 28: four of each weekday). */
  days?: number;
  /** The end of observation (default the last reading); days between it and the last reading had no change. */
  now?: number;
}

export interface DayDemand {
  /** Local date, `YYYY-MM-DD`. */
  date: string;
  /** Local midnight that starts the day, and the next one (23 or 25 hours later across a clock change). */
  startMs: number;
  endMs: number;
  /** Units taken that day: the sum of the count's decreases. */
  units: number;
  /** Observed from its start to its end: not the first day's part before the first reading, nor today. */
  whole: boolean;
}

export interface DailyDemand {
  /** Every local day from the first reading's to `now`'s, oldest first. */
  days: DayDemand[];
  /** Whole days the statistics are over: the last `days` of them, or fewer while the history is short. */
  n: number;
  /** Mean units per day over those; null with none. */
  mean: number | null;
  /** Sample standard deviation (n − 1) over those; null with fewer than two. */
  std: number | null;
}

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 28;

/**
 * Units consumed per local day, and their mean and spread over the last whole days.
 *
 * A decrease between two readings is demand on the later reading's day; an increase is a restock and
 * counts for nothing (not negative demand), so picks hidden inside a restock between two readings
 * are lost, which undercounts rather than invents demand. Readings need not be sorted.
 */
export function dailyDemand(levels: readonly LevelReading[], options: DailyDemandOptions): DailyDemand {
  const { timezone } = options;
  if (!Info.isValidIANAZone(timezone)) throw new RangeError(`timezone must be an IANA zone, got ${timezone}`);
  const window = options.days ?? DEFAULT_DAYS;
  if (!(Number.isInteger(window) && window >= 1))
    throw new RangeError(`days must be a positive integer, got ${window}`);
  for (const l of levels) {
    if (!Number.isFinite(l.ts) || !Number.isFinite(l.units))
      throw new RangeError(`levels must hold finite ts and units, got ${JSON.stringify(l)}`);
  }
  if (levels.length === 0) return { days: [], n: 0, mean: null, std: null };

  const sorted = [...levels].sort((a, b) => a.ts - b.ts);
  const first = sorted[0]!.ts;
  const last = sorted[sorted.length - 1]!.ts;
  const now = options.now ?? last;
  if (!(Number.isFinite(now) && now >= last))
    throw new RangeError(`now must be at or after the last reading (${last}), got ${now}`);

  // Day boundaries first, then one walk over the readings: a luxon call per day, not per reading.
  const days: DayDemand[] = [];
  let day = DateTime.fromMillis(first, { zone: timezone }).startOf('day');
  while (day.toMillis() <= now) {
    const next = day.plus({ days: 1 });
    const startMs = day.toMillis();
    const endMs = next.toMillis();
    days.push({ date: day.toISODate()!, startMs, endMs, units: 0, whole: startMs >= first && endMs <= now });
    day = next;
  }

  let d = 0;
  for (let i = 1; i < sorted.length; i++) {
    const drop = sorted[i - 1]!.units - sorted[i]!.units;
    if (drop <= 0) continue;
    while (sorted[i]!.ts >= days[d]!.endMs) d++;
    days[d]!.units += drop;
  }

  const whole = days.filter((x) => x.whole).slice(-window);
  const n = whole.length;
  if (n === 0) return { days, n, mean: null, std: null };
  const mean = whole.reduce((s, x) => s + x.units, 0) / n;
  const std = n > 1 ? Math.sqrt(whole.reduce((s, x) => s + (x.units - mean) ** 2, 0) / (n - 1)) : null;
  return { days, n, mean, std };
}

export interface ForecastInput {
  /** Units on the lane now. */
  units: number;
  /** Expected units taken per day; null while unknown. */
  demandPerDayMean: number | null;
  now: number;
  /** When the next delivery arrives, if one is scheduled (ms since the epoch). */
  nextDeliveryAt?: number;
}

export interface ForecastResult {
  /** When the lane runs out at the mean rate; null when unknown or never (no demand). */
  stockoutAt: number | null;
  /** Days (of 24 hours) until then; null likewise. */
  daysOfCover: number | null;
  /**
   * Expected units left when the delivery arrives, not below 0 and not rounded (the caller rounds
   * for its purpose). Present only with `nextDeliveryAt` and a known rate; a delivery already due
   * is taken as arriving now, since an overdue truck is still expected.
   */
  unitsAtNextDelivery?: number;
}

/** When a lane runs out at its mean demand, and what will be left when the next delivery arrives. */
export function forecast(input: ForecastInput): ForecastResult {
  const { units, demandPerDayMean: rate, now, nextDeliveryAt } = input;
  if (!(units >= 0 && Number.isFinite(units)))
    throw new RangeError(`units must be a non-negative number, got ${units}`);
  if (rate !== null && !(rate >= 0 && Number.isFinite(rate)))
    throw new RangeError(`demandPerDayMean must be a non-negative number or null, got ${rate}`);
  if (!Number.isFinite(now)) throw new RangeError(`now must be a time in ms, got ${now}`);
  if (nextDeliveryAt !== undefined && !Number.isFinite(nextDeliveryAt))
    throw new RangeError(`nextDeliveryAt must be a time in ms, got ${nextDeliveryAt}`);

  if (rate === null) return { stockoutAt: null, daysOfCover: null };
  const atDelivery =
    nextDeliveryAt === undefined
      ? {}
      : { unitsAtNextDelivery: Math.max(0, units - (rate * Math.max(0, nextDeliveryAt - now)) / DAY_MS) };
  if (rate === 0) return { stockoutAt: null, daysOfCover: null, ...atDelivery };
  const daysOfCover = units / rate;
  return { stockoutAt: Math.round(now + daysOfCover * DAY_MS), daysOfCover, ...atDelivery };
}
