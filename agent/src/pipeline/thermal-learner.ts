/**
 * Temperature coefficients learned at rest (the other source being a calibration at two
 * temperatures, temperature.ts): while a lane is settled at its accepted count, each of its
 * channels' raw reading is regressed on the temperature within that rest (its own intercept), so
 * only changes count; a rest's slope is a + s·β·g at the channel's net load g, and rests at
 * different loads separate a from β (an empty lane gives a alone). Guards: the first
 * `learnSettleMs` of a rest are skipped (creep after the load changed), its last sample is dropped
 * (a hand arriving), a rest must span `learnMinSpanC`, fit a line closely and give a slope within
 * the bounds; learned coefficients are bounded too.
 */
import type { TemperatureConfig, ThermalCoefficients } from '@shelfsense/protocol';
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
