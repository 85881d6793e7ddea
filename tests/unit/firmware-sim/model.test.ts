import {
  JUNK_VALUES,
  Rng,
  resolveShelves,
  ShelfModel,
  ShelfSpec,
  type ShelfSpecInput,
} from '@shelfsense/firmware-sim';
import { RAW_MAX, RAW_MIN } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

const QUIET = { driftG: 0, driftWalkG: 0, creepFraction: 0, junkProbability: 0 };
const TICK_80 = 12_500;

function model(spec: ShelfSpecInput, rate: 10 | 80 = 80, seed = 1): ShelfModel {
  const [shelf] = resolveShelves({ seed, count: 1, specs: [ShelfSpec.parse(spec)] });
  return new ShelfModel(shelf!, new Rng(seed), rate);
}

/** Samples `n` ticks from device time `fromUs`; returns channel `ch`'s readings. */
function run(m: ShelfModel, n: number, ch = 0, fromUs = 0, tickUs = TICK_80): number[] {
  const out = new Array<number>(m.channels).fill(0);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    m.sample(fromUs + i * tickUs, out);
    values.push(out[ch] as number);
  }
  return values;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
};

describe('physical model', () => {
  const cell = { offset: 100_000, scale: 420, trayG: 300 };
  const lane = { unitWeightG: 250, items: 10 };

  it('[sim-model] raw = offset + scale × (tray + items × unit) on average', () => {
    const m = model({ lanes: [lane], cells: [cell], model: QUIET });
    const values = run(m, 8000);
    expect(mean(values)).toBeCloseTo(100_000 + 420 * (300 + 2500), -2);
    expect(Math.abs(mean(values) - m.idealRaw(0)) / 420).toBeLessThan(0.05);
  });

  it('[sim-noise] Gaussian noise is σ 1 g at 80 SPS and 50/90 of that at 10 SPS (HX711 datasheet)', () => {
    const fast = run(model({ lanes: [lane], cells: [cell], model: QUIET }, 80), 20_000);
    expect(sd(fast) / 420).toBeGreaterThan(0.97);
    expect(sd(fast) / 420).toBeLessThan(1.03);
    const slow = run(model({ lanes: [lane], cells: [cell], model: QUIET }, 10), 20_000, 0, 0, 100_000);
    expect(sd(slow) / 420).toBeGreaterThan(0.54);
    expect(sd(slow) / 420).toBeLessThan(0.58);
    const custom = run(model({ lanes: [{ ...lane, noiseG: 3 }], cells: [cell], model: QUIET }), 20_000);
    expect(sd(custom) / 420).toBeGreaterThan(2.9);
  });

  it('[sim-creep] after a change ΔW the reading moves a further creepFraction × ΔW with time constant τ', () => {
    const m = model({
      lanes: [{ unitWeightG: 1000, items: 0 }],
      cells: [cell],
      model: { ...QUIET, noiseG: 0, creepFraction: 0.0005, creepTauMs: 60_000 },
    });
    run(m, 10);
    m.setItems(0, 1); // ΔW = 1000 g
    const grams = (raw: number) => (raw - 100_000) / 420 - 300;
    const first = grams(run(m, 1, 0, 10 * TICK_80)[0] as number);
    expect(first).toBeCloseTo(1000 - 0.5, 1);
    // One time constant later, e^-1 of the 0.5 g is left.
    const ticksPerTau = 60_000 / 12.5;
    const later = run(m, ticksPerTau, 0, 11 * TICK_80);
    expect(grams(later.at(-1) as number)).toBeCloseTo(1000 - 0.5 * Math.exp(-1), 1);
  });

  it('[sim-drift] the zero follows a daily swing of a few grams and a bounded random walk', () => {
    const m = model({
      lanes: [lane],
      cells: [cell],
      model: { ...QUIET, noiseG: 0, driftG: 3, driftWalkG: 0 },
    });
    // One sample per minute over a day.
    const day = run(m, 1440, 0, 0, 60_000_000).map((r) => (r - m.idealRaw(0)) / 420);
    const swing = Math.max(...day) - Math.min(...day);
    expect(swing).toBeGreaterThan(2 * 3 * 0.6 - 0.1);
    expect(swing).toBeLessThan(2 * 3 * 1.4 + 0.1);
    const walk = model({
      lanes: [lane],
      cells: [cell],
      model: { ...QUIET, noiseG: 0, driftG: 0, driftWalkG: 1 },
    });
    const walked = run(walk, 2880, 0, 0, 30_000_000).map((r) => (r - walk.idealRaw(0)) / 420);
    expect(Math.max(...walked.map(Math.abs))).toBeLessThanOrEqual(3.01);
    expect(sd(walked)).toBeGreaterThan(0.1);
  });

  it('[sim-junk] HX711 junk values appear with the configured probability', () => {
    const m = model({ lanes: [lane], cells: [cell], model: { ...QUIET, junkProbability: 1e-3 } });
    const values = run(m, 100_000);
    const junk = values.filter((v) => (JUNK_VALUES as readonly number[]).includes(v));
    expect(junk.length).toBeGreaterThan(70);
    expect(junk.length).toBeLessThan(130);
    expect(new Set(junk)).toEqual(new Set(JUNK_VALUES));
  });

  it('[sim-unplug] an unplugged cell saturates at 8388607 and reads normally once replugged', () => {
    const m = model({ lanes: [lane, lane], cells: [cell, cell], model: QUIET });
    m.setUnplugged(1, true);
    const out = [0, 0];
    m.sample(0, out);
    expect(out[1]).toBe(RAW_MAX);
    expect(out[0]).not.toBe(RAW_MAX);
    m.setUnplugged(1, false);
    m.sample(TICK_80, out);
    expect(Math.abs((out[1] as number) - m.idealRaw(1)) / 420).toBeLessThan(6);
  });

  it('[sim-int24] readings are clamped to the signed 24-bit range', () => {
    const heavy = model({
      lanes: [{ unitWeightG: 50_000, items: 10 }],
      cells: [{ offset: 0, scale: 400 }],
      model: QUIET,
    });
    expect(run(heavy, 10).every((v) => v === RAW_MAX)).toBe(true);
    const negative = model({
      lanes: [{ unitWeightG: 50_000, items: 10 }],
      cells: [{ offset: 0, scale: -400 }],
      model: QUIET,
    });
    expect(run(negative, 10).every((v) => v === RAW_MIN)).toBe(true);
  });

  it('[sim-lean] a leaning hand adds a wobbling force that is no whole number of items', () => {
    const m = model({ lanes: [lane], cells: [cell], model: { ...QUIET, noiseG: 0 } });
    m.setLean(0, 330, 0, 0.5);
    const grams = run(m, 800, 0).map((r) => (r - m.idealRaw(0)) / 420);
    const held = grams.slice(40); // after the 250 ms ramp
    expect(mean(held)).toBeGreaterThan(330 * 0.9);
    expect(mean(held)).toBeLessThan(330 * 1.1);
    expect(Math.max(...held) - Math.min(...held)).toBeGreaterThan(330 * 0.15);
    m.releaseLean(0, 800 * TICK_80);
    const after = run(m, 40, 0, 801 * TICK_80).map((r) => (r - m.idealRaw(0)) / 420);
    expect(Math.abs(after.at(-1) as number)).toBeLessThan(0.01);
    expect(m.lanes[0]?.lean).toBeNull();
  });
});
