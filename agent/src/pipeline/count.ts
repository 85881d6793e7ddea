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
 *
 * Every step between two settled levels (a level: the settled weight, held `confirmMs`) goes to the
 * lane's observer (observe.ts) before the count may change: mass that is not the lane's items is
 * kept out of the count (x uses W − B − objectG), and a unit weight the steps show wrong holds the
 * count (`anomalous`) until the lane's settings change.
 */
import type { LaneSetting, LaneState } from '@shelfsense/protocol';
import type { Channel } from './channel.js';
import { LaneObserver, LEAN_MS, LEAN_WOBBLES, type ObserveContext } from './observe.js';
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
  /** What the weight says beyond the count (observe.ts); it sees every step between levels. */
  private obs: LaneObserver;
  /**
   * The settled level: the weight of the last settled plateau (following slow drift within
   * `levelBandG`), a new one waiting `confirmMs`, and the start and peak force of the disturbance
   * since the lane last sat on a level.
   */
  private plateauG = Number.NaN;
  private levelCandG = Number.NaN;
  private levelSince = 0.5;
  /** The level's weight when it was confirmed (the filters may still have been settling). */
  private levelConfirmG = Number.NaN;
  private readonly levelBandG: number;
  private disturbSince = Number.NaN;
  private disturbPeakG = 0.5;
  /** Wobble of the disturbance: the last extreme, the direction since (±1, 0 unknown), reversals. */
  private wobbleRefG = 0.5;
  private wobbleDir = 0;
  private reversals = 0;
  /** Noise of the settled weight, grams. */
  private sigmaG = 0.5;
  /** A cell fault (not silence) interrupted the count: a different count after it is tamper. */
  private faulted = false;
  /** Weight of the items at the accepted count (W − objectG while ok), grams. */
  private countedG = Number.NaN;

  constructor(
    setting: LaneSetting,
    chans: Channel[],
    cfg: SignalSettings,
    ctx: ObserveContext = NO_OBSERVER,
  ) {
    this.id = setting.lane;
    this.sku = setting.sku;
    this.unitWeightG = setting.unitWeightG;
    this.capacity = setting.capacity;
    this.channels = [...setting.channels];
    this.chans = chans;
    this.cfg = cfg;
    this.levelBandG = Math.min(cfg.stableBandG, 0.4 * setting.unitWeightG);
    this.obs = new LaneObserver(this, ctx);
  }

  /** Noise of one settled level, grams (for the observer). */
  get levelSigmaG(): number {
    return this.sigmaG;
  }

  /** Mass on the lane that is not its items (a foreign object, a misplaced item), grams. */
  get objectG(): number {
    return this.obs.objectG;
  }

  /** The unit weight does not explain the lane's steps: the count is held until it changes. */
  get held(): boolean {
    return this.obs.hold;
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
    if (sameChannels) {
      // Same cells: the levels and what lies on the lane carry over; a new unit weight that
      // explains the steps clears a proposal.
      this.plateauG = prev.plateauG;
      this.levelConfirmG = prev.levelConfirmG;
      this.obs = prev.obs;
      this.obs.rebase(this, prev.frameSeq, prev.now);
    } else prev.obs.closeAll(prev.frameSeq, prev.now);
  }

  /** The lane left the settings: what it had open is cleared. */
  retire(): void {
    this.obs.closeAll(this.frameSeq, this.now);
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
    if (recalibrated) {
      this.baselineG = 0;
      // A tare or calibration redefines the grams: what lay on the lane (a reference mass, most
      // likely) is part of the technician's work now, not an object to keep out of the count.
      this.obs.closeAll(this.frameSeq, this.now);
    }
    // The next level is no step from the last one (a new calibration, a gap in the readings).
    this.plateauG = Number.NaN;
    this.levelCandG = Number.NaN;
    this.levelConfirmG = Number.NaN;
    this.disturbSince = Number.NaN;
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
      this.levelCandG = Number.NaN;
      if (!Number.isNaN(this.plateauG)) this.disturbed(seq);
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
    this.sigmaG = Math.sqrt(var2);
    if (this.obs.pending) this.obs.tick(this.settledSeq, this.settledT);
    // A new level is classified (observe.ts) before the count may follow it.
    const levelPending = this.level();
    // An object still waiting to be told from a hand counts as weight: the lane stays anomalous.
    const x = (w - this.baselineG - this.obs.objectG + this.obs.pendingG) / unit;
    const k = Math.round(x) + 0; // + 0: never a count of -0
    const r = x - k;
    this.residual = r;
    this.sigmaItems = Math.sqrt(var2) / unit;
    this.scoreConfidence();
    if (!(Math.abs(r) <= this.cfg.wholeTolerance) || k < 0 || this.obs.hold || this.obs.pending) {
      this.candidate = -1;
      return this.enter('anomalous', seq);
    }
    if (this.needsAdjust || k !== this.units) {
      if (k !== this.candidate) {
        this.candidate = k;
        this.candidateSince = t;
      }
      if (t - this.candidateSince < this.cfg.confirmMs || levelPending) return this.enter('unstable', seq);
      if (!this.needsAdjust && !this.wholeChange(k)) {
        this.candidate = -1;
        return this.enter('anomalous', seq);
      }
      return this.commit(k, emit);
    }
    this.candidate = -1;
    this.countedG = this.settledG - this.obs.objectG;
    this.follow(k);
    const change = this.enter('ok', this.settledSeq);
    this.frameSeq = this.settledSeq;
    return change;
  }

  /**
   * A new count must be reached by a whole number of items: the weight moved since the accepted
   * count within a step's tolerance of (k − units) items — tighter than `wholeTolerance`, so a wrong
   * unit weight or a stray mass that happens to land near a whole count is not counted.
   */
  private wholeChange(k: number): boolean {
    if (Number.isNaN(this.countedG)) return true;
    const u = this.unitWeightG;
    const n = k - (this.units as number);
    const d = this.settledG - this.obs.objectG + this.obs.pendingG - this.countedG;
    const tol = Math.min(0.3 * u, Math.max(0.15 * u, 4 * Math.SQRT2 * this.sigmaG));
    return Math.abs(d - n * u) <= tol * Math.sqrt(Math.abs(n));
  }

  /**
   * Follows the settled level; returns true while a new one waits for confirmation. A confirmed
   * new level hands its step to the observer; settling back on the same level ends a disturbance.
   */
  private level(): boolean {
    const w = this.settledG;
    const p = this.plateauG;
    if (Math.abs(w - p) <= this.levelBandG) {
      this.plateauG = w;
      this.levelCandG = Number.NaN;
      if (!Number.isNaN(this.disturbSince)) this.endDisturbance(true);
      return false;
    }
    const t = this.now;
    if (!(Math.abs(w - this.levelCandG) <= this.levelBandG)) {
      this.levelCandG = w;
      this.levelSince = t;
      return true;
    }
    if (t - this.levelSince < this.cfg.confirmMs) return true;
    this.levelCandG = Number.NaN;
    this.plateauG = w;
    if (!Number.isNaN(this.disturbSince)) this.endDisturbance(false);
    // How far the level left behind moved after it was confirmed: its step is known better now.
    const settledMove = Number.isNaN(this.levelConfirmG) ? 0 : p - this.levelConfirmG;
    this.levelConfirmG = w;
    if (!Number.isNaN(p)) this.obs.step(w - p, settledMove, this.settledSeq, this.settledT);
    return false;
  }

  /**
   * Unsettled away from the level: tracks the disturbance's peak force and how often it turned
   * back. A long one that keeps wobbling is a lean; items put in or taken out one after another
   * move the weight one way and do not wobble.
   */
  private disturbed(seq: number): void {
    const t = this.now;
    const dev = this.netG - this.plateauG;
    if (Number.isNaN(this.disturbSince)) {
      this.disturbSince = t;
      this.disturbPeakG = 0;
      this.wobbleRefG = dev;
      this.wobbleDir = 0;
      this.reversals = 0;
    }
    if (Math.abs(dev) > Math.abs(this.disturbPeakG)) this.disturbPeakG = dev;
    const h = Math.max(this.levelBandG, 0.05 * Math.abs(dev));
    if (this.wobbleDir >= 0) {
      if (dev > this.wobbleRefG) this.wobbleRefG = dev;
      else if (this.wobbleRefG - dev > h) {
        if (this.wobbleDir > 0) this.reversals++;
        this.wobbleDir = -1;
        this.wobbleRefG = dev;
      }
    } else if (dev < this.wobbleRefG) this.wobbleRefG = dev;
    else if (dev - this.wobbleRefG > h) {
      this.reversals++;
      this.wobbleDir = 1;
      this.wobbleRefG = dev;
    }
    if (t - this.disturbSince >= LEAN_MS && this.reversals >= LEAN_WOBBLES && !this.obs.leaning) {
      this.obs.openLean(this.disturbPeakG, seq, t);
    }
  }

  private endDisturbance(same: boolean): void {
    const ms = this.now - this.disturbSince;
    this.disturbSince = Number.NaN;
    this.obs.disturbanceEnded(ms, this.disturbPeakG, same, this.levelBandG, this.settledSeq, this.settledT);
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
    if (this.needsAdjust && this.faulted && k !== prev) this.obs.cellTamper(k - prev, seq, t);
    else if (!this.needsAdjust && k !== prev) this.obs.counted(seq, t);
    this.faulted = false;
    this.countedG = this.settledG - this.obs.objectG;
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
    if (k === 0 && this.obs.objectG === 0) {
      // Zero-tracking takes the same fraction a of every channel's reading as B loses of itself,
      // so W − B (the count's numerator) only shrinks: B handed over to the zero without a bump.
      for (const c of this.chans) c.trackZero(dt);
      b -= b * Math.min(1, dt / cfg.zeroTrackMs);
    } else {
      b += (w - this.obs.objectG - k * this.unitWeightG - b) * Math.min(1, dt / cfg.driftTrackMs);
    }
    const lim = cfg.zeroTrackLimitG;
    this.baselineG = Math.min(lim, Math.max(-lim, b));
  }

  private scoreConfidence(): void {
    this.confidence = confidence(this.residual, this.sigmaItems);
  }

  private enter(state: LaneState, seq: number): number {
    if (this.state === state) return LaneChange.NONE;
    if (state === 'fault') {
      this.interrupted(false);
      // A cell that lost its signal (not a silent shelf): a different count after it is tamper.
      if (this.units !== null)
        for (const c of this.chans)
          if (c.status === 'saturated' || c.status === 'disconnected') this.faulted = true;
    }
    this.state = state;
    this.frameSeq = seq;
    return LaneChange.STATE;
  }
}

/** For lanes made without a shelf around them: nothing observed is reported. */
const NO_OBSERVER: ObserveContext = { siblings: () => [], emit: () => {}, nextId: () => 0 };

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
