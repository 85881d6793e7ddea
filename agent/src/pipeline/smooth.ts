/**
 * Stage 2 — smoothing, per channel: a running median (removes what is left of spikes without
 * smearing a step) followed by a moving average (reduces Gaussian noise).
 *
 * Both run on preallocated typed arrays: the median keeps its window in arrival order (a ring) and
 * in sorted order, so each sample costs one removal and one insertion, O(window); the average keeps
 * a running sum. Raw counts are integers and a median is an integer or a half-integer, so the sum
 * stays exact in a double and never needs recomputing. Until a window is full, the stage works on
 * the samples it has, so output starts with the first sample.
 */

/** Largest windows a channel may be configured with (the agent config's bounds). */
export const MAX_MEDIAN = 31;
export const MAX_AVERAGE = 256;

export class MedianAverage {
  private medianCap = 1;
  private averageCap = 1;
  // Sized to the windows configured (a rate change may ask for larger ones): a shelf's 8 channels
  // at the bounds would hold 26 KB where the default windows need 1 KB.
  private ring = new Float64Array(1);
  private sorted = new Float64Array(1);
  private ringHead = 0;
  private n = 0;
  private avg = new Float64Array(1);
  private avgHead = 0;
  private avgN = 0;
  private sum = 0;
  /** The last output. */
  value = Number.NaN;

  /** Sets the window sizes (clamped to 1…MAX_MEDIAN and 1…MAX_AVERAGE) and empties the windows. */
  configure(median: number, average: number): void {
    this.medianCap = Math.max(1, Math.min(median, MAX_MEDIAN));
    this.averageCap = Math.max(1, Math.min(average, MAX_AVERAGE));
    if (this.ring.length < this.medianCap) {
      this.ring = new Float64Array(this.medianCap);
      this.sorted = new Float64Array(this.medianCap);
    }
    if (this.avg.length < this.averageCap) this.avg = new Float64Array(this.averageCap);
    this.reset();
  }

  reset(): void {
    this.ringHead = 0;
    this.n = 0;
    this.avgHead = 0;
    this.avgN = 0;
    this.sum = 0;
    this.value = Number.NaN;
  }

  /**
   * Adds a sample; the smoothed value is then in `value`. (Not returned: a double returned from a
   * call the JIT does not inline is boxed on the heap, once per sample.)
   */
  push(x: number): void {
    const m = this.median(x);
    const cap = this.averageCap;
    if (this.avgN === cap) {
      this.sum -= this.avg[this.avgHead] as number;
    } else this.avgN++;
    this.avg[this.avgHead] = m;
    this.sum += m;
    this.avgHead = this.avgHead + 1 === cap ? 0 : this.avgHead + 1;
    this.value = this.sum / this.avgN;
  }

  private median(x: number): number {
    const sorted = this.sorted;
    const cap = this.medianCap;
    let n = this.n;
    if (n === cap) {
      // Remove the oldest sample from the sorted copy.
      const old = this.ring[this.ringHead] as number;
      let i = 0;
      while (i < n - 1 && (sorted[i] as number) !== old) i++;
      for (; i < n - 1; i++) sorted[i] = sorted[i + 1] as number;
      n--;
    }
    this.ring[this.ringHead] = x;
    this.ringHead = this.ringHead + 1 === cap ? 0 : this.ringHead + 1;
    let j = n;
    while (j > 0 && (sorted[j - 1] as number) > x) {
      sorted[j] = sorted[j - 1] as number;
      j--;
    }
    sorted[j] = x;
    n++;
    this.n = n;
    const mid = n >> 1;
    return n & 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }
}
