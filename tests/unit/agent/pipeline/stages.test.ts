/**
 * Each stage of the pipeline on its own, against straightforward reference implementations.
 */
import {
  CellFault,
  confidence,
  MedianAverage,
  NoiseEstimator,
  Rejector,
  StabilityWindow,
  windowsFor,
  worstHealth,
  ZeroTracker,
} from '@shelfsense/agent/testing';
import { SignalConfig } from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gaussian, rng } from './shelf-model.js';

const FC = { seed: 20_240_601, numRuns: 200 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

describe('stage 1: junk and spike rejection', () => {
  it('[reject-junk] drops exactly 8388607, -8388608 and -1, and releases everything else one sample late', () => {
    const r = new Rejector(500, 1_000_000);
    const out: number[] = [];
    const input = [10, 8_388_607, 11, -8_388_608, 12, -1, 8_388_606, -8_388_607, -2, 0, 13];
    input.forEach((x, i) => {
      if (r.push(x, i * 12.5)) out.push(r.out);
    });
    expect(out).toEqual([10, 11, 12, 8_388_606, -8_388_607, -2, 0]);
    expect(r.rail).toBe(2);
    expect(r.glitch).toBe(1);
    expect(r.fault).toBe(CellFault.NONE);
  });

  it('[reject-spike] drops a lone outlier but keeps a step and a two-sample excursion', () => {
    const r = new Rejector(500, 100);
    const out: number[] = [];
    const input = [0, 3, 5000, 2, 1, 4, 900, 905, 903, 902, 0, 1, 600, 650, 2, 3];
    input.forEach((x, i) => {
      if (r.push(x, i)) out.push(r.out);
    });
    expect(r.spikes).toBe(1);
    expect(out).toEqual([0, 3, 2, 1, 4, 900, 905, 903, 902, 0, 1, 600, 650, 2]);
  });

  it('[reject-fault] rail codes for faultMs make the cell saturated; glitch codes disconnected; valid readings for faultMs clear it', () => {
    const r = new Rejector(300, 100);
    let t = 0;
    const feed = (x: number, n: number) => {
      for (let i = 0; i < n; i++) {
        t += 12.5;
        r.push(x, t);
      }
    };
    feed(100, 10);
    feed(8_388_607, 10); // 125 ms: not yet
    expect(r.fault).toBe(CellFault.NONE);
    feed(-8_388_608, 20); // 375 ms of rail codes in all
    expect(r.fault).toBe(CellFault.SATURATED);
    feed(100, 10);
    expect(r.fault).toBe(CellFault.SATURATED);
    feed(100, 20);
    expect(r.fault).toBe(CellFault.NONE);
    feed(-1, 30);
    expect(r.fault).toBe(CellFault.DISCONNECTED);
    // Saturated needs every code of the stretch to be a rail code.
    feed(100, 40);
    feed(8_388_607, 15);
    feed(-1, 1);
    feed(8_388_607, 15);
    expect(r.fault).toBe(CellFault.DISCONNECTED);
  });
});

describe('stage 2: median then moving average', () => {
  /** Pushes `xs` through `f` (configured for `mw`, `aw`) and checks each output against a naive median-then-mean. */
  function expectNaive(f: MedianAverage, mw: number, aw: number, xs: number[]): void {
    const medians: number[] = [];
    xs.forEach((x, i) => {
      medians.push(median(xs.slice(Math.max(0, i - mw + 1), i + 1)));
      const window = medians.slice(Math.max(0, medians.length - aw));
      const want = window.reduce((a, b) => a + b, 0) / window.length;
      f.push(x);
      expect(f.value).toBeCloseTo(want, 6);
    });
  }
  const raw = (maxLength: number) =>
    fc.array(fc.integer({ min: -8_388_608, max: 8_388_607 }), { minLength: 1, maxLength });

  it('[smooth] equals a naive median-then-mean for any windows and inputs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), raw(120), (mw, aw, xs) => {
        const f = new MedianAverage();
        f.configure(mw, aw);
        expectNaive(f, mw, aw, xs);
      }),
      FC,
    );
  });

  it('[smooth-grow] reconfigured to larger windows, it equals a naive median-then-mean again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 1, max: 256 }),
        raw(300),
        (mw, aw, xs) => {
          const f = new MedianAverage();
          f.configure(1, 1);
          f.push(12345);
          f.configure(mw, aw);
          expectNaive(f, mw, aw, xs);
        },
      ),
      FC,
    );
  });
});

describe('stage 3: stability', () => {
  it('[stability] matches a naive peak-to-peak over the last windowMs, with full coverage required', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 600 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: -50, max: 50 })), {
          maxLength: 300,
        }),
        (windowMs, band, steps) => {
          const w = new StabilityWindow(windowMs, band, StabilityWindow.capacityFor(windowMs));
          const ts: number[] = [];
          const vs: number[] = [];
          let t = 0;
          for (const [dt, v] of steps) {
            t += dt;
            ts.push(t);
            vs.push(v);
            const stable = w.push(v, t);
            // Reference: samples after the last one at or before t − windowMs, plus that one.
            let first = 0;
            for (let i = 0; i < ts.length; i++) if ((ts[i] as number) <= t - windowMs) first = i;
            const covered = (ts[0] as number) <= t - windowMs;
            const win = vs.slice(first);
            const want = covered && Math.max(...win) - Math.min(...win) <= band;
            expect(stable).toBe(want);
            if (covered) {
              expect(w.count).toBe(win.length);
              expect(w.mean()).toBeCloseTo(win.reduce((a, b) => a + b, 0) / win.length, 6);
            }
          }
        },
      ),
      FC,
    );
  });

  it('[stability] stableSince marks the start of an unbroken stable stretch; reset() forgets the past', () => {
    const w = new StabilityWindow(100, 2, StabilityWindow.capacityFor(100));
    for (let t = 0; t <= 100; t += 10) w.push(5, t);
    expect(w.stable).toBe(true);
    expect(w.stableSince).toBe(100);
    w.push(5, 110);
    expect(w.stableSince).toBe(100);
    w.push(50, 120);
    expect(w.stable).toBe(false);
    expect(Number.isNaN(w.stableSince)).toBe(true);
    w.reset();
    w.push(5, 130);
    expect(w.stable).toBe(false);
    expect(w.count).toBe(1);
  });
});

describe('stage 5: zero-tracking', () => {
  it('[zero-track-bound] moves toward the error with its time constant and never past the bound', () => {
    const z = new ZeroTracker(20, 1_000, 420);
    z.track(10, 100);
    expect(z.driftG).toBeCloseTo(1, 9);
    expect(z.counts).toBeCloseTo(420, 6);
    for (let i = 0; i < 1000; i++) z.track(100, 100);
    expect(z.driftG).toBe(20);
    expect(z.counts).toBe(20 * 420);
    expect(z.nearLimit).toBe(true);
    z.recalibrated(400);
    expect(z.driftG).toBe(0);
    expect(z.nearLimit).toBe(false);
  });
});

describe('stage 7: health', () => {
  it('[noise] estimates σ from second differences within 5 %, unmoved by steps and ramps', () => {
    const rand = rng(3);
    const g = gaussian(rand);
    const n = new NoiseEstimator();
    let level = 100_000;
    for (let i = 0; i < 80 * 120; i++) {
      if (i % 160 === 0) level += (rand() - 0.5) * 200_000; // a pick or restock every 2 s
      level += 20; // a ramp
      n.push(level + 420 * g(), 12.5);
    }
    expect(n.ready).toBe(true);
    expect(n.sigma / 420).toBeGreaterThan(0.95);
    expect(n.sigma / 420).toBeLessThan(1.08);
  });

  it('[health] worst status wins, in severity order', () => {
    expect(worstHealth([])).toBe('ok');
    expect(worstHealth(['ok', 'drifting', 'noisy'])).toBe('noisy');
    expect(worstHealth(['saturated', 'disconnected', 'ok'])).toBe('disconnected');
    expect(worstHealth(['no_data', 'saturated'])).toBe('no_data');
  });
});

describe('settings and confidence', () => {
  it('[rate] windows keep their time span at 10 SPS but never drop under 3 samples', () => {
    const cfg = SignalConfig.parse({});
    expect(windowsFor(cfg, 80)).toEqual({ median: 5, average: 8 });
    expect(windowsFor(cfg, 10)).toEqual({ median: 3, average: 3 });
    expect(windowsFor(SignalConfig.parse({ medianWindow: 31, averageWindow: 64 }), 10)).toEqual({
      median: 4,
      average: 8,
    });
    expect(windowsFor(SignalConfig.parse({ medianWindow: 1, averageWindow: 2 }), 10)).toEqual({
      median: 1,
      average: 2,
    });
  });

  it('[confidence] 1 on a whole number with little noise, falling with the distance and with the noise', () => {
    expect(confidence(0, 0.01)).toBeCloseTo(1, 6);
    expect(confidence(0.25, 0.01)).toBeCloseTo(0.5, 3);
    expect(confidence(0.5, 0.01)).toBe(0);
    expect(confidence(0.1, 0.01)).toBeGreaterThan(confidence(0.2, 0.01));
    expect(confidence(0.1, 0.01)).toBeGreaterThan(confidence(0.1, 0.3));
    expect(confidence(-0.1, 0.05)).toBeCloseTo(confidence(0.1, 0.05), 12);
  });
});
