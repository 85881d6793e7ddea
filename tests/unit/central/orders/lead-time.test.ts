/**
 * Lead time learned from deliveries, the normal quantile behind a service level, and the safety
 * stock and reorder point built on them.
 */

import {
  inverseNormalCdf,
  type LeadTimeSample,
  learnLeadTime,
  reorderPoint,
  safetyStock,
} from '@shelfsense/central/orders';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-05T10:00:00Z');

/** mulberry32: small, fast, seeded, so the "random" deliveries are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Standard normal draws by Box–Muller from a uniform stream. */
function normal(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** One order sent per day, each taking the given number of days. */
const deliveries = (days: readonly number[]): LeadTimeSample[] =>
  days.map((d, i) => ({ sentAt: T0 + i * DAY, receivedAt: T0 + i * DAY + d * DAY }));

describe('inverse normal CDF (Wichura AS241)', () => {
  it('matches reference quantiles to 1e-9', () => {
    // Reference values: scipy.stats.norm.ppf / mpmath erfinv.
    const ref: [number, number][] = [
      [0.5, 0],
      [0.8, 0.8416212335729143],
      [0.9, 1.2815515655446004],
      [0.95, 1.6448536269514722],
      [0.975, 1.959963984540054],
      [0.99, 2.3263478740408408],
      [0.999, 3.090232306167813],
      [0.9999, 3.719016485455709],
      [0.075, -1.4395314709384563], // just past the central region (|p − ½| > 0.425)
      [1e-10, -6.361340902404056],
      [1e-300, -37.0470962993612], // the far-tail branch (r > 5)
    ];
    for (const [p, z] of ref) expect(Math.abs(inverseNormalCdf(p) - z)).toBeLessThan(1e-9);
    expect(inverseNormalCdf(0.95)).toBeCloseTo(1.6448536, 7);
    expect(inverseNormalCdf(0.99)).toBeCloseTo(2.3263479, 7);
  });

  it('[property] is antisymmetric about ½ and increasing', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 1, noNaN: true, minExcluded: true, maxExcluded: true }), (p) => {
        const z = inverseNormalCdf(p);
        const mirror = inverseNormalCdf(1 - p);
        // 1 − p is exact for p ≥ ½ (Sterbenz), so the mirror is the same point.
        return z > 0 && Math.abs(z + mirror) <= 1e-12 * Math.max(1, z) && inverseNormalCdf(p / 2 + 0.25) < z;
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });

  it('rejects p outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => inverseNormalCdf(p)).toThrow(RangeError);
  });
});

describe('learned lead time', () => {
  it('none without deliveries or a prior', () => {
    expect(learnLeadTime([])).toBeNull();
    expect(learnLeadTime(deliveries([-1, 0]))).toBeNull();
  });

  it('[convergence] a noisy supplier around 2.5 days is learned within 5 % after 30 deliveries', () => {
    // σ 0.25 day (10 %), and one order in ten is a data error: received before it was sent, or
    // booked weeks late. The error after 30 must also be well below the error after 3.
    const rand = mulberry32(20_260_105);
    const z = normal(rand);
    const days: number[] = [];
    while (days.filter((d) => d > 0 && d < 10).length < 30) {
      const u = rand();
      days.push(u < 0.05 ? -0.5 : u < 0.1 ? 21 + 10 * rand() : 2.5 + 0.25 * z());
    }
    const lt = learnLeadTime(deliveries(days))!;
    expect(lt.n).toBe(30);
    expect(Math.abs(lt.meanMs / DAY - 2.5) / 2.5).toBeLessThan(0.05);
    expect(Math.abs(lt.medianMs / DAY - 2.5) / 2.5).toBeLessThan(0.05);
    expect(lt.stdMs / DAY).toBeGreaterThan(0.15);
    expect(lt.stdMs / DAY).toBeLessThan(0.4); // the 3-week ones would make it days
    expect(lt.p90Ms).toBeGreaterThan(lt.medianMs);
  });

  it('drops non-positive durations and gross outliers, keeps ordinary variation', () => {
    const lt = learnLeadTime(deliveries([2.4, 2.5, 2.6, 2.5, 2.45, 25, -1, 0, 2.9]), { halfLife: Infinity })!;
    expect(lt.n).toBe(6); // 25 days, −1 and 0 gone; 2.9 (a late but real delivery) kept
    expect(lt.meanMs / DAY).toBeCloseTo((2.4 + 2.5 + 2.6 + 2.5 + 2.45 + 2.9) / 6, 9);
    // A supplier so far exactly on time: a slightly later delivery stays, a doubled one goes.
    expect(learnLeadTime(deliveries([2, 2, 2, 2, 2.3]))!.n).toBe(5);
    expect(learnLeadTime(deliveries([2, 2, 2, 2, 4]))!.n).toBe(4);
  });

  it('weights recent deliveries more, by sentAt, whatever the input order', () => {
    const days = [...Array<number>(10).fill(2.4), ...Array<number>(10).fill(2.6)]; // the newer are slower
    const equal = learnLeadTime(deliveries(days), { halfLife: Infinity })!;
    const recent = learnLeadTime(deliveries(days))!;
    expect(equal.meanMs / DAY).toBeCloseTo(2.5, 9);
    // Half-life 8: the newest ten carry 1 / (1 + 2^(−10/8)) ≈ 70 % of the weight.
    const r = 2 ** (-1 / 8);
    const wNew = (1 - r ** 10) / (1 - r);
    const wOld = r ** 10 * wNew;
    expect(recent.meanMs / DAY).toBeCloseTo((2.6 * wNew + 2.4 * wOld) / (wNew + wOld), 9);
    expect(recent.medianMs / DAY).toBeCloseTo(2.6, 9);
    const shuffled = deliveries(days).reverse();
    expect(learnLeadTime(shuffled)).toEqual(recent);
  });

  it('median and p90 interpolate between deliveries (Hazen)', () => {
    const lt = learnLeadTime(deliveries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), { halfLife: Infinity })!;
    expect(lt.medianMs / DAY).toBeCloseTo(5.5, 9);
    expect(lt.p90Ms / DAY).toBeCloseTo(9.5, 9);
    expect(lt.stdMs / DAY).toBeCloseTo(Math.sqrt(55 / 6), 9); // sample std of 1..10
  });

  it('the schedule’s nominal time dominates with no or one delivery and fades as they come', () => {
    const prior = { meanMs: 1.5 * DAY, stdMs: 0.2 * DAY };
    const at = (n: number) => learnLeadTime(deliveries(Array<number>(n).fill(2.5)), { prior })!;
    // Weight k/(k+n) with k = 3: 1, ¾, ½, 3/33.
    const none = at(0);
    expect(none.n).toBe(0);
    expect(none.meanMs).toBe(prior.meanMs);
    expect(none.medianMs).toBe(prior.meanMs);
    expect(none.stdMs / DAY).toBeCloseTo(0.2, 9);
    expect(none.p90Ms / DAY).toBeCloseTo(1.5 + 0.2 * 1.2815515655446004, 9);
    expect(at(1).meanMs / DAY).toBeCloseTo(1.75, 9);
    expect(at(3).meanMs / DAY).toBeCloseTo(2.0, 9);
    expect(at(30).meanMs / DAY).toBeCloseTo(2.5 - 3 / 33, 9);
    expect(learnLeadTime(deliveries(Array<number>(300).fill(2.5)), { prior })!.meanMs / DAY).toBeGreaterThan(
      2.49,
    );
    // One delivery disagreeing with the schedule is uncertainty: the mixture's spread,
    // ¾(0.2² + 0.25²) + ¼(0 + 0.75²).
    expect(at(1).stdMs / DAY).toBeCloseTo(Math.sqrt(0.75 * (0.04 + 0.0625) + 0.25 * 0.5625), 9);
    // A heavier prior holds on longer.
    const heavy = learnLeadTime(deliveries([2.5]), { prior, priorWeight: 9 })!;
    expect(heavy.meanMs / DAY).toBeCloseTo(1.6, 9);
  });

  it('rejects bad options, naming them', () => {
    const s = deliveries([2]);
    expect(() => learnLeadTime(s, { halfLife: 0 })).toThrow(/halfLife/);
    expect(() => learnLeadTime(s, { priorWeight: -1 })).toThrow(/priorWeight/);
    expect(() => learnLeadTime(s, { outlierSigmas: Number.NaN })).toThrow(/outlierSigmas/);
    expect(() => learnLeadTime(s, { prior: { meanMs: 0 } })).toThrow(/prior\.meanMs/);
    expect(() => learnLeadTime(s, { prior: { meanMs: DAY, stdMs: -1 } })).toThrow(/prior\.stdMs/);
  });
});

describe('safety stock and reorder point', () => {
  const base = {
    demandPerDayMean: 10,
    demandPerDayStd: 3,
    leadTimeDaysMean: 4,
    leadTimeDaysStd: 1,
    serviceLevel: 0.95,
  };

  it('z·√(L·σd² + d²·σL²), rounded up to whole items', () => {
    // 1.6448536 · √(4·9 + 100·1) = 1.6448536 · 11.6619 = 19.18 → 20.
    expect(safetyStock(base)).toBe(20);
    // Lead time certain: 1.6448536 · 3 · √4 = 9.87 → 10.
    expect(safetyStock({ ...base, leadTimeDaysStd: 0 })).toBe(10);
    // Demand certain: 2.3263479 · 10 · 1 = 23.26 → 24.
    expect(safetyStock({ ...base, demandPerDayStd: 0, serviceLevel: 0.99 })).toBe(24);
    // Nothing varies: none.
    expect(safetyStock({ ...base, demandPerDayStd: 0, leadTimeDaysStd: 0 })).toBe(0);
    // z(0.8413447461) = 1, so 1 · √(1·4 + 4·4) = √20 = 4.47 → 5; and an exact 6 stays 6.
    const oneSigma = 0.8413447460685429;
    expect(
      safetyStock({
        demandPerDayMean: 2,
        demandPerDayStd: 2,
        leadTimeDaysMean: 1,
        leadTimeDaysStd: 2,
        serviceLevel: oneSigma,
      }),
    ).toBe(5);
    expect(
      safetyStock({
        demandPerDayMean: 0,
        demandPerDayStd: 3,
        leadTimeDaysMean: 4,
        leadTimeDaysStd: 9,
        serviceLevel: oneSigma,
      }),
    ).toBe(6);
  });

  it('reorder point is d·L plus safety stock, rounded up', () => {
    expect(reorderPoint(base)).toBe(60); // 40 + 20
    expect(reorderPoint({ ...base, leadTimeDaysMean: 2.55, leadTimeDaysStd: 0 })).toBe(34); // 25.5 + ⌈7.88⌉ = 33.5 → 34
    expect(reorderPoint({ ...base, demandPerDayMean: 0, demandPerDayStd: 0 })).toBe(0);
    // 8.3 × 30 is 249.00000000000003 in floating point: still 249 items, not 250.
    const certain = { demandPerDayStd: 0, leadTimeDaysStd: 0, serviceLevel: 0.95 };
    expect(reorderPoint({ ...certain, demandPerDayMean: 8.3, leadTimeDaysMean: 30 })).toBe(249);
  });

  it('[property] more service, more stock', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.51, max: 0.999, noNaN: true }), (sl) => {
        return (
          safetyStock({ ...base, serviceLevel: sl }) <= safetyStock({ ...base, serviceLevel: sl + 0.0009 })
        );
      }),
      { numRuns: 500, seed: 3 },
    );
  });

  it('rejects a service level outside (0.5, 0.9999] and negative inputs, naming the argument', () => {
    for (const serviceLevel of [0.5, 0.3, 1, 0.99991, Number.NaN]) {
      expect(() => safetyStock({ ...base, serviceLevel })).toThrow(RangeError);
      expect(() => safetyStock({ ...base, serviceLevel })).toThrow(/serviceLevel/);
    }
    expect(safetyStock({ ...base, serviceLevel: 0.9999 })).toBeGreaterThan(0);
    expect(() => safetyStock({ ...base, demandPerDayMean: -1 })).toThrow(/demandPerDayMean/);
    expect(() => safetyStock({ ...base, demandPerDayStd: Number.POSITIVE_INFINITY })).toThrow(
      /demandPerDayStd/,
    );
    expect(() => reorderPoint({ ...base, leadTimeDaysMean: Number.NaN })).toThrow(/leadTimeDaysMean/);
    expect(() => reorderPoint({ ...base, leadTimeDaysStd: -0.1 })).toThrow(/leadTimeDaysStd/);
  });
});
