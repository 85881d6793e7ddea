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
 * Coefficients come from a calibration at two temperatures (thermalFromTare, thermalFromMass, here)
 * or are learned while lanes rest (thermal-learner.ts).
 */
import type { Calibration, TemperatureConfig, ThermalCoefficients } from '@shelfsense/protocol';
import type { CalibrationChange } from './calibrate.js';
import type { Channel } from './channel.js';

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
