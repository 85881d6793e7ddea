import { deriveSeed, Rng } from '@shelfsense/firmware-sim';
import { describe, expect, it } from 'vitest';

describe('seeded randomness', () => {
  it('[sim-seed] the same seed gives the same stream; another seed another stream', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(sa);
    for (const v of sa) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('[sim-seed] derived seeds differ per part and are stable', () => {
    expect(deriveSeed(1, 'shelf', 0)).toBe(deriveSeed(1, 'shelf', 0));
    const seeds = new Set([
      deriveSeed(1, 'shelf', 0),
      deriveSeed(1, 'shelf', 1),
      deriveSeed(2, 'shelf', 0),
      deriveSeed(1, 'model'),
      deriveSeed(1, 'scenario'),
    ]);
    expect(seeds.size).toBe(5);
  });

  it('[sim-noise] normal() has mean 0 and standard deviation 1', () => {
    const r = new Rng(7);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeGreaterThan(0.99);
    expect(sd).toBeLessThan(1.01);
  });

  it('int() stays within its inclusive bounds and reaches both', () => {
    const r = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(2, 5));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });

  it('[sim-junk] geometric(p) has mean (1 - p) / p', () => {
    const r = new Rng(11);
    const p = 0.01;
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += r.geometric(p);
    expect(sum / n).toBeGreaterThan(0.95 * ((1 - p) / p));
    expect(sum / n).toBeLessThan(1.05 * ((1 - p) / p));
    expect(r.geometric(0)).toBe(Number.POSITIVE_INFINITY);
  });
});
