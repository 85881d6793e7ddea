/**
 * Stage 3b — the fresh check, per channel: do the newest raw samples still agree with the settled
 * reading?
 *
 * The filters lag a step: the median passes it on only once most of its window is new, and the
 * moving average then takes its whole window to follow. Until the filtered value has left the
 * stability band, the stability window still looks still — for ~4–6 frames at 80 SPS after an
 * item landed. A count accepted in those frames would be stale. So the channel also keeps the
 * newest `size` released samples (after junk and spike rejection, before smoothing) and counts as
 * stable only while
 * - their mean lies within the stability band of the settled mean: a step of more than the band in
 *   the latest samples makes the channel unstable at once; and
 * - each of them lies within `SAMPLE_SIGMAS` σ of the raw noise (at least the band) of the settled
 *   mean: a load there for a frame or two only (an item put down and taken straight back), which
 *   the median removes and the average dilutes, still shows. At 6 σ a Gaussian sample strays that
 *   far once in ~500 million.
 *
 * A step in the very latest samples moves their mean by only part of the step, and the newest
 * sample of all is still held back by the spike check. But a step at or before the block's oldest
 * sample moves every sample of the block, so it cannot pass unseen: the settled reading is known to
 * be true of the frame of the block's oldest sample (`oldestSeq`, `oldestT`). That is the frame a
 * stable count names.
 *
 * Preallocated typed arrays; raw counts are integers, so the running sum stays exact.
 */

/** Largest block; the block size follows the median window (at least 3 samples). */
export const MAX_FRESH = 31;
/** A single fresh sample further than this many noise σ from the settled mean unsettles the channel. */
export const SAMPLE_SIGMAS = 6;

/** What the block reads a released sample from (the Rejector). */
export interface ReleasedSample {
  readonly out: number;
  readonly outSeq: number;
  readonly outT: number;
}

export class FreshBlock {
  // Sized to the block configured (up to MAX_FRESH samples).
  private vals = new Float64Array(3);
  private seqs = new Float64Array(3);
  private times = new Float64Array(3);
  private size = 3;
  private head = 0;
  private n = 0;
  // Doubles are declared with a fractional value so V8 keeps them unboxed from the start; the
  // owner sets the bands before use and configure() empties the block.
  private sum = 0.5;
  /** Allowed distance of the block's mean from the settled mean, raw counts. */
  band = 0.5;
  /** Allowed distance of each sample from the settled mean, raw counts. */
  sampleBand = 0.5;
  /** Frame seq and device time of the oldest sample, as of the last agrees() that held. */
  oldestSeq = 0.5;
  oldestT = 0.5;

  /** The block size for a median window of `median` samples: that many, at least 3. */
  static sizeFor(median: number): number {
    return Math.max(3, Math.min(MAX_FRESH, median));
  }

  /** Sets the block size and empties the block. */
  configure(size: number): void {
    this.size = Math.max(1, Math.min(MAX_FRESH, size));
    if (this.vals.length < this.size) {
      this.vals = new Float64Array(this.size);
      this.seqs = new Float64Array(this.size);
      this.times = new Float64Array(this.size);
    }
    this.reset();
  }

  reset(): void {
    this.head = 0;
    this.n = 0;
    this.sum = 0;
  }

  /**
   * Adds the sample the rejector just released. It takes the object rather than the numbers: this
   * runs once per sample in a chain the JIT may not inline whole, and a double passed as an
   * argument to a call that is not inlined is boxed on the heap.
   */
  take(r: ReleasedSample): void {
    const h = this.head;
    const x = r.out;
    if (this.n === this.size) this.sum -= this.vals[h] as number;
    else this.n++;
    this.vals[h] = x;
    this.seqs[h] = r.outSeq;
    this.times[h] = r.outT;
    this.sum += x;
    this.head = h + 1 === this.size ? 0 : h + 1;
  }

  /**
   * Whether the block is full, its mean lies within `band` of the settled mean (the stability
   * window's) and each sample within `sampleBand` of it. When it does, `oldestSeq`/`oldestT` name
   * the oldest sample.
   */
  agrees(window: { mean(): number }): boolean {
    const n = this.n;
    if (n !== this.size) return false;
    const settled = window.mean();
    if (!(Math.abs(this.sum / n - settled) <= this.band)) return false;
    const vals = this.vals;
    const lim = this.sampleBand;
    for (let i = 0; i < n; i++) {
      if (!(Math.abs((vals[i] as number) - settled) <= lim)) return false;
    }
    // The block is full, so the next slot to write holds the oldest sample.
    this.oldestSeq = this.seqs[this.head] as number;
    this.oldestT = this.times[this.head] as number;
    return true;
  }

  /** Mean of the block, raw counts (NaN when empty). */
  mean(): number {
    return this.n > 0 ? this.sum / this.n : Number.NaN;
  }
}
