/**
 * The physical model of one shelf: what each HX711 channel reads at a given instant of the device
 * clock. Per channel:
 *
 *   raw = offset + scale × (load − creepLag + lean + drift + noise), rounded, clamped to int24
 *
 * - load: tray + the share of each lane resting on the cell (items × unit weight + extra mass);
 * - creepLag: after a load change ΔW the reading first moves (1 − creepFraction)·ΔW, then the rest
 *   creeps in with time constant creepTauMs (load-cell creep, ~0.05 % over minutes);
 * - lean: a hand on the lane, a force that wobbles and is no whole number of items;
 * - drift: the zero follows temperature — a daily sinusoid plus a slow bounded random walk
 *   (Ornstein–Uhlenbeck), updated once per second of device time;
 * - with the temperature model on (see ThermalModel), the sinusoid gives way to physics: the load
 *   is multiplied by (1 + span·(T − Tref)) and zero·(T − Tref) grams are added, T following world
 *   time; the random walk stays;
 * - noise: Gaussian; the HX711 datasheet gives 90 nV rms input noise at 80 SPS and 50 nV at 10 SPS,
 *   so σ at 10 SPS is 50/90 of the σ at 80 SPS;
 * - junk: with a small probability per sample the HX711 returns 8388607, -8388608 or -1.
 * An unplugged cell reads 8388607 (the ADC input floats to full scale).
 *
 * sample() is the hot path (16 shelves × 8 channels × 80 SPS in virtual time): it allocates nothing.
 */
import { RAW_MAX, RAW_MIN, type SampleRate } from '@shelfsense/protocol';
import { deriveSeed, Rng } from './rng.js';
import type { ResolvedCell, ResolvedModelParams, ResolvedShelf, ResolvedTemperature } from './spec.js';

export const JUNK_VALUES = [RAW_MAX, RAW_MIN, -1] as const;
/** Noise at 10 SPS relative to 80 SPS (HX711 datasheet, input-referred noise). */
const NOISE_10_SPS = 50 / 90;
const DRIFT_STEP_US = 1_000_000;
/** A hand takes this long to settle on the shelf and to come off it. */
export const LEAN_RAMP_US = 250_000;

export interface Lean {
  grams: number;
  startUs: number;
  /** When the hand comes off; Infinity while it stays. */
  endUs: number;
  phase: number;
}

export interface LaneState {
  unitWeightG: number;
  items: number;
  capacity: number;
  channels: readonly number[];
  /** Mass on the lane that is not its own items: reference weights, items from other lanes. */
  extraG: number;
  lean: Lean | null;
}

export class ShelfModel {
  readonly channels: number;
  readonly lanes: LaneState[];
  readonly cells: ResolvedCell[];
  private readonly params: ResolvedModelParams;
  private readonly rng: Rng;
  private readonly loadG: Float64Array;
  private readonly lagG: Float64Array;
  private readonly sigma80: Float64Array;
  private readonly sigma: Float64Array;
  private readonly driftAmp: Float64Array;
  private readonly driftPhase: Float64Array;
  private readonly walkG: Float64Array;
  private readonly driftG: Float64Array;
  private readonly junkIn: Float64Array;
  private readonly unplugged: Uint8Array;
  /** Per channel: 1 + span·(T − Tref), and zero·(T − Tref) in grams; 1 and 0 without temperature. */
  private readonly spanGain: Float64Array;
  private readonly zeroShiftG: Float64Array;
  /** The temperature model, or null for a v1 shelf. */
  readonly thermal: ThermalModel | null;
  /** World time at this boot's device time 0, µs: the temperature follows world time. */
  private worldAtBootUs = 0;
  private creepDecay = 1;
  private nextDriftUs = 0;
  private leaning = 0;

  constructor(shelf: ResolvedShelf, rng: Rng, rate: SampleRate) {
    this.channels = shelf.channels;
    this.params = shelf.model;
    this.rng = rng;
    this.cells = shelf.cells.map((c) => ({ ...c }));
    this.lanes = shelf.lanes.map((l) => ({
      unitWeightG: l.unitWeightG,
      items: l.items,
      capacity: l.capacity,
      channels: [...l.channels],
      extraG: 0,
      lean: null,
    }));
    const n = this.channels;
    this.loadG = new Float64Array(n);
    this.lagG = new Float64Array(n);
    this.sigma80 = new Float64Array(n).fill(this.params.noiseG);
    this.sigma = new Float64Array(n);
    this.driftAmp = new Float64Array(n);
    this.driftPhase = new Float64Array(n);
    this.walkG = new Float64Array(n);
    this.driftG = new Float64Array(n);
    this.junkIn = new Float64Array(n);
    this.unplugged = new Uint8Array(n);
    this.spanGain = new Float64Array(n).fill(1);
    this.zeroShiftG = new Float64Array(n);
    this.thermal = shelf.temperature
      ? new ThermalModel(shelf.temperature, new Rng(deriveSeed(shelf.seed, 'temperature')))
      : null;
    shelf.lanes.forEach((l) => {
      for (const ch of l.channels) this.sigma80[ch] = l.noiseG;
    });
    // Temperature is shared by the shelf; each cell responds a little differently.
    const shelfPhase = rng.uniform(0, 2 * Math.PI);
    const walkBound = 3 * this.params.driftWalkG;
    for (let c = 0; c < n; c++) {
      this.driftAmp[c] = this.params.driftG * rng.uniform(0.6, 1.4);
      this.driftPhase[c] = shelfPhase + rng.uniform(-0.3, 0.3);
      this.walkG[c] = clamp(this.params.driftWalkG * rng.normal(), -walkBound, walkBound);
      this.junkIn[c] = rng.geometric(this.params.junkProbability);
    }
    // With a temperature model the daily swing of the zero comes from the temperature itself.
    if (this.thermal) {
      this.driftAmp.fill(0);
      this.updateThermal(0, 0);
    }
    this.recomputeLoads(false);
    this.setRate(rate);
  }

  setRate(rate: SampleRate): void {
    const factor = rate === 80 ? 1 : NOISE_10_SPS;
    for (let c = 0; c < this.channels; c++) this.sigma[c] = (this.sigma80[c] as number) * factor;
    this.creepDecay = Math.exp(-1000 / rate / this.params.creepTauMs);
  }

  /** Fills `out` with every channel's raw reading at `deviceUs`. Allocation-free. */
  sample(deviceUs: number, out: number[]): void {
    if (deviceUs >= this.nextDriftUs) this.updateDrift(deviceUs);
    const rng = this.rng;
    const decay = this.creepDecay;
    for (let c = 0; c < this.channels; c++) {
      const lag = (this.lagG[c] as number) * decay;
      this.lagG[c] = lag;
      const junk = (this.junkIn[c] as number) - 1;
      this.junkIn[c] = junk;
      if (this.unplugged[c]) {
        out[c] = RAW_MAX;
        continue;
      }
      if (junk < 0) {
        this.junkIn[c] = rng.geometric(this.params.junkProbability);
        out[c] = JUNK_VALUES[Math.floor(rng.next() * 3)] as number;
        continue;
      }
      // Exactly the v1 sum when the gain is 1 and the shift 0 (x·1 = x and x + 0 = x in IEEE 754).
      const grams =
        ((this.loadG[c] as number) - lag) * (this.spanGain[c] as number) +
        (this.zeroShiftG[c] as number) +
        (this.driftG[c] as number) +
        (this.sigma[c] as number) * rng.normal();
      const cell = this.cells[c] as ResolvedCell;
      out[c] = clamp(Math.round(cell.offset + cell.scale * grams), RAW_MIN, RAW_MAX);
    }
    if (this.leaning > 0) this.addLeans(deviceUs, out);
  }

  private addLeans(deviceUs: number, out: number[]): void {
    for (const lane of this.lanes) {
      const lean = lane.lean;
      if (!lean) continue;
      if (deviceUs >= lean.endUs + LEAN_RAMP_US) {
        lane.lean = null;
        this.leaning--;
        continue;
      }
      const share = leanForce(lean, deviceUs) / lane.channels.length;
      for (const ch of lane.channels) {
        const v = out[ch] as number;
        if (this.unplugged[ch] || v === RAW_MAX || v === RAW_MIN || v === -1) continue;
        const cell = this.cells[ch] as ResolvedCell;
        out[ch] = clamp(Math.round(v + cell.scale * share * (this.spanGain[ch] as number)), RAW_MIN, RAW_MAX);
      }
    }
  }

  private updateDrift(deviceUs: number): void {
    const p = this.params;
    const dt = this.nextDriftUs === 0 ? 0 : DRIFT_STEP_US;
    const keep = Math.exp(-dt / 1000 / p.driftWalkTauMs);
    const kick = p.driftWalkG * Math.sqrt(1 - keep * keep);
    const bound = 3 * p.driftWalkG;
    const angle = (2 * Math.PI * deviceUs) / 1000 / p.driftPeriodMs;
    for (let c = 0; c < this.channels; c++) {
      const walk = clamp((this.walkG[c] as number) * keep + kick * this.rng.normal(), -bound, bound);
      this.walkG[c] = walk;
      this.driftG[c] = (this.driftAmp[c] as number) * Math.sin(angle + (this.driftPhase[c] as number)) + walk;
    }
    if (this.thermal) this.updateThermal(this.worldAtBootUs + deviceUs, dt);
    this.nextDriftUs = deviceUs + DRIFT_STEP_US;
  }

  private updateThermal(worldUs: number, dtUs: number): void {
    const th = this.thermal as ThermalModel;
    th.step(worldUs, dtUs);
    const dT = th.cellC - th.params.refC;
    for (let c = 0; c < this.channels; c++) {
      this.spanGain[c] = 1 + (th.params.spanPpmPerC[c] as number) * 1e-6 * dT;
      this.zeroShiftG[c] = (th.params.zeroGPerC[c] as number) * dT;
    }
  }

  /**
   * The shelf was switched off for `offUs` of world time after `deviceUs` of this boot, and boots
   * again: creep and the zero's random walk moved on as they would have (one draw each), hands came
   * off, the temperature moved on; the device clock restarts at 0.
   */
  powerCycle(deviceUs: number, offUs: number): void {
    const p = this.params;
    const gone = deviceUs + offUs;
    const decay = Math.exp(-gone / 1000 / p.creepTauMs);
    const keep = Math.exp(-gone / 1000 / p.driftWalkTauMs);
    const kick = p.driftWalkG * Math.sqrt(1 - keep * keep);
    const bound = 3 * p.driftWalkG;
    for (let c = 0; c < this.channels; c++) {
      this.lagG[c] = (this.lagG[c] as number) * decay;
      this.walkG[c] = clamp((this.walkG[c] as number) * keep + kick * this.rng.normal(), -bound, bound);
    }
    for (const lane of this.lanes) lane.lean = null;
    this.leaning = 0;
    this.worldAtBootUs += gone;
    if (this.thermal) this.thermal.jump(this.worldAtBootUs, gone);
    // The next sample starts the 1 s steps afresh (no walk step for the first one).
    this.nextDriftUs = 0;
  }

  /** World time, µs since the first boot, at device time `deviceUs` of this boot. */
  worldUs(deviceUs: number): number {
    return this.worldAtBootUs + deviceUs;
  }

  /** The span factor and zero shift (grams) a channel has at the current temperature. */
  thermalEffect(channel: number): { gain: number; zeroG: number } {
    return { gain: this.spanGain[channel] as number, zeroG: this.zeroShiftG[channel] as number };
  }

  /** Recomputes each cell's static load; a change starts creep unless `creep` is false. */
  private recomputeLoads(creep = true): void {
    for (let c = 0; c < this.channels; c++) {
      const before = this.loadG[c] as number;
      let g = (this.cells[c] as ResolvedCell).trayG;
      for (const lane of this.lanes) {
        if (lane.channels.includes(c)) g += laneMassG(lane) / lane.channels.length;
      }
      this.loadG[c] = g;
      if (creep) this.lagG[c] = (this.lagG[c] as number) + this.params.creepFraction * (g - before);
    }
  }

  // --- changes ---------------------------------------------------------------------------------

  setItems(lane: number, items: number): void {
    (this.lanes[lane] as LaneState).items = Math.max(0, Math.round(items));
    this.recomputeLoads();
  }

  addExtra(lane: number, grams: number): void {
    const l = this.lanes[lane] as LaneState;
    l.extraG = Math.max(0, l.extraG + grams);
    this.recomputeLoads();
  }

  setLean(lane: number, grams: number, deviceUs: number, phase: number, durationUs = Infinity): void {
    const l = this.lanes[lane] as LaneState;
    if (!l.lean) this.leaning++;
    l.lean = { grams, startUs: deviceUs, endUs: deviceUs + durationUs, phase };
  }

  releaseLean(lane: number, deviceUs: number): void {
    const lean = (this.lanes[lane] as LaneState).lean;
    if (lean && lean.endUs > deviceUs) lean.endUs = deviceUs;
  }

  setUnplugged(channel: number, unplugged: boolean): void {
    this.unplugged[channel] = unplugged ? 1 : 0;
  }

  isUnplugged(channel: number): boolean {
    return this.unplugged[channel] === 1;
  }

  setCell(channel: number, change: { offset?: number; scale?: number; trayG?: number }): void {
    const cell = this.cells[channel] as ResolvedCell;
    if (change.offset !== undefined) cell.offset = change.offset;
    if (change.scale !== undefined) cell.scale = change.scale;
    if (change.trayG !== undefined) {
      cell.trayG = change.trayG;
      this.recomputeLoads();
    }
  }

  /** The static load on a cell, grams (tray included; no noise, drift, creep or lean). */
  channelLoadG(channel: number): number {
    return this.loadG[channel] as number;
  }

  /** The reading a perfect cell would give: offset + scale × static load. */
  idealRaw(channel: number): number {
    const cell = this.cells[channel] as ResolvedCell;
    return cell.offset + cell.scale * (this.loadG[channel] as number);
  }

  /** The zero drift on a channel right now, grams. */
  driftOf(channel: number): number {
    return this.driftG[channel] as number;
  }
}

/**
 * The shelf's true temperature against world time w (ms since the first boot, plus startMs):
 *
 *   T = meanC − seasonalC·cos(2π·w/yearMs) − dailyC·cos(2π·(w − 5 h)/dayMs) + wander
 *
 * coldest at midnight of the year's first day and at 05:00 each day; the wander is an
 * Ornstein–Uhlenbeck process (σ noiseC, τ noiseTauMs) stepped once per second from its own stream.
 * The sensor reads T plus its own offset, rounded to its resolution. The cells' temperature follows
 * T with the time constant cellLagMs (at once when 0), and their zero and span follow the cells'.
 */
export class ThermalModel {
  /** The true (air) temperature at the last step, °C. */
  temperatureC: number;
  /** The cells' temperature at the last step, °C. */
  cellC: number;
  private wanderC: number;
  private readonly dailyShiftMs: number;

  constructor(
    readonly params: ResolvedTemperature,
    private readonly rng: Rng,
  ) {
    this.wanderC = params.noiseC * rng.normal();
    this.dailyShiftMs = (params.dayMs * 5) / 24;
    this.temperatureC = this.at(0);
    this.cellC = this.temperatureC;
  }

  /** Moves the wander on by dtUs and returns the temperature at world time worldUs. */
  step(worldUs: number, dtUs: number): number {
    if (dtUs > 0) this.advance(dtUs);
    this.temperatureC = this.at(worldUs);
    this.settleCells(dtUs);
    return this.temperatureC;
  }

  /** After `goneUs` switched off: the wander and the cells move on, to world time `worldUs`. */
  jump(worldUs: number, goneUs: number): void {
    this.advance(goneUs);
    this.temperatureC = this.at(worldUs);
    this.settleCells(goneUs);
  }

  private settleCells(dtUs: number): void {
    const lag = this.params.cellLagMs;
    if (lag <= 0) this.cellC = this.temperatureC;
    else this.cellC += (this.temperatureC - this.cellC) * (1 - Math.exp(-dtUs / 1000 / lag));
  }

  /** Moves the wander on by dtUs (exact Ornstein–Uhlenbeck transition: one draw whatever dtUs). */
  advance(dtUs: number): void {
    const p = this.params;
    if (p.noiseC === 0) return;
    const keep = Math.exp(-dtUs / 1000 / p.noiseTauMs);
    this.wanderC = this.wanderC * keep + p.noiseC * Math.sqrt(1 - keep * keep) * this.rng.normal();
  }

  /** What the sensor reads now, °C: offset and resolution applied, within the protocol's range. */
  reading(): number | undefined {
    const s = this.params.sensor;
    if (!s) return undefined;
    let v = this.temperatureC + s.offsetC;
    if (s.resolutionC > 0) v = Math.round(v / s.resolutionC) * s.resolutionC;
    return Math.max(-55, Math.min(125, v));
  }

  private at(worldUs: number): number {
    const p = this.params;
    const w = worldUs / 1000 + p.startMs;
    return (
      p.meanC -
      p.seasonalC * Math.cos((2 * Math.PI * w) / p.yearMs) -
      p.dailyC * Math.cos((2 * Math.PI * (w - this.dailyShiftMs)) / p.dayMs) +
      this.wanderC
    );
  }
}

export function laneMassG(lane: LaneState): number {
  return lane.items * lane.unitWeightG + lane.extraG;
}

/** A hand's force: eases on and off over LEAN_RAMP_US and wobbles by ~±15 % meanwhile. */
export function leanForce(lean: Lean, deviceUs: number): number {
  if (deviceUs < lean.startUs) return 0;
  const t = (deviceUs - lean.startUs) / 1e6;
  let env = Math.min(1, (deviceUs - lean.startUs) / LEAN_RAMP_US);
  if (deviceUs > lean.endUs) env *= Math.max(0, 1 - (deviceUs - lean.endUs) / LEAN_RAMP_US);
  const wobble =
    1 +
    0.12 * Math.sin(2 * Math.PI * 1.3 * t + lean.phase) +
    0.06 * Math.sin(2 * Math.PI * 0.31 * t + 2 * lean.phase);
  return lean.grams * env * wobble;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
