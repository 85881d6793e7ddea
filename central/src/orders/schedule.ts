/**
 * When a supplier's next order goes out and when its goods arrive, from its delivery schedule
 * (protocol/src/config/schedule.ts). Local times are the schedule's time zone, with its daylight-saving
 * changes: a cut-off in the hour the clocks skip falls at the first instant after the gap, and one
 * in the hour they repeat at the first of the two.
 */

import { type DeliveryCycle, type DeliverySchedule, WEEKDAYS, type Weekday } from '@shelfsense/protocol';
import { DateTime } from 'luxon';

export interface CycleTimes {
  /** The cycle as configured. */
  cycle: DeliveryCycle;
  /** The cut-off, ms since the epoch. */
  cutoffAt: number;
  /** When the goods arrive, ms since the epoch: the first delivery time after the cut-off. */
  deliveryAt: number;
}

/** Luxon numbers weekdays 1 (Monday) to 7 (Sunday). */
const isoWeekday = (d: Weekday): number => WEEKDAYS.indexOf(d) + 1;

/** The first `day` at `at` (local) strictly after `after`, in `zone`. */
function nextLocal(after: DateTime, day: Weekday, at: string): DateTime {
  const [hour, minute] = at.split(':').map(Number) as [number, number];
  const start = after.startOf('day');
  for (let i = 0; i <= 8; i++) {
    const date = start.plus({ days: i });
    if (date.weekday !== isoWeekday(day)) continue;
    // Luxon moves a time inside a skipped hour forward past the gap, and picks the earlier of a
    // repeated hour's two instants.
    const t = date.set({ hour, minute, second: 0, millisecond: 0 });
    if (t.toMillis() > after.toMillis()) return t;
  }
  throw new Error(`no ${day} ${at} within 8 days of ${after.toISO()}`);
}

/** The times of one cycle whose cut-off is the first after `now`. */
function cycleAfter(schedule: DeliverySchedule, cycle: DeliveryCycle, now: number): CycleTimes {
  const after = DateTime.fromMillis(now, { zone: schedule.timezone });
  const cutoff = nextLocal(after, cycle.cutoff.day, cycle.cutoff.at);
  const delivery = nextLocal(cutoff, cycle.delivery.day, cycle.delivery.at);
  return { cycle, cutoffAt: cutoff.toMillis(), deliveryAt: delivery.toMillis() };
}

/** The cycle whose cut-off comes next after `now` (strictly later). */
export function nextCycle(schedule: DeliverySchedule, now: number): CycleTimes {
  let best: CycleTimes | null = null;
  for (const c of schedule.cycles) {
    const t = cycleAfter(schedule, c, now);
    if (!best || t.cutoffAt < best.cutoffAt) best = t;
  }
  return best as CycleTimes;
}

/**
 * Whether a need cannot wait for the next cycle: its lane is forecast to run out before that
 * cycle's goods arrive. `stockoutAt` null (no stock-out in sight) is never urgent.
 */
export function isUrgent(schedule: DeliverySchedule, now: number, stockoutAt: number | null): boolean {
  if (stockoutAt === null) return false;
  return stockoutAt < nextCycle(schedule, now).deliveryAt;
}
