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
 * - noise: Gaussian; the HX711 datasheet gives 90 nV rms input noise at 80 SPS and 50 nV at 10 SPS,
 *   so σ at 10 SPS is 50/90 of the σ at 80 SPS;
 * - junk: with a small probability per sample the HX711 returns 8388607, -8388608 or -1.
 * An unplugged cell reads 8388607 (the ADC input floats to full scale).
 *
 * sample() is the hot path (16 shelves × 8 channels × 80 SPS in virtual time): it allocates nothing.
 */
import { RAW_MAX, RAW_MIN, type SampleRate } from '@shelfsense/protocol';
import type { Rng } from './rng.js';
import type { ResolvedCell, ResolvedModelParams, ResolvedShelf } from './spec.js';

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
      const grams =
        (this.loadG[c] as number) -
        lag +
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
        out[ch] = clamp(Math.round(v + cell.scale * share), RAW_MIN, RAW_MAX);
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
    this.nextDriftUs = deviceUs + DRIFT_STEP_US;
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
