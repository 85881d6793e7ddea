/**
 * Stage 6 — counting, per lane (one SKU slot: one or more channels summed).
 *
 * The lane is settled when every channel is stable (its filtered value still, and its newest raw
 * samples agreeing with it: fresh.ts). Its settled weight W (sum of the channels'
 * window means, in grams) gives x = (W − B) / unit weight; k = round(x) is a candidate count when
 * |x − k| ≤ wholeTolerance, and it is accepted once it has held, settled and unchanged, for
 * `confirmMs`. A settled weight that is not near a whole number of items (a hand leaning, a foreign
 * object) is `anomalous` and never becomes a count; while unsettled the lane is `unstable`; a faulty
 * cell makes it `fault`. All three keep the last accepted count.
 *
 * B is the lane's count reference. A cell's zero drifts a few grams over hours; zero-tracking
 * (zero-track.ts) cancels that only while the lane is empty. While loaded, B follows the settled
 * weight slowly (time constant `driftTrackMs`, only while the lane is settled at its accepted
 * count, bounded by ±zeroTrackLimitG), so each pick or restock is measured against the weight just
 * before it rather than against a zero that has wandered — with 10 g items, 3 g of drift would
 * otherwise be a third of an item. B lives as long as the pipeline; an agent that restarts should
 * persist `baselineG` with the count and hand both back (options `counts` and `baselines`). B never jumps on a change of
 * count, and reported grams are never corrected by it: the cell's zero itself stays untouched
 * while the lane is loaded.
 *
 * A count names the frame it is known to be true of: the oldest frame of the channels' fresh
 * blocks (a few frames behind the newest one), because a change after that frame may not show yet
 * in what the lane has seen, while a change at or before it would have unsettled the lane.
 *
 * A new accepted count different from the last one yields one event: pick if fewer, restock if
 * more; adjust for the first count after start, a cell fault, a shelf restart, a calibration or a
 * new unit weight, with the delta from the last count known (a restored one, else 0).
 *
 * Confidence = (1 − 2|x − k|) × P(rounding is right given the noise), the latter
 * erf((0.5 − |x − k|) / (σ√2)) with σ the noise of the settled reading in items.
 */
import type { LaneSetting, LaneState } from '@shelfsense/protocol';
import type { Channel } from './channel.js';
import type { SignalSettings } from './settings.js';

export type LaneEventKind = 'pick' | 'restock' | 'adjust';

export interface LaneEvent {
  lane: string;
  sku: string | null;
  kind: LaneEventKind;
  /** Items added (positive) or taken (negative). */
  delta: number;
  /** The new count. */
  units: number;
  /** Sequence number of the frame the new count is known to be true of (see the header). */
  frameSeq: number;
  /** Unwrapped device time of that frame, ms. */
  deviceT: number;
}

/** What the rest of the agent may read about a lane (a live view, updated in place). */
export interface LaneReading {
  readonly id: string;
  readonly sku: string | null;
  readonly unitWeightG: number;
  readonly capacity: number | null;
  readonly channels: readonly number[];
  /** The last accepted count; null until the first one. Kept while unstable, anomalous or fault. */
  readonly units: number | null;
  readonly state: LaneState;
  /** state === 'ok': the count is current. */
  readonly stable: boolean;
  /** 0..1, of the last settled evaluation. */
  readonly confidence: number;
  /** units / capacity, null when the capacity or the count is unknown. */
  readonly fill: number | null;
  /** Net weight now (filtered, not settled), grams. */
  readonly netG: number;
  /** Net weight of the last settled evaluation, grams. */
  readonly settledG: number;
  /** Distance of the last settled evaluation from a whole number of items, in items (−0.5..0.5). */
  readonly residual: number;
  /** The count reference B (see the header), grams. */
  readonly baselineG: number;
  /**
   * While ok: the frame the count is known to be true of, refreshed with every frame (a few frames
   * behind the newest, see the header). Otherwise: the frame of the last change of state.
   */
  readonly frameSeq: number;
}

export const LaneChange = { NONE: 0, STATE: 1, EVENT: 2 } as const;

export class LaneCounter implements LaneReading {
  readonly id: string;
  sku: string | null;
  readonly unitWeightG: number;
  capacity: number | null;
  readonly channels: readonly number[];
  private readonly chans: Channel[];
  private readonly cfg: SignalSettings;
  units: number | null = null;
  state: LaneState = 'unstable';
  confidence = 0.5;
  settledG = Number.NaN;
  residual = Number.NaN;
  baselineG = 0;
  frameSeq = 0;
  /** Last count known before the reading was interrupted; -1 if none. */
  private known = -1;
  private needsAdjust = true;
  private candidate = -1;
  private candidateSince = Number.NaN;
  private lastT = Number.NaN;
  private dt = 0.5;
  private now = 0.5;
  /** Noise of the settled reading, in items. */
  private sigmaItems = 0.5;
  /** Frame seq and device time the settled reading is known to be true of (see the header). */
  private settledSeq = 0;
  private settledT = 0.5;

  constructor(setting: LaneSetting, chans: Channel[], cfg: SignalSettings) {
    this.id = setting.lane;
    this.sku = setting.sku;
    this.unitWeightG = setting.unitWeightG;
    this.capacity = setting.capacity;
    this.channels = [...setting.channels];
    this.chans = chans;
    this.cfg = cfg;
  }

  get stable(): boolean {
    return this.state === 'ok';
  }

  get fill(): number | null {
    return this.capacity === null || this.units === null ? null : this.units / this.capacity;
  }

  get netG(): number {
    let g = 0;
    for (const c of this.chans) g += c.grams;
    return g;
  }

  /** Whether B is near its bound (health: drifting). */
  get baselineNearLimit(): boolean {
    const lim = this.cfg.zeroTrackLimitG;
    return lim > 0 && Math.abs(this.baselineG) >= 0.8 * lim;
  }

  /** Takes over the count state of the lane this one replaces (same id). */
  inherit(prev: LaneCounter, sameChannels: boolean): void {
    this.units = prev.units;
    this.known = prev.units ?? prev.known;
    this.baselineG = sameChannels ? prev.baselineG : 0;
    this.needsAdjust = true;
  }

  /** The agent restored the last published count after a restart. */
  restore(units: number): void {
    this.units = units;
    this.known = units;
    this.needsAdjust = true;
  }

  /** The agent restored the count reference it persisted with the count. */
  restoreBaseline(grams: number): void {
    const lim = this.cfg.zeroTrackLimitG;
    this.baselineG = Math.min(lim, Math.max(-lim, grams));
  }

  /** The reading was interrupted or redefined (restart, calibration): the next count is an adjust. */
  interrupted(recalibrated: boolean): void {
    if (this.units !== null) this.known = this.units;
    this.needsAdjust = true;
    this.candidate = -1;
    if (recalibrated) this.baselineG = 0;
  }

  /**
   * Evaluates the lane after every channel took frame `seq` at device time `t`. Emits at most one
   * event through `emit`. Returns LaneChange flags.
   */
  update(t: number, seq: number, emit: (e: LaneEvent) => void): number {
    this.now = t; // through a field, like the device time in Channel.push
    return this.step(seq, emit);
  }

  private step(seq: number, emit: (e: LaneEvent) => void): number {
    const t = this.now;
    this.dt = Number.isNaN(this.lastT) ? 0 : t - this.lastT;
    this.lastT = t;
    let allStable = true;
    for (const c of this.chans) {
      if (c.faulty) return this.enter('fault', seq);
      if (!c.stable) allStable = false;
    }
    if (!allStable) {
      this.candidate = -1;
      return this.enter('unstable', seq);
    }
    this.settledAt(seq);
    const unit = this.unitWeightG;
    let w = 0;
    let var2 = 0;
    for (const c of this.chans) {
      w += c.settledG;
      const s = c.settledSigmaG;
      var2 += s * s;
    }
    // Intermediate doubles go through fields, not arguments: see MedianAverage.push.
    this.settledG = w;
    const x = (w - this.baselineG) / unit;
    const k = Math.round(x) + 0; // + 0: never a count of -0
    const r = x - k;
    this.residual = r;
    this.sigmaItems = Math.sqrt(var2) / unit;
    this.scoreConfidence();
    if (!(Math.abs(r) <= this.cfg.wholeTolerance) || k < 0) {
      this.candidate = -1;
      return this.enter('anomalous', seq);
    }
    if (this.needsAdjust || k !== this.units) {
      if (k !== this.candidate) {
        this.candidate = k;
        this.candidateSince = t;
      }
      if (t - this.candidateSince < this.cfg.confirmMs) return this.enter('unstable', seq);
      return this.commit(k, emit);
    }
    this.candidate = -1;
    this.follow(k);
    const change = this.enter('ok', this.settledSeq);
    this.frameSeq = this.settledSeq;
    return change;
  }

  /**
   * The oldest of the channels' settled frames, as seen from frame `seq` (seq wraps after 2^32):
   * the frame every channel of the lane is known to have held its settled reading through.
   */
  private settledAt(seq: number): void {
    let age = -1;
    for (const c of this.chans) {
      let a = seq - c.settledSeq;
      if (a < 0) a += 4_294_967_296;
      if (a > age) {
        age = a;
        this.settledSeq = c.settledSeq;
        this.settledT = c.settledT;
      }
    }
  }

  private commit(k: number, emit: (e: LaneEvent) => void): number {
    const seq = this.settledSeq;
    const t = this.settledT;
    const prev = this.needsAdjust ? Math.max(this.known, 0) : (this.units as number);
    const kind: LaneEventKind = this.needsAdjust ? 'adjust' : k < prev ? 'pick' : 'restock';
    this.units = k;
    this.known = k;
    this.needsAdjust = false;
    this.candidate = -1;
    this.state = 'ok';
    this.frameSeq = seq;
    if (k === prev) return LaneChange.STATE;
    emit({ lane: this.id, sku: this.sku, kind, delta: k - prev, units: k, frameSeq: seq, deviceT: t });
    return LaneChange.STATE | LaneChange.EVENT;
  }

  /**
   * Settled at the accepted count. Loaded: B follows slow drift. Empty: zero-tracking cancels the
   * channels' readings and B returns to 0 at the same pace — so an empty lane ends up reading
   * against the tracked zero alone, and drift beyond zeroTrackLimitG shows as weight instead of
   * being absorbed.
   */
  private follow(k: number): void {
    const dt = this.dt;
    if (dt <= 0) return;
    const w = this.settledG;
    const cfg = this.cfg;
    let b = this.baselineG;
    if (k === 0) {
      // Zero-tracking takes the same fraction a of every channel's reading as B loses of itself,
      // so W − B (the count's numerator) only shrinks: B handed over to the zero without a bump.
      for (const c of this.chans) c.trackZero(dt);
      b -= b * Math.min(1, dt / cfg.zeroTrackMs);
    } else {
      b += (w - k * this.unitWeightG - b) * Math.min(1, dt / cfg.driftTrackMs);
    }
    const lim = cfg.zeroTrackLimitG;
    this.baselineG = Math.min(lim, Math.max(-lim, b));
  }

  private scoreConfidence(): void {
    this.confidence = confidence(this.residual, this.sigmaItems);
  }

  private enter(state: LaneState, seq: number): number {
    if (this.state === state) return LaneChange.NONE;
    if (state === 'fault') this.interrupted(false);
    this.state = state;
    this.frameSeq = seq;
    return LaneChange.STATE;
  }
}

/** See the header. `sigmaItems`: noise of the settled reading, in items. */
export function confidence(residual: number, sigmaItems: number): number {
  const a = Math.abs(residual);
  const closeness = Math.max(0, 1 - 2 * a);
  if (!(sigmaItems > 0)) return closeness;
  return closeness * erf((0.5 - a) / (sigmaItems * Math.SQRT2));
}

/** Abramowitz & Stegun 7.1.26: |error| < 1.5e-7. */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-ax * ax);
  return s * y;
}
