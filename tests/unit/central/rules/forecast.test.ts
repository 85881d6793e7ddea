import {
  addDemand,
  addPick,
  DAY_MS,
  demandStdPerDay,
  emptyRate,
  forecast,
  observe,
  type RateState,
  ratePerMs,
  reorderPointFor,
} from '@shelfsense/central/rules';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, L1, T0 } from './harness.js';

const H = 3_600_000;
const TAU = 7 * DAY_MS;

function steady(perDay: number, days: number, start = T0): RateState {
  let s = observe(emptyRate(), start);
  const gap = DAY_MS / perDay;
  for (let t = start + gap; t <= start + days * DAY_MS; t += gap) s = addPick(s, 1, t, TAU);
  return s;
}

describe('rules: consumption rate (exponentially weighted), days of cover, predicted stock-out', () => {
  it('estimates a steady rate without bias, even with less history than the time constant', () => {
    for (const days of [1, 3, 14, 60]) {
      const s = steady(24, days);
      const r = ratePerMs(s, T0 + days * DAY_MS, TAU) as number;
      expect(r * DAY_MS).toBeCloseTo(24, 0);
    }
    expect(ratePerMs(emptyRate(), T0, TAU)).toBeNull();
    // Observed but no picks: consumption is zero, cover is unlimited.
    const idle = observe(emptyRate(), T0);
    expect(forecast(idle, 10, T0 + DAY_MS, TAU)).toMatchObject({
      ratePerDay: 0,
      daysOfCover: Infinity,
      stockOutAt: null,
    });
  });

  it('follows a change of pace, weighting recent picks more', () => {
    let s = steady(24, 14);
    const before = (ratePerMs(s, T0 + 14 * DAY_MS, TAU) as number) * DAY_MS;
    for (let t = T0 + 14 * DAY_MS + H / 4; t <= T0 + 21 * DAY_MS; t += H / 4) s = addPick(s, 1, t, TAU);
    const after = (ratePerMs(s, T0 + 21 * DAY_MS, TAU) as number) * DAY_MS;
    expect(before).toBeCloseTo(24, 0);
    expect(after).toBeGreaterThan(60); // moving from 24/day towards 96/day
    expect(after).toBeLessThan(96);
  });

  it('days of cover = units / daily rate; stock-out = now + units / rate', () => {
    const s = steady(24, 10);
    const at = T0 + 10 * DAY_MS;
    const f = forecast(s, 48, at, TAU);
    expect(f.daysOfCover).toBeCloseTo(2, 1);
    expect(((f.stockOutAt as number) - at) / DAY_MS).toBeCloseTo(2, 1);
  });

  it('dynamic reorder point = ceil(rate × lead time + safety stock), below order-up-to, after enough history', () => {
    const policy = {
      reorderPoint: 4,
      orderUpTo: 100,
      packSize: 1,
      minOrderQty: 1,
      leadTimeMs: 2 * DAY_MS,
      debounceMs: 0,
      hysteresis: 0,
      safetyStock: 5,
      dynamicReorderPoint: true,
      serviceLevel: null,
      enabled: true,
    };
    const rate = 24 / DAY_MS;
    expect(reorderPointFor(policy, rate, 3 * DAY_MS, DAY_MS)).toBe(53);
    expect(reorderPointFor(policy, rate, H, DAY_MS)).toBe(4); // not enough history yet
    expect(reorderPointFor({ ...policy, orderUpTo: 40 }, rate, 3 * DAY_MS, DAY_MS)).toBe(39);
    expect(reorderPointFor({ ...policy, dynamicReorderPoint: false }, rate, 3 * DAY_MS, DAY_MS)).toBe(4);
    // A learned lead time replaces the configured one: 24/day × 3 days + 5.
    expect(reorderPointFor(policy, rate, 3 * DAY_MS, DAY_MS, { meanMs: 3 * DAY_MS, stdMs: 0 })).toBe(77);
  });

  it('at a service level: d·L + z·√(L·σd² + d²·σL²) with Poisson demand, the safety stock a floor', () => {
    const policy = {
      reorderPoint: 4,
      orderUpTo: 200,
      packSize: 1,
      minOrderQty: 1,
      leadTimeMs: 2 * DAY_MS,
      debounceMs: 0,
      hysteresis: 0,
      safetyStock: 0,
      dynamicReorderPoint: true,
      serviceLevel: 0.95,
      enabled: true,
    };
    const rate = 24 / DAY_MS;
    // L = 2 d, σL = 0: 48 + ceil(1.6449 × √(2 × 24)) = 48 + ceil(11.40) = 60.
    expect(reorderPointFor(policy, rate, 3 * DAY_MS, DAY_MS)).toBe(60);
    // Learned L = 2.5 d, σL = 0.5 d: 60 + ceil(1.6449 × √(2.5 × 24 + 576 × 0.25)) = 60 + ceil(23.49) = 84.
    const learned = { meanMs: 2.5 * DAY_MS, stdMs: 0.5 * DAY_MS };
    expect(reorderPointFor(policy, rate, 3 * DAY_MS, DAY_MS, learned)).toBe(84);
    // 0.99 needs more: 60 + ceil(2.3263 × 14.28) = 60 + 34.
    expect(reorderPointFor({ ...policy, serviceLevel: 0.99 }, rate, 3 * DAY_MS, DAY_MS, learned)).toBe(94);
    expect(reorderPointFor({ ...policy, safetyStock: 40 }, rate, 3 * DAY_MS, DAY_MS, learned)).toBe(100);
    // A measured spread replaces the Poisson one: σd = 10 → 48 + ceil(1.6449 × √(2 × 100)) = 48 + 24.
    expect(reorderPointFor(policy, rate, 3 * DAY_MS, DAY_MS, null, 10)).toBe(72);
  });

  it('keeps the picks of each whole UTC day, the last 28, with quiet days as zero', () => {
    let d = addDemand(undefined, 3, T0);
    d = addDemand(d, 2, T0 + 1_000);
    expect(d.today).toBe(5);
    // Three days on: the day of 5 closes, two days without picks count as 0.
    d = addDemand(d, 4, T0 + 3 * DAY_MS);
    expect(d.days).toEqual([5, 0, 0]);
    expect(d.today).toBe(4);
    // A late pick of a closed day is left out rather than moved into today.
    expect(addDemand(d, 9, T0)).toBe(d);
    expect(demandStdPerDay(d)).toBeNull();
    for (let i = 4; i < 40; i++) d = addDemand(d, i % 2 === 0 ? 10 : 20, T0 + i * DAY_MS);
    expect(d.days).toHaveLength(28);
    // Alternating 10 and 20: sample standard deviation √(28 × 25 / 27).
    expect(demandStdPerDay(d)).toBeCloseTo(Math.sqrt((28 * 25) / 27), 9);
  });
});

describe('rules: forecast per lane from pick events', () => {
  let h: Harness;
  afterEach(() => h.close());

  it("reports rate and days of cover from the lane's picks, and the dynamic reorder point orders earlier", () => {
    h = harness({
      defaults: {
        reorderPoint: 2,
        orderUpTo: 60,
        debounceMs: 0,
        leadTimeMs: '1d',
        safetyStock: 2,
        dynamicReorderPoint: true,
      },
      rate: { tauMs: '7d', minHistoryMs: '1d' },
    });
    // One pick an hour (24 a day) from 60 items, until the lane orders.
    h.feed(h.level(60, 0));
    let units = 60;
    let t = 0;
    while (h.orders.list().length === 0 && units > 0) {
      t += H;
      units--;
      h.feed(h.event('pick', -1, units, t), h.level(units, t));
      if (t === 20 * H) {
        const st = h.engine.status(L1);
        expect(st?.forecast.ratePerDay).toBeCloseTo(24, 0);
        expect(st?.forecast.daysOfCover).toBeCloseTo(40 / 24, 1);
        // Not a day of history yet: the static reorder point is in force.
        expect(st?.reorderPoint).toBe(2);
      }
    }
    // 24/day × 1 day lead time + 2 safety ≈ 26–27 items: far above the static reorder point (2).
    const [order] = h.orders.list();
    expect(order?.reason.reorderPoint).toBeGreaterThanOrEqual(26);
    expect(order?.reason.reorderPoint).toBeLessThanOrEqual(27);
    expect(order?.reason.units).toBe(order?.reason.reorderPoint);
    expect(order?.quantity).toBe(60 - units);
  });
});

describe('consumption rate right after observation starts', () => {
  it('a pick seconds after the first reading is not read as a burst of hundreds of thousands a day', () => {
    let s = observe(emptyRate(), T0);
    s = addPick(s, 4, T0 + 1_000, TAU);
    const perDay = (ratePerMs(s, T0 + 2_000, TAU) as number) * DAY_MS;
    // 4 items over at least an hour of observation: about 96 a day, not 172,800.
    expect(perDay).toBeGreaterThan(90);
    expect(perDay).toBeLessThan(100);
    // Once more than the window has been watched, the rate is the plain one again.
    const later = (ratePerMs(s, T0 + 2 * H, TAU) as number) * DAY_MS;
    expect(Math.abs(later / (4 / (2 / 24)) - 1)).toBeLessThan(0.02);
  });
});
