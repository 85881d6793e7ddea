/**
 * Stage 3 — stability detection on the device clock, per channel.
 *
 * A channel is stable when its filtered value has stayed within a band (peak to peak) over the
 * last `windowMs` of device time, and it has been watched for at least that long. The window keeps
 * one sample at or before its start, so "stable" always covers the full span. Sliding max and min
 * come from monotonic deques, the mean and variance from running sums (relative to a reference
 * value, so the sums stay small and exact enough); all O(1) amortised per sample on preallocated
 * typed arrays. The window mean is the settled reading that counting and calibration use.
 */

export class StabilityWindow {
  private readonly cap: number;
  private readonly vals: Float64Array;
  private readonly times: Float64Array;
  /** Deques of absolute sample indices (as doubles: they outgrow 32 bits at 80 SPS in ~1.7 years). */
  private readonly maxQ: Float64Array;
  private readonly minQ: Float64Array;
  private maxHead = 0;
  private maxTail = 0;
  private minHead = 0;
  private minTail = 0;
  /** Absolute index of the oldest sample in the window, and of the next sample to come. */
  private start = 0;
  private end = 0;
  private ref = 0;
  private sum = 0;
  private sumSq = 0;
  private sinceRecompute = 0;
  private input = 0.5;
  private inputT = 0.5;
  private windowMs: number;
  private band: number;
  /** Whether the last push left the channel stable. */
  stable = false;
  /** Device time since when the channel has been stable without a break (NaN when not stable). */
  stableSince = Number.NaN;

  /** `windowMs`: stable time; `band`: allowed peak-to-peak, in the units of the values pushed. */
  constructor(windowMs: number, band: number, capacity: number) {
    this.cap = capacity;
    this.vals = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.maxQ = new Float64Array(capacity);
    this.minQ = new Float64Array(capacity);
    this.windowMs = windowMs;
    this.band = band;
  }

  /** Enough room for `windowMs` of samples at up to 100 SPS (allowing clock jitter), plus slack. */
  static capacityFor(windowMs: number): number {
    return Math.ceil(windowMs / 8) + 16;
  }

  setBand(band: number): void {
    this.band = band;
  }

  reset(): void {
    this.start = this.end;
    this.maxHead = this.maxTail = this.minHead = this.minTail = 0;
    this.sum = this.sumSq = 0;
    this.sinceRecompute = 0;
    this.stable = false;
    this.stableSince = Number.NaN;
  }

  /** Adds a filtered value at device time `t`; returns whether the channel is now stable. */
  push(v: number, t: number): boolean {
    // Small enough for the JIT to inline, so the double reaches step() through a field instead of
    // being boxed as an argument once per sample.
    this.input = v;
    this.inputT = t;
    return this.step();
  }

  private step(): boolean {
    const v = this.input;
    const t = this.inputT;
    const cap = this.cap;
    if (this.end === this.start) this.ref = v;
    if (this.end - this.start === cap) this.evictOldest();
    const idx = this.end++;
    const slot = idx % cap;
    this.vals[slot] = v;
    this.times[slot] = t;
    const d = v - this.ref;
    this.sum += d;
    this.sumSq += d * d;
    // Monotonic deques: maxQ holds decreasing values, minQ increasing ones.
    while (this.maxTail > this.maxHead && (this.vals[this.q(this.maxQ, this.maxTail - 1)] as number) <= v)
      this.maxTail--;
    this.maxQ[this.maxTail++ % cap] = idx;
    while (this.minTail > this.minHead && (this.vals[this.q(this.minQ, this.minTail - 1)] as number) >= v)
      this.minTail--;
    this.minQ[this.minTail++ % cap] = idx;
    // Keep exactly one sample at or before the window start.
    const from = t - this.windowMs;
    while (this.end - this.start >= 2 && (this.times[(this.start + 1) % cap] as number) <= from) {
      this.evictOldest();
    }
    if (++this.sinceRecompute >= cap) this.recompute();
    const covered = t - (this.times[this.start % cap] as number) >= this.windowMs;
    const stable = covered && this.max() - this.min() <= this.band;
    if (stable && !this.stable) this.stableSince = t;
    else if (!stable) this.stableSince = Number.NaN;
    this.stable = stable;
    return stable;
  }

  /** Number of samples in the window. */
  get count(): number {
    return this.end - this.start;
  }

  mean(): number {
    const n = this.end - this.start;
    return n > 0 ? this.ref + this.sum / n : Number.NaN;
  }

  /** Population variance of the window. */
  variance(): number {
    const n = this.end - this.start;
    if (n < 2) return 0;
    const m = this.sum / n;
    return Math.max(0, this.sumSq / n - m * m);
  }

  max(): number {
    return this.vals[this.q(this.maxQ, this.maxHead)] as number;
  }

  min(): number {
    return this.vals[this.q(this.minQ, this.minHead)] as number;
  }

  /** Ring slot of the sample at deque position `pos`. */
  private q(deque: Float64Array, pos: number): number {
    return (deque[pos % this.cap] as number) % this.cap;
  }

  private evictOldest(): void {
    const cap = this.cap;
    const idx = this.start++;
    const d = (this.vals[idx % cap] as number) - this.ref;
    this.sum -= d;
    this.sumSq -= d * d;
    if (this.maxTail > this.maxHead && (this.maxQ[this.maxHead % cap] as number) === idx) this.maxHead++;
    if (this.minTail > this.minHead && (this.minQ[this.minHead % cap] as number) === idx) this.minHead++;
  }

  /** Re-sums the window now and then, so rounding in the running sums cannot accumulate. */
  private recompute(): void {
    this.sinceRecompute = 0;
    const cap = this.cap;
    this.ref = this.vals[this.start % cap] as number;
    let s = 0;
    let s2 = 0;
    for (let i = this.start; i < this.end; i++) {
      const d = (this.vals[i % cap] as number) - this.ref;
      s += d;
      s2 += d * d;
    }
    this.sum = s;
    this.sumSq = s2;
  }
}
