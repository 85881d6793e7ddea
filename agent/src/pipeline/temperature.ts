/**
 * Temperature compensation, per channel, for shelves whose frames carry a temperature (protocol
 * v1.1, `SampleFrame.tempC`).
 *
 * A load cell's zero and its sensitivity (span) both move with temperature. With c = raw − offset
 * (counts above the tare) and T the shelf's temperature, a channel reads
 *
 *   c = s·(1 + β·(T − refC))·g + a·(T − zeroRefC)
 *
 * so the pipeline corrects c' = (c − a·(T − zeroRefC)) / (1 + β·(T − refC)) before calibration
 * and zero-tracking. zeroRefC is the tare's temperature (Calibration.tempC, else refC); refC the
 * temperature the scale and points are expressed at; a = zeroGPerC × counts per gram (the tray's
 * own span drift shows as zero drift: it is part of the tare); β = spanPpmPerC × 10⁻⁶.
 *
 * The temperature of the last frame carrying one holds for `holdMs` of device time; after that it
 * is unknown and the pipeline behaves as without one. Every switch of the correction while the
 * shelf runs (the temperature lost or back, new coefficients) keeps the reading continuous: the
 * difference the switch makes at the channel's current reading goes into its zero correction
 * (zero-track.ts), which the lane's count reference already agrees with. After a shelf restart the
 * temperature is unknown until a frame carries one again: a channel with coefficients is not
 * stable until then (at most `holdMs`), so no count is made with a stale correction.
 *
 * Coefficients come from a calibration at two temperatures (thermalFromTare, thermalFromMass) or
 * are learned at rest (ThermalLearner): while a lane is settled at its accepted count, each of its
 * channels' raw reading is regressed on the temperature within that rest (its own intercept), so
 * only changes count; a rest's slope is a + s·β·g at the channel's net load g, and rests at
 * different loads separate a from β (an empty lane gives a alone). Guards: the first
 * `learnSettleMs` of a rest are skipped (creep after the load changed), its last sample is dropped
 * (a hand arriving), a rest must span `learnMinSpanC`, fit a line closely and give a slope within
 * the bounds; learned coefficients are bounded too.
 */
import type { Calibration, TemperatureConfig, ThermalCoefficients } from '@shelfsense/protocol';
import type { CalibrationChange } from './calibrate.js';
import type { Channel } from './channel.js';
import type { LaneCounter } from './count.js';

/** A rest must hold at least this many temperature samples (≈ seconds) to teach. */
const MIN_REST_SAMPLES = 60;
/** A long rest teaches in pieces of this many samples (≈ 6 h), so a lane never picked still teaches. */
const REST_PIECE_SAMPLES = 21_600;
/** A rest whose reading strays further than this (grams RMS) from a line in T is not thermal. */
const MAX_REST_RESIDUAL_G = 2;
/** Load the span term is scaled by in the learner's prior, grams. */
const PRIOR_LOAD_G = 1000;
/** Weight of the prior toward no drift, °C² (one rest over 1 °C), when nothing is known yet. */
const PRIOR_EVIDENCE = 1;

/** Coefficients bounded by the config; null when there are none. */
export function boundedThermal(
  t: ThermalCoefficients | undefined,
  cfg: TemperatureConfig,
): ThermalCoefficients | null {
  if (!t) return null;
  const z = Math.max(-cfg.maxZeroGPerC, Math.min(cfg.maxZeroGPerC, t.zeroGPerC));
  const s = Math.max(-cfg.maxSpanPpmPerC, Math.min(cfg.maxSpanPpmPerC, t.spanPpmPerC));
  return { ...t, zeroGPerC: z, spanPpmPerC: s };
}

/** The temperature the zero of a calibration refers to. */
export function zeroRefC(cal: Calibration): number | undefined {
  return cal.tempC ?? cal.thermal?.refC;
}

/**
 * The shelf's temperature and every channel's correction. take() runs once per frame before the
 * channels; it allocates nothing.
 */
export class ShelfThermal {
  /** The temperature in force, °C (NaN while unknown). */
  tempC = Number.NaN;
  /** Device time of the last frame carrying a temperature. */
  private lastT = 0.5;
  private known = false;
  /** The correction was folded into the zero when the temperature was lost (see the header). */
  private lost = false;
  /** After a (re)start, channels with coefficients wait for a temperature until this device time. */
  private waitUntil = Number.NaN;
  private waiting = false;
  private readonly n: number;
  /** Per channel: zero counts per °C, its reference, span β per °C, its reference, active flag. */
  private readonly zc: Float64Array;
  private readonly zRef: Float64Array;
  private readonly beta: Float64Array;
  private readonly sRef: Float64Array;
  private readonly active: Uint8Array;

  constructor(
    private readonly cfg: TemperatureConfig,
    private readonly chans: readonly Channel[],
  ) {
    this.n = chans.length;
    this.zc = new Float64Array(this.n);
    this.zRef = new Float64Array(this.n);
    this.beta = new Float64Array(this.n);
    this.sRef = new Float64Array(this.n);
    this.active = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) this.compile(i);
    this.waiting = this.anyActive();
    for (let i = 0; i < this.n; i++) (chans[i] as Channel).thermWait = this.waiting && this.active[i] === 1;
  }

  /** Whether a temperature is in force. */
  get isKnown(): boolean {
    return this.known;
  }

  /** Coefficients in force for a channel (bounded), or null. */
  coefficients(ch: number): ThermalCoefficients | null {
    if (this.active[ch] !== 1) return null;
    return boundedThermal((this.chans[ch] as Channel).calibration.thermal, this.cfg);
  }

  /** One frame at device time `t`; `tempC` when the frame carries one. */
  take(tempC: number | undefined, clock: { readonly t: number }): void {
    // The device time is read here rather than passed: a double argument may be boxed per call.
    const t = clock.t;
    if (tempC !== undefined && Number.isFinite(tempC)) {
      this.lastT = t;
      if (this.waiting) this.stopWaiting();
      if (!this.known) {
        // Back after a loss: continuous. First ever (or first after the wait): fresh.
        this.set(tempC, this.lost);
        this.lost = false;
      } else if (tempC !== this.tempC) this.set(tempC, false);
      return;
    }
    if (this.waiting && Number.isNaN(this.waitUntil)) this.waitUntil = t + this.cfg.holdMs;
    if (this.known && t - this.lastT > this.cfg.holdMs) this.lose();
    if (this.waiting && t > this.waitUntil) this.stopWaiting();
  }

  /** The shelf restarted: the held temperature may be stale; wait for a fresh one (bounded). */
  restarted(t: number): void {
    this.lastT = t;
    if (!this.anyActive()) return;
    this.waiting = true;
    this.waitUntil = t + this.cfg.holdMs;
    for (let i = 0; i < this.n; i++) (this.chans[i] as Channel).thermWait = this.active[i] === 1;
  }

  /**
   * A channel's calibration was replaced (its zero correction restarted): its coefficients apply
   * from now at the temperature in force, with no fold.
   */
  recalibrated(ch: number): void {
    this.compile(ch);
    const c = this.chans[ch] as Channel;
    if (this.active[ch] === 1 && this.known && this.cfg.compensate) {
      c.applyThermal(this.zeroAt(ch, this.tempC), this.gainAt(ch, this.tempC), false);
    } else c.applyThermal(0, 1, false);
  }

  /** New coefficients for a channel while it runs: the reading stays continuous (a fold). */
  coefficientsChanged(ch: number): void {
    this.compile(ch);
    const c = this.chans[ch] as Channel;
    if (this.active[ch] === 1 && this.known && this.cfg.compensate) {
      c.applyThermal(this.zeroAt(ch, this.tempC), this.gainAt(ch, this.tempC), true);
    }
  }

  /** Zero correction at temperature T, raw counts. */
  zeroAt(ch: number, T: number): number {
    return (this.zc[ch] as number) * (T - (this.zRef[ch] as number));
  }

  /** Span gain at temperature T (multiplies counts above the corrected zero). */
  gainAt(ch: number, T: number): number {
    return 1 / (1 + (this.beta[ch] as number) * (T - (this.sRef[ch] as number)));
  }

  private set(T: number, fold: boolean): void {
    this.tempC = T;
    this.known = true;
    if (!this.cfg.compensate) return;
    for (let i = 0; i < this.n; i++) {
      if (this.active[i] !== 1) continue;
      (this.chans[i] as Channel).applyThermal(this.zeroAt(i, T), this.gainAt(i, T), fold);
    }
  }

  /** No temperature for holdMs: behave as without one, the last correction kept as zero. */
  private lose(): void {
    this.known = false;
    this.lost = true;
    this.tempC = Number.NaN;
    for (let i = 0; i < this.n; i++) {
      if (this.active[i] === 1) (this.chans[i] as Channel).applyThermal(0, 1, true);
    }
  }

  private stopWaiting(): void {
    this.waiting = false;
    this.waitUntil = Number.NaN;
    for (let i = 0; i < this.n; i++) (this.chans[i] as Channel).thermWait = false;
  }

  private anyActive(): boolean {
    if (!this.cfg.compensate) return false;
    for (let i = 0; i < this.n; i++) if (this.active[i] === 1) return true;
    return false;
  }

  private compile(ch: number): void {
    const c = this.chans[ch] as Channel;
    const cal = c.calibration;
    const t = boundedThermal(cal.thermal, this.cfg);
    if (!t || (t.zeroGPerC === 0 && t.spanPpmPerC === 0)) {
      this.active[ch] = 0;
      return;
    }
    this.active[ch] = 1;
    this.zc[ch] = t.zeroGPerC * c.countsPerGram;
    this.zRef[ch] = zeroRefC(cal) ?? t.refC;
    this.beta[ch] = t.spanPpmPerC * 1e-6;
    this.sRef[ch] = t.refC;
  }
}

// --- learning at rest ---------------------------------------------------------------------------

/** Sums of one channel over one rest (Welford), and its net load. */
class RestSums {
  n = 0;
  mT = 0.5;
  mC = 0.5;
  sTT = 0.5;
  sTC = 0.5;
  sCC = 0.5;
  minT = 0.5;
  maxT = 0.5;
  /** Net grams on the channel during the rest (the span term's regressor). */
  g = 0.5;

  reset(g: number): void {
    this.n = 0;
    this.mT = 0;
    this.mC = 0;
    this.sTT = 0;
    this.sTC = 0;
    this.sCC = 0;
    this.minT = Number.POSITIVE_INFINITY;
    this.maxT = Number.NEGATIVE_INFINITY;
    this.g = g;
  }

  add(T: number, c: number): void {
    this.n++;
    const dT = T - this.mT;
    const dC = c - this.mC;
    this.mT += dT / this.n;
    this.mC += dC / this.n;
    this.sTT += dT * (T - this.mT);
    this.sTC += dT * (c - this.mC);
    this.sCC += dC * (c - this.mC);
    if (T < this.minT) this.minT = T;
    if (T > this.maxT) this.maxT = T;
  }
}

interface Rest {
  /** A rest is under way (the object is kept per lane and reused). */
  active: boolean;
  units: number;
  startT: number;
  chans: number[];
  sums: RestSums[];
  /** The newest sample waits for the next before it counts (the last of a rest is dropped). */
  pendT: number;
  pendC: Float64Array;
  pending: boolean;
}

/** Per channel: normal equations of slope = a + b·g over the rests, weighted by range². */
class ChannelFit {
  a00 = 0.5;
  a01 = 0.5;
  a11 = 0.5;
  r0 = 0.5;
  r1 = 0.5;
  /** Prior: centre (g/°C, per °C) and weight (°C²). */
  pa = 0.5;
  pb = 0.5;
  pw = 0.5;
  rests = 0;

  constructor(prior: { a: number; b: number; w: number }) {
    this.a00 = 0;
    this.a01 = 0;
    this.a11 = 0;
    this.r0 = 0;
    this.r1 = 0;
    this.pa = prior.a;
    this.pb = prior.b;
    this.pw = prior.w;
    this.rests = 0;
  }

  add(slope: number, g: number, w: number): void {
    this.a00 += w;
    this.a01 += w * g;
    this.a11 += w * g * g;
    this.r0 += w * slope;
    this.r1 += w * slope * g;
    this.rests++;
  }

  get evidence(): number {
    return this.a00 + this.pw;
  }

  /** Solves with the prior (ridge toward it; the span term scaled by PRIOR_LOAD_G). */
  solve(): { a: number; b: number } {
    const p0 = this.pw;
    const p1 = this.pw * PRIOR_LOAD_G * PRIOR_LOAD_G;
    const m00 = this.a00 + p0;
    const m01 = this.a01;
    const m11 = this.a11 + p1;
    const v0 = this.r0 + p0 * this.pa;
    const v1 = this.r1 + p1 * this.pb;
    const det = m00 * m11 - m01 * m01;
    if (!(Math.abs(det) > 0)) return { a: this.pa, b: this.pb };
    return { a: (v0 * m11 - v1 * m01) / det, b: (m00 * v1 - m01 * v0) / det };
  }
}

export interface LearnedCoefficients {
  channel: number;
  thermal: ThermalCoefficients;
}

/**
 * Learns each channel's coefficients while its lane rests at its accepted count (see the header).
 * sample() runs on frames that carry a temperature (about once a second); laneChanged() whenever a
 * lane changed state or count. Returns learned coefficients for the caller to apply and keep.
 */
export class ThermalLearner {
  private readonly rests: (Rest | null)[] = [];
  private readonly fits: ChannelFit[];

  constructor(
    private readonly cfg: TemperatureConfig,
    private readonly chans: readonly Channel[],
  ) {
    this.fits = chans.map((c) => new ChannelFit(priorOf(c)));
  }

  /** The lane at `index` changed state or count: its rest ends. */
  laneChanged(index: number, out: LearnedCoefficients[]): void {
    const rest = this.rests[index];
    if (!rest?.active) return;
    rest.active = false;
    this.finish(rest, out);
  }

  /** Every rest ends (a restart, new lanes). */
  endAll(out: LearnedCoefficients[]): void {
    for (let i = 0; i < this.rests.length; i++) this.laneChanged(i, out);
    // The lanes may now be on other channels: their records are made again.
    this.rests.length = 0;
  }

  /** A channel's calibration changed: what was learned about it starts over from its coefficients. */
  reset(ch: number): void {
    this.fits[ch] = new ChannelFit(priorOf(this.chans[ch] as Channel));
  }

  /** One temperature sample `T` at device time `t` on every lane. */
  sample(lanes: readonly LaneCounter[], T: number, t: number, out: LearnedCoefficients[]): void {
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i] as LaneCounter;
      if (lane.state !== 'ok' || lane.units === null) continue;
      let rest = this.rests[i];
      if (!rest) {
        rest = this.create(lane);
        this.rests[i] = rest;
      }
      if (!rest.active || rest.units !== lane.units) this.start(rest, lane.units, t);
      if (t - rest.startT < this.cfg.learnSettleMs) continue;
      if (rest.pending) {
        for (let j = 0; j < rest.chans.length; j++)
          (rest.sums[j] as RestSums).add(rest.pendT, rest.pendC[j] as number);
        if ((rest.sums[0] as RestSums).n >= REST_PIECE_SAMPLES) this.piece(rest, out);
      }
      for (let j = 0; j < rest.chans.length; j++) {
        const c = this.chans[rest.chans[j] as number] as Channel;
        rest.pendC[j] = c.settledRaw - c.calibration.offset;
      }
      rest.pendT = T;
      rest.pending = true;
    }
  }

  /** A lane's rest record, made once and reused by every rest of the lane. */
  private create(lane: LaneCounter): Rest {
    const chans = [...lane.channels];
    return {
      active: false,
      units: 0,
      startT: 0,
      chans,
      sums: chans.map(() => new RestSums()),
      pendT: 0,
      pendC: new Float64Array(chans.length),
      pending: false,
    };
  }

  private start(rest: Rest, units: number, t: number): void {
    rest.active = true;
    rest.units = units;
    rest.startT = t;
    rest.pending = false;
    for (let j = 0; j < rest.chans.length; j++) {
      (rest.sums[j] as RestSums).reset((this.chans[rest.chans[j] as number] as Channel).settledG);
    }
  }

  /** A piece of a long rest teaches now; the rest goes on with fresh sums (its own intercept). */
  private piece(rest: Rest, out: LearnedCoefficients[]): void {
    this.finish(rest, out);
    for (let j = 0; j < rest.chans.length; j++) {
      const s = rest.sums[j] as RestSums;
      s.reset(s.g);
    }
  }

  private finish(rest: Rest, out: LearnedCoefficients[]): void {
    const cfg = this.cfg;
    for (let j = 0; j < rest.chans.length; j++) {
      const ch = rest.chans[j] as number;
      const s = rest.sums[j] as RestSums;
      const c = this.chans[ch] as Channel;
      if (c.calibration.thermal?.source === 'calibration') continue;
      if (s.n < MIN_REST_SAMPLES || s.maxT - s.minT < cfg.learnMinSpanC || !(s.sTT > 0)) continue;
      const cpg = c.countsPerGram;
      const slope = s.sTC / s.sTT;
      const resid = Math.sqrt(Math.max(0, s.sCC - (s.sTC * s.sTC) / s.sTT) / (s.n - 2)) / Math.abs(cpg);
      if (!(resid <= MAX_REST_RESIDUAL_G)) continue;
      // Grams per °C this rest says; beyond what the bounds allow at this load, it is not thermal.
      const gPerC = slope / cpg;
      const bound = cfg.maxZeroGPerC + cfg.maxSpanPpmPerC * 1e-6 * Math.abs(s.g);
      if (!(Math.abs(gPerC) <= 1.5 * bound)) continue;
      const fit = this.fits[ch] as ChannelFit;
      // In grams: slope (g/°C) = zero (g/°C) + β × load. Weighted by the square of the rest's
      // temperature range: what limits a rest's slope is the zero's own slow wander (not thermal),
      // whatever the number of samples, and its error goes as wander / range.
      const range = s.maxT - s.minT;
      fit.add(gPerC, s.g, range * range);
      if (fit.evidence < cfg.learnMinEvidence) continue;
      const { a, b } = fit.solve();
      const cal = c.calibration;
      const thermal: ThermalCoefficients = {
        refC: cal.thermal?.refC ?? cal.tempC ?? rest.pendT,
        zeroGPerC: clamp(a, cfg.maxZeroGPerC),
        spanPpmPerC: clamp(b * 1e6, cfg.maxSpanPpmPerC),
        source: 'learned',
        evidence: Math.round(fit.evidence),
      };
      out.push({ channel: ch, thermal });
    }
  }
}

function priorOf(c: Channel): { a: number; b: number; w: number } {
  const t = c.calibration.thermal;
  if (!t) return { a: 0, b: 0, w: PRIOR_EVIDENCE };
  return {
    a: t.zeroGPerC,
    b: t.spanPpmPerC * 1e-6,
    w: Math.max(PRIOR_EVIDENCE, t.evidence ?? PRIOR_EVIDENCE),
  };
}

function clamp(v: number, lim: number): number {
  return Math.max(-lim, Math.min(lim, v));
}

// --- calibration at two temperatures -------------------------------------------------------------

/**
 * Stamps a technician operation's result with the temperature it was made at (the tare's `tempC`,
 * the new point's `tempC`). Unknown temperature: the tare's temperature is unknown too.
 */
export function stampTemperature(change: CalibrationChange, T: number | null, kind: 'tare' | 'mass'): void {
  const after = change.after;
  if (T === null) {
    delete after.tempC;
    return;
  }
  after.tempC = T;
  if (kind === 'mass') {
    for (const p of after.points) {
      if (
        p.tempC === undefined &&
        !change.before.points.some((q) => q.grams === p.grams && q.counts === p.counts)
      )
        p.tempC = T;
    }
  }
}

/**
 * Zero coefficient from two tares of the same (empty) lane at temperatures at least
 * `calibrationDeltaC` apart: a = (offset₂ − offset₁) / (T₂ − T₁). Returns the calibration with the
 * coefficient, or null when the pair does not qualify or the coefficient is beyond the bound.
 */
export function thermalFromTare(
  before: Calibration,
  after: Calibration,
  cfg: TemperatureConfig,
): ThermalCoefficients | null {
  const t1 = before.tempC;
  const t2 = after.tempC;
  if (t1 === undefined || t2 === undefined || Math.abs(t2 - t1) < cfg.calibrationDeltaC) return null;
  const cpg = after.scale;
  const zero = (after.offset - before.offset) / (t2 - t1) / cpg;
  if (!(Math.abs(zero) <= cfg.maxZeroGPerC)) return null;
  return {
    refC: after.thermal?.refC ?? t2,
    zeroGPerC: zero,
    spanPpmPerC: after.thermal?.spanPpmPerC ?? 0,
    source: 'calibration',
  };
}

/**
 * Span coefficient from the same reference mass (within 2 %) measured at two temperatures at least
 * `calibrationDeltaC` apart, each against a tare made at its own temperature:
 * β = (c₂ / c₁ − 1) / (T₂ − T₁). The points are then expressed at T₂ (refC). Returns the new
 * calibration, or null when no earlier point qualifies or β is beyond the bound.
 */
export function thermalFromMass(
  before: Calibration,
  after: Calibration,
  massG: number,
  cfg: TemperatureConfig,
): Calibration | null {
  const t2 = after.tempC;
  if (t2 === undefined) return null;
  const near = (g: number) => Math.abs(g - massG) <= 0.02 * massG;
  const prev = before.points.find(
    (p) => p.tempC !== undefined && near(p.grams) && Math.abs(t2 - p.tempC) >= cfg.calibrationDeltaC,
  );
  const point = after.points.find((p) => p.tempC === t2 && near(p.grams));
  if (!prev || prev.tempC === undefined || !point) return null;
  const oldBeta = (before.thermal?.spanPpmPerC ?? 0) * 1e-6;
  const oldRef = before.thermal?.refC ?? prev.tempC;
  // Both points' counts as measured, undoing the old reference; per gram, as the masses may differ a little.
  const c2 = (point.counts * (1 + oldBeta * (t2 - oldRef))) / point.grams;
  const c1 = (prev.counts * (1 + oldBeta * (prev.tempC - oldRef))) / prev.grams;
  const beta = (c2 / c1 - 1) / (t2 - prev.tempC);
  if (!(Math.abs(beta * 1e6) <= cfg.maxSpanPpmPerC)) return null;
  const points = after.points.map((p) => {
    const tp = p.tempC ?? oldRef;
    const measured = p.counts * (1 + oldBeta * (tp - oldRef));
    return { ...p, counts: measured / (1 + beta * (tp - t2)) };
  });
  return {
    ...after,
    scale: c2,
    points,
    thermal: {
      refC: t2,
      zeroGPerC: after.thermal?.zeroGPerC ?? 0,
      spanPpmPerC: beta * 1e6,
      source: 'calibration',
    },
  };
}
