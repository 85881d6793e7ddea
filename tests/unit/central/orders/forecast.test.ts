/**
 * Demand per local day from a lane's counted levels, and when the lane runs out at that rate.
 */

import { dailyDemand, forecast, type LevelReading } from '@shelfsense/central/orders';
import { describe, expect, it } from 'vitest';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const at = (s: string) => Date.parse(s);
const berlin = { timezone: 'Europe/Berlin' };

/** A reading every hour from `from` to `to` (inclusive), one unit taken each hour. */
function hourly(from: number, to: number, start = 1_000): LevelReading[] {
  const out: LevelReading[] = [];
  for (let ts = from, units = start; ts <= to; ts += HOUR, units--) out.push({ ts, units });
  return out;
}

/** Per-day units as `date → units`, for compact assertions. */
const byDate = (r: ReturnType<typeof dailyDemand>) =>
  Object.fromEntries(r.days.map((d) => [d.date, d.units]));

describe('daily demand', () => {
  it('buckets by local day: the day Berlin falls back has 25 hours of demand', () => {
    // Half past each hour from 23:30 CEST on Fri 2026-10-23 to 00:30 CET on Tue 2026-10-27.
    const r = dailyDemand(hourly(at('2026-10-23T21:30:00Z'), at('2026-10-26T23:30:00Z')), berlin);
    expect(byDate(r)).toEqual({
      '2026-10-23': 0, // the first reading only: nothing to compare it with
      '2026-10-24': 24,
      '2026-10-25': 25, // 02:30 happens twice
      '2026-10-26': 24,
      '2026-10-27': 1, // today, so far
    });
    const sunday = r.days[2]!;
    expect(new Date(sunday.startMs).toISOString()).toBe('2026-10-24T22:00:00.000Z'); // 00:00 CEST
    expect(sunday.endMs - sunday.startMs).toBe(25 * HOUR);
    // Only the three whole days count: not the first (begun before the first reading) nor today.
    expect(r.days.map((d) => d.whole)).toEqual([false, true, true, true, false]);
    expect(r.n).toBe(3);
    expect(r.mean).toBeCloseTo(73 / 3, 12);
    expect(r.std).toBeCloseTo(Math.sqrt(1 / 3), 12);
  });

  it('the day Berlin springs forward has 23 hours of demand', () => {
    const r = dailyDemand(hourly(at('2027-03-26T22:30:00Z'), at('2027-03-28T22:30:00Z')), berlin);
    expect(byDate(r)).toEqual({ '2027-03-26': 0, '2027-03-27': 24, '2027-03-28': 23, '2027-03-29': 1 });
    expect(r.days[2]!.endMs - r.days[2]!.startMs).toBe(23 * HOUR);
    // In UTC the same readings make days of 24 hours each.
    const utc = dailyDemand(hourly(at('2027-03-26T22:30:00Z'), at('2027-03-28T22:30:00Z')), {
      timezone: 'UTC',
    });
    expect(byDate(utc)).toEqual({ '2027-03-26': 1, '2027-03-27': 24, '2027-03-28': 23 });
  });

  it('a restock is not negative demand; the picks either side of it are demand', () => {
    const t = at('2026-06-10T06:00:00Z'); // 08:00 in Berlin
    const levels = [20, 18, 17, 40, 38, 35, 35, 36, 34].map((units, i) => ({ ts: t + i * HOUR, units }));
    const r = dailyDemand(levels, berlin);
    expect(byDate(r)).toEqual({ '2026-06-10': 2 + 1 + 2 + 3 + 2 });
    // Order of the input does not matter.
    expect(dailyDemand([...levels].reverse(), berlin)).toEqual(r);
  });

  it('mean and spread over the last `days` whole days (default 28); quiet days count as zero', () => {
    // Day i (1-based) of 40 in UTC takes i units, in one reading at noon.
    const start = at('2026-01-01T00:00:00Z');
    const levels: LevelReading[] = [{ ts: start, units: 10_000 }];
    for (let i = 1; i <= 40; i++) {
      levels.push({ ts: start + (i - 1) * DAY + 12 * HOUR, units: 10_000 - (i * (i + 1)) / 2 });
    }
    const now = start + 40 * DAY + HOUR; // 01:00 on day 41
    const r = dailyDemand(levels, { timezone: 'UTC', now });
    expect(r.days).toHaveLength(41);
    expect(r.n).toBe(28);
    expect(r.mean).toBeCloseTo((13 + 40) / 2, 12); // days 13..40
    expect(r.std).toBeCloseTo(Math.sqrt((28 * 29) / 12), 12); // of 28 consecutive integers
    const week = dailyDemand(levels, { timezone: 'UTC', now, days: 7 });
    expect(week.mean).toBeCloseTo(37, 12); // days 34..40
    // Three quiet days after the last reading: whole, zero, and in the window.
    const later = dailyDemand(levels, { timezone: 'UTC', now: now + 3 * DAY, days: 7 });
    expect(later.days.slice(-4).map((d) => [d.units, d.whole])).toEqual([
      [0, true],
      [0, true],
      [0, true],
      [0, false],
    ]);
    expect(later.mean).toBeCloseTo((37 + 38 + 39 + 40 + 0 + 0 + 0) / 7, 12); // days 37..43
  });

  it('no whole day: no mean; one whole day: a mean but no spread', () => {
    expect(dailyDemand([], berlin)).toEqual({ days: [], n: 0, mean: null, std: null });
    const t = at('2026-06-10T10:00:00Z');
    const oneDay = dailyDemand(
      [
        { ts: t, units: 10 },
        { ts: t + HOUR, units: 8 },
      ],
      berlin,
    );
    expect(oneDay).toMatchObject({ n: 0, mean: null, std: null });
    const r = dailyDemand(
      [
        { ts: t, units: 10 },
        { ts: t + DAY, units: 6 },
      ],
      { ...berlin, now: t + 2 * DAY },
    );
    expect(r).toMatchObject({ n: 1, mean: 4, std: null });
  });

  it('rejects bad arguments, naming them', () => {
    const l = [{ ts: at('2026-06-10T10:00:00Z'), units: 5 }];
    expect(() => dailyDemand(l, { timezone: 'Mars/Olympus_Mons' })).toThrow(/timezone/);
    expect(() => dailyDemand(l, { ...berlin, days: 0 })).toThrow(/days/);
    expect(() => dailyDemand(l, { ...berlin, days: 1.5 })).toThrow(/days/);
    expect(() => dailyDemand([{ ts: Number.NaN, units: 1 }], berlin)).toThrow(/levels/);
    expect(() => dailyDemand([{ ts: 0, units: Number.POSITIVE_INFINITY }], berlin)).toThrow(/levels/);
    expect(() => dailyDemand(l, { ...berlin, now: l[0]!.ts - 1 })).toThrow(/now/);
    expect(() => dailyDemand(l, { timezone: '' })).toThrow(RangeError);
  });
});

describe('forecast', () => {
  const now = at('2026-06-10T10:00:00Z');

  it('runs out after units ÷ demand days', () => {
    expect(forecast({ units: 30, demandPerDayMean: 10, now })).toEqual({
      stockoutAt: now + 3 * DAY,
      daysOfCover: 3,
    });
    expect(forecast({ units: 1, demandPerDayMean: 3, now }).stockoutAt).toBe(now + 8 * HOUR);
    expect(forecast({ units: 0, demandPerDayMean: 3, now })).toEqual({ stockoutAt: now, daysOfCover: 0 });
  });

  it('what is left when the next delivery arrives, never below zero', () => {
    const f = (nextDeliveryAt: number) => forecast({ units: 30, demandPerDayMean: 10, now, nextDeliveryAt });
    expect(f(now + 1.5 * DAY).unitsAtNextDelivery).toBeCloseTo(15, 12);
    expect(f(now + 5 * DAY).unitsAtNextDelivery).toBe(0);
    expect(f(now - HOUR).unitsAtNextDelivery).toBe(30); // overdue: still expected, as if now
    expect(f(now + DAY)).toEqual({ stockoutAt: now + 3 * DAY, daysOfCover: 3, unitsAtNextDelivery: 20 });
  });

  it('no demand: no stock-out in sight; unknown demand: nothing known', () => {
    expect(forecast({ units: 5, demandPerDayMean: 0, now, nextDeliveryAt: now + DAY })).toEqual({
      stockoutAt: null,
      daysOfCover: null,
      unitsAtNextDelivery: 5,
    });
    expect(forecast({ units: 5, demandPerDayMean: null, now, nextDeliveryAt: now + DAY })).toEqual({
      stockoutAt: null,
      daysOfCover: null,
    });
  });

  it('takes its rate from daily demand', () => {
    const d = dailyDemand(
      [
        { ts: now - 3 * DAY, units: 40 },
        { ts: now - 2 * DAY, units: 32 },
        { ts: now - DAY, units: 24 },
        { ts: now, units: 16 },
      ],
      { timezone: 'UTC' },
    );
    expect(d.mean).toBe(8);
    expect(forecast({ units: 16, demandPerDayMean: d.mean, now }).stockoutAt).toBe(now + 2 * DAY);
  });

  it('rejects bad arguments, naming them', () => {
    expect(() => forecast({ units: -1, demandPerDayMean: 1, now })).toThrow(/units/);
    expect(() => forecast({ units: 1, demandPerDayMean: -1, now })).toThrow(/demandPerDayMean/);
    expect(() => forecast({ units: 1, demandPerDayMean: Number.NaN, now })).toThrow(/demandPerDayMean/);
    expect(() => forecast({ units: 1, demandPerDayMean: 1, now: Number.NaN })).toThrow(/now/);
    expect(() => forecast({ units: 1, demandPerDayMean: 1, now, nextDeliveryAt: Number.NaN })).toThrow(
      /nextDeliveryAt/,
    );
  });
});
