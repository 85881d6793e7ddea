/**
 * One load-cell channel: stages 1–5 and 7 in order — junk/spike rejection, median + moving
 * average, stability on the device clock (with the fresh check on the newest raw samples),
 * calibration to grams, the zero-tracking correction, and health. Allocation-free per sample;
 * grams are computed only when read.
 */
import type { Calibration, HealthStatus } from '@shelfsense/protocol';
import { CalibrationMap } from './calibrate.js';
import { FreshBlock, SAMPLE_SIGMAS } from './fresh.js';
import { healthStatus, NoiseEstimator } from './health.js';
import { CellFault, Rejector } from './reject.js';
import type { SignalSettings, Windows } from './settings.js';
import { MedianAverage } from './smooth.js';
import { StabilityWindow } from './stability.js';
import { ZeroTracker } from './zero-track.js';

/** What the rest of the agent may read about a channel. */
export interface ChannelReading {
  readonly index: number;
  /** Last filtered value, raw counts (NaN before the first sample). */
  readonly filteredRaw: number;
  /** Last filtered value in grams, zero-tracking applied. */
  readonly grams: number;
  /** Mean of the stability window, raw counts: the settled reading calibration works on. */
  readonly settledRaw: number;
  /** settledRaw in grams, zero-tracking applied. */
  readonly settledGrams: number;
  /** Stable: the filtered value still for stableMs, and the newest raw samples agree with it. */
  readonly stable: boolean;
  /** Frame seq the settled reading is known to be true of (see fresh.ts); meaningful while stable. */
  readonly settledSeq: number;
  readonly status: HealthStatus;
  /** Raw noise σ, grams. */
  readonly noiseG: number;
  /** Zero drift corrected so far, grams. */
  readonly driftG: number;
  /** Zero-tracking's correction, raw counts (the technician operations fold it into the offset). */
  readonly zeroCounts: number;
  /** Temperature compensation in force (temperature.ts): zero shift, raw counts, and span gain. */
  readonly thermZero: number;
  readonly thermGain: number;
  readonly calibration: Calibration;
  /** Rejected readings: rail codes, glitch codes, single-sample spikes. */
  readonly rejects: { readonly rail: number; readonly glitch: number; readonly spikes: number };
}

export class Channel implements ChannelReading {
  readonly index: number;
  readonly rejector: Rejector;
  readonly zero: ZeroTracker;
  private readonly smooth: MedianAverage;
  private readonly window: StabilityWindow;
  private readonly fresh = new FreshBlock();
  /** Stability band, raw counts. (A fractional start value: a field declared without one starts as
   * undefined, and V8 would then box every double stored in it.) */
  private band = 0.5;
  /** The stability window is still and the fresh block agrees with it. */
  private still = false;
  private readonly noise = new NoiseEstimator();
  private cal: CalibrationMap;
  private calRecord: Calibration;
  private cfg: SignalSettings;
  filteredRaw = Number.NaN;
  status: HealthStatus = 'no_data';
  /**
   * For the lane counter, refreshed with every sample while stable: settled grams, the noise σ of
   * that settled reading, and the raw noise σ, grams. Fields rather than getters so the hot path
   * reads them without boxing a double per call.
   */
  settledG = Number.NaN;
  settledSigmaG = Number.POSITIVE_INFINITY;
  noiseSigmaG = 0;
  /**
   * Frame seq and device time the settled reading is known to be true of (fresh.ts), refreshed
   * with every sample while stable.
   */
  settledSeq = 0.5;
  settledT = 0.5;
  /**
   * Temperature compensation (temperature.ts): counts above the offset become
   * (counts − thermZero) × thermGain before calibration. 0 and 1 without a temperature.
   */
  thermZero = 0.5;
  thermGain = 0.5;
  /** Waiting for the shelf's temperature after a restart: not stable meanwhile (temperature.ts). */
  thermWait = false;
  private lastOutT = Number.NaN;
  private now = 0.5;
  private seqNow = 0.5;

  constructor(index: number, cfg: SignalSettings, cal: Calibration, windows: Windows) {
    this.index = index;
    this.cfg = cfg;
    this.calRecord = cal;
    this.cal = CalibrationMap.of(cal);
    this.rejector = new Rejector(cfg.faultMs, cfg.spikeG * this.cal.minSlope);
    this.zero = new ZeroTracker(cfg.zeroTrackLimitG, cfg.zeroTrackMs, this.cal.originSlope);
    this.smooth = new MedianAverage();
    this.smooth.configure(windows.median, windows.average);
    this.fresh.configure(FreshBlock.sizeFor(windows.median));
    this.band = cfg.stableBandG * this.cal.minSlope;
    this.fresh.band = this.band;
    this.window = new StabilityWindow(cfg.stableMs, this.band, StabilityWindow.capacityFor(cfg.stableMs));
    this.thermZero = 0;
    this.thermGain = 1;
  }

  /** Takes one raw reading of frame `seq` at device time `t`. */
  push(raw: number, t: number, seq: number): void {
    // Time and seq go through fields: this wrapper is small enough to be inlined into the caller,
    // so a device time or seq beyond the small-integer range is not boxed once per call.
    this.now = t;
    this.seqNow = seq;
    this.step(raw);
  }

  private step(raw: number): void {
    const t = this.now;
    const faultBefore = this.rejector.fault;
    const released = this.rejector.push(raw, t, this.seqNow);
    if (this.rejector.fault !== faultBefore) this.resetSignal();
    if (!released) return;
    const x = this.rejector.out;
    const xt = this.rejector.outT;
    this.noise.push(x, Number.isNaN(this.lastOutT) ? 0 : xt - this.lastOutT);
    this.lastOutT = xt;
    this.smooth.push(x);
    this.filteredRaw = this.smooth.value;
    this.window.push(this.filteredRaw, xt);
    this.fresh.take(this.rejector);
    this.noiseSigmaG = this.noise.ready ? this.noise.sigma / Math.abs(this.cal.originSlope) : 0;
    // A step in the newest raw samples makes the channel unstable before the filters show it.
    const perSample = SAMPLE_SIGMAS * this.noise.sigma;
    this.fresh.sampleBand = Math.max(perSample, this.band);
    this.still = this.window.stable && this.fresh.agrees(this.window);
    if (this.still) {
      this.settledSeq = this.fresh.oldestSeq;
      this.settledT = this.fresh.oldestT;
      const cal = this.cal;
      const counts = (this.window.mean() - cal.offset - this.thermZero) * this.thermGain - this.zero.counts;
      // The common linear case in line: a call the JIT does not inline boxes its double result.
      this.settledG = cal.linear ? counts / cal.scale : cal.toGrams(counts);
      this.settledSigmaG = this.noiseSigmaG / Math.sqrt(this.window.count);
    }
  }

  /** Zero-tracking step on the settled reading (the lane is empty and settled). */
  trackZero(dtMs: number): void {
    this.zero.track(this.settledG, dtMs);
  }

  /**
   * A new temperature correction. With `fold` the reading stays continuous: what the change makes
   * at the current reading goes into the zero correction (see temperature.ts).
   */
  applyThermal(zero: number, gain: number, fold: boolean): void {
    if (fold) {
      let c = this.window.mean();
      if (!Number.isFinite(c)) c = this.filteredRaw;
      if (Number.isFinite(c)) {
        c -= this.cal.offset;
        this.zero.shift((c - zero) * gain - (c - this.thermZero) * this.thermGain);
      }
    }
    this.thermZero = zero;
    this.thermGain = gain;
  }

  /** Replaces the calibration record only (e.g. learned temperature coefficients): same map. */
  setRecord(cal: Calibration): void {
    this.calRecord = cal;
  }

  /** Counts per gram near zero load. */
  get countsPerGram(): number {
    return this.cal.originSlope;
  }

  /** Restarts filtering and stability (gap, shelf restart, rate change, fault cleared). */
  resetSignal(): void {
    this.rejector.resetSignal();
    this.smooth.reset();
    this.window.reset();
    this.fresh.reset();
    this.still = false;
    this.noise.restart();
    this.filteredRaw = Number.NaN;
    this.lastOutT = Number.NaN;
  }

  /** New filter windows (after a rate change); restarts filtering. */
  setWindows(w: Windows): void {
    this.smooth.configure(w.median, w.average);
    this.fresh.configure(FreshBlock.sizeFor(w.median));
    this.resetSignal();
  }

  setCalibration(cal: Calibration): void {
    this.calRecord = cal;
    this.cal = CalibrationMap.of(cal);
    this.rejector.setSpikeCounts(this.cfg.spikeG * this.cal.minSlope);
    this.band = this.cfg.stableBandG * this.cal.minSlope;
    this.fresh.band = this.band;
    this.window.setBand(this.band);
    this.zero.recalibrated(this.cal.originSlope);
  }

  get calibration(): Calibration {
    return this.calRecord;
  }

  /** Faulty for counting: a cell fault, or no data. */
  get faulty(): boolean {
    return this.rejector.fault !== CellFault.NONE || this.status === 'no_data';
  }

  get stable(): boolean {
    return this.still && this.rejector.fault === CellFault.NONE && !this.thermWait;
  }

  get settledRaw(): number {
    return this.window.mean();
  }

  get grams(): number {
    return this.cal.toGrams(this.corrected(this.filteredRaw));
  }

  get settledGrams(): number {
    return this.cal.toGrams(this.corrected(this.window.mean()));
  }

  /** Raw counts → counts the calibration maps: temperature, then zero-tracking corrected. */
  private corrected(raw: number): number {
    return (raw - this.cal.offset - this.thermZero) * this.thermGain - this.zero.counts;
  }

  get noiseG(): number {
    return this.noise.sigma / Math.abs(this.cal.originSlope);
  }

  get driftG(): number {
    return this.zero.driftG;
  }

  get zeroCounts(): number {
    return this.zero.counts;
  }

  get rejects(): { rail: number; glitch: number; spikes: number } {
    const r = this.rejector;
    return { rail: r.rail, glitch: r.glitch, spikes: r.spikes };
  }

  /**
   * Recomputes the health status at device time `t`; `silent` says the shelf has been silent on
   * the wall clock; `baselineNearLimit` that the lane's drift reference is near its bound.
   * Returns true when the status changed.
   */
  updateHealth(silent: boolean, baselineNearLimit: boolean): boolean {
    const t = this.now;
    const status = healthStatus(
      silent,
      this.rejector.fault,
      !(t - this.rejector.lastValidT <= this.cfg.noDataMs),
      this.noiseSigmaG,
      this.cfg.noisyG,
      this.zero.nearLimit || baselineNearLimit,
    );
    if (status === this.status) return false;
    this.status = status;
    return true;
  }
}
