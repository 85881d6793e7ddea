/**
 * Stage 5 — zero-tracking, per channel.
 *
 * A load cell's zero wanders with temperature (a few grams over hours). While the lane a channel
 * belongs to is empty (stable count 0) and settled, the channel should read 0 g, so whatever it
 * reads is drift: the correction moves toward cancelling it with time constant `zeroTrackMs`,
 * never beyond ±`zeroTrackLimitG` in total (as weighing standards bound automatic zero-tracking).
 * The lane counter calls track() only in that state — never while loaded, where a slow change
 * could be real.
 *
 * The correction is kept in raw counts (zero drift is an additive offset in counts) and reported
 * in grams at the cell's zero-load slope.
 */

export class ZeroTracker {
  /** Correction in raw counts, subtracted from (raw − offset). */
  counts = 0;
  private grams = 0;
  private limitG: number;
  private tauMs: number;
  private countsPerGram: number;

  constructor(limitG: number, tauMs: number, countsPerGram: number) {
    this.limitG = limitG;
    this.tauMs = tauMs;
    this.countsPerGram = countsPerGram;
  }

  /** Correction so far, grams (positive when the zero has risen). */
  get driftG(): number {
    return this.grams;
  }

  /** Whether the correction is near its bound (health: `drifting`). */
  get nearLimit(): boolean {
    return this.limitG > 0 && Math.abs(this.grams) >= 0.8 * this.limitG;
  }

  setLimits(limitG: number, tauMs: number): void {
    this.limitG = limitG;
    this.tauMs = tauMs;
    this.clamp();
  }

  /** A new calibration: its slope, and the correction starts over (a tare folds it into the offset). */
  recalibrated(countsPerGram: number): void {
    this.countsPerGram = countsPerGram;
    this.grams = 0;
    this.counts = 0;
  }

  /**
   * Moves the correction by `counts` at once, within the bound: a change of temperature
   * compensation keeps the reading continuous through it (temperature.ts).
   */
  shift(counts: number): void {
    if (!Number.isFinite(counts) || this.countsPerGram === 0) return;
    this.grams += counts / this.countsPerGram;
    this.clamp();
  }

  /**
   * One step of tracking: the channel reads `errG` grams while its lane is empty and settled,
   * `dtMs` after the last step; the correction moves by errG × dt/τ, within the bound.
   */
  track(errG: number, dtMs: number): void {
    if (!(dtMs > 0) || !Number.isFinite(errG)) return;
    this.grams += errG * Math.min(1, dtMs / this.tauMs);
    this.clamp();
  }

  private clamp(): void {
    if (this.grams > this.limitG) this.grams = this.limitG;
    else if (this.grams < -this.limitG) this.grams = -this.limitG;
    this.counts = this.grams * this.countsPerGram;
  }
}
