/**
 * Seeded randomness. Every random choice in the simulator comes from one of these generators, each
 * seeded from the run's seed and a stream name, so a run is reproducible byte for byte and one
 * stream (say, scenario picks) never shifts another (say, sensor noise).
 */

/** 32-bit integer hash (murmur3 finaliser); mixes seeds so nearby seeds give unrelated streams. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Derives a 32-bit seed from a base seed and any number of parts (numbers or names). */
export function deriveSeed(seed: number, ...parts: (number | string)[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const p of parts) {
    if (typeof p === 'number') h = fmix32(h ^ fmix32((p >>> 0) + 0x632be5ab));
    else for (let i = 0; i < p.length; i++) h = fmix32(h ^ (p.charCodeAt(i) + 0x27d4eb2f));
  }
  return h;
}

/** mulberry32: small, fast, and good enough for simulation (not for cryptography). */
export class Rng {
  private state: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal by Box-Muller; the second value of each pair is kept for the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /**
   * Number of trials before the next success of probability p (geometric), so rare events cost one
   * draw per event instead of one per sample.
   */
  geometric(p: number): number {
    if (p <= 0) return Number.POSITIVE_INFINITY;
    if (p >= 1) return 0;
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.floor(Math.log(u) / Math.log1p(-p));
  }
}
