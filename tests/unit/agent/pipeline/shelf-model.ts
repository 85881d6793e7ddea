/**
 * A small seeded physical model of a shelf, following the simulator's model, for the pipeline's
 * tests: raw = offset + scale × (load + tray + drift + creep + extra + noise), rounded and clipped
 * to the HX711's 24 bits, with junk codes at a given probability.
 * - drift: a sinusoid (default 3 g amplitude, one day) plus a slow random walk, per channel;
 * - creep: after a load change ΔW, a further `creep` × ΔW approached exponentially (τ minutes);
 * - extra: force not from items (a hand, a foreign object), set by the test;
 * - faults: a channel can read the rail code (unplugged) or the glitch code (disconnected).
 * It knows the ground truth (items per lane) so tests can score the pipeline.
 */
import type { Calibration, LaneSetting, SampleFrame } from '@shelfsense/protocol';

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Standard normal deviates (Box–Muller) from a uniform source. */
export function gaussian(rand: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const u = rand() || 1e-12;
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface ModelLane {
  lane: string;
  channels: number[];
  /** Share of the lane's load on each of its channels (default equal). */
  shares?: number[];
  unitWeightG: number;
  items: number;
  capacity?: number;
}

export interface ModelOptions {
  seed: number;
  channels: number;
  lanes: ModelLane[];
  rate?: 10 | 80;
  noiseG?: number;
  /** Per-channel noise override. */
  noiseGs?: number[];
  driftAmplitudeG?: number;
  driftPeriodMs?: number;
  /** Random walk of the zero, grams per √hour. */
  driftWalkG?: number;
  creep?: number;
  creepTauMs?: number;
  junkP?: number;
  trayG?: number;
  startMs?: number;
  startSeq?: number;
  /** Cell non-linearity: the true response is scale × g × (1 + bend × g / 10 kg). */
  bend?: number;
}

const RAIL = 8_388_607;

export class ShelfModel {
  readonly rate: 10 | 80;
  readonly period: number;
  /** Device time, ms (unwrapped; frames carry it modulo 2^32). */
  t: number;
  seq: number;
  readonly lanes: ModelLane[];
  readonly offset: number[];
  readonly scale: number[];
  /** Extra force per channel, grams (a hand, a foreign object); the test sets it. */
  readonly extra: number[];
  /** Per channel: 'rail' (unplugged, reads 8388607), 'glitch' (reads -1), or null. */
  readonly fault: ('rail' | 'glitch' | null)[];
  readonly rand: () => number;
  readonly gauss: () => number;
  private readonly o: Required<Omit<ModelOptions, 'noiseGs'>> & { noiseGs: number[] };
  private readonly phase: number[];
  private readonly walk: number[];
  private readonly creepNow: number[];
  private readonly creepTarget: number[];
  private readonly lastLoad: number[];

  constructor(opts: ModelOptions) {
    const n = opts.channels;
    this.o = {
      rate: 80,
      noiseG: 1,
      driftAmplitudeG: 3,
      driftPeriodMs: 86_400_000,
      driftWalkG: 1,
      creep: 0.0005,
      creepTauMs: 120_000,
      junkP: 1e-4,
      trayG: 500,
      startMs: 1_000,
      startSeq: 0,
      bend: 0,
      ...opts,
      noiseGs: opts.noiseGs ?? new Array(n).fill(opts.noiseG ?? 1),
    };
    this.rate = this.o.rate;
    this.period = 1000 / this.rate;
    this.t = this.o.startMs;
    this.seq = this.o.startSeq;
    this.lanes = opts.lanes.map((l) => ({ ...l, channels: [...l.channels] }));
    this.rand = rng(opts.seed);
    this.gauss = gaussian(this.rand);
    this.offset = Array.from({ length: n }, () => Math.round(50_000 + this.rand() * 150_000));
    this.scale = Array.from({ length: n }, () => 420 * (0.9 + this.rand() * 0.2));
    this.extra = new Array(n).fill(0);
    this.fault = new Array(n).fill(null);
    this.phase = Array.from({ length: n }, () => this.rand() * 2 * Math.PI);
    this.walk = new Array(n).fill(0);
    this.creepNow = new Array(n).fill(0);
    this.creepTarget = new Array(n).fill(0);
    this.lastLoad = Array.from({ length: n }, (_, ch) => this.itemLoad(ch));
  }

  /** The calibration a careful tare + calibration would give (tare noise 0.1 g, scale error 0.02 %). */
  calibrations(): Calibration[] {
    return this.offset.map((off, ch) => {
      const s = this.scale[ch] as number;
      return {
        offset: off + s * (this.o.trayG + this.driftAt(ch) + 0.1 * this.gauss()),
        scale: s * (1 + 0.0002 * this.gauss()),
        points: [],
      };
    });
  }

  laneSettings(): LaneSetting[] {
    return this.lanes.map((l) => ({
      lane: l.lane,
      channels: [...l.channels],
      sku: `sku-${l.lane}`,
      unitWeightG: l.unitWeightG,
      capacity: l.capacity ?? null,
    }));
  }

  lane(id: string): ModelLane {
    const l = this.lanes.find((x) => x.lane === id);
    if (!l) throw new Error(`no lane ${id}`);
    return l;
  }

  /** Items' weight on a channel, grams. */
  itemLoad(ch: number): number {
    let g = 0;
    for (const l of this.lanes) {
      const i = l.channels.indexOf(ch);
      if (i < 0) continue;
      const share = l.shares?.[i] ?? 1 / l.channels.length;
      g += l.items * l.unitWeightG * share;
    }
    return g;
  }

  /** Zero drift of a channel now, grams. */
  driftAt(ch: number): number {
    const o = this.o;
    return (
      o.driftAmplitudeG * Math.sin((2 * Math.PI * this.t) / o.driftPeriodMs + (this.phase[ch] as number)) +
      (this.walk[ch] as number)
    );
  }

  /** Next frame: advances the device clock by one sample period. */
  next(): SampleFrame {
    const o = this.o;
    const n = this.offset.length;
    const raw = new Array<number>(n);
    const walkStep = o.driftWalkG * Math.sqrt(this.period / 3_600_000);
    const creepAlpha = 1 - Math.exp(-this.period / o.creepTauMs);
    for (let ch = 0; ch < n; ch++) {
      const load = this.itemLoad(ch);
      const dW = load - (this.lastLoad[ch] as number);
      if (dW !== 0) {
        this.creepTarget[ch] = (this.creepTarget[ch] as number) + o.creep * dW;
        this.lastLoad[ch] = load;
      }
      this.creepNow[ch] =
        (this.creepNow[ch] as number) +
        ((this.creepTarget[ch] as number) - (this.creepNow[ch] as number)) * creepAlpha;
      this.walk[ch] = (this.walk[ch] as number) + walkStep * this.gauss();
      const g =
        load +
        o.trayG +
        this.driftAt(ch) +
        (this.creepNow[ch] as number) +
        (this.extra[ch] as number) +
        (o.noiseGs[ch] as number) * this.gauss();
      const s = this.scale[ch] as number;
      let v = Math.round((this.offset[ch] as number) + s * g * (1 + (o.bend * g) / 10_000));
      if (v >= RAIL) v = RAIL;
      else if (v <= -RAIL - 1) v = -RAIL - 1;
      const f = this.fault[ch];
      if (f === 'rail') v = RAIL;
      else if (f === 'glitch') v = -1;
      else if (o.junkP > 0 && this.rand() < o.junkP) {
        const r = this.rand();
        v = r < 1 / 3 ? RAIL : r < 2 / 3 ? -RAIL - 1 : -1;
      }
      raw[ch] = v;
    }
    const frame: SampleFrame = {
      type: 'sample',
      seq: this.seq % 4_294_967_296,
      deviceMs: Math.floor(this.t) % 4_294_967_296,
      raw,
    };
    this.seq++;
    this.t += this.period;
    return frame;
  }
}

/** Spreads an extra force over a lane's channels by its shares. */
export function setLaneExtra(model: ShelfModel, lane: ModelLane, grams: number): void {
  lane.channels.forEach((ch, i) => {
    model.extra[ch] = grams * (lane.shares?.[i] ?? 1 / lane.channels.length);
  });
}

/**
 * A hand leaning on a lane: a smooth rise and fall around a force that wanders (±25 % over 1–3 s)
 * and trembles (physiological tremor, 6–11 Hz), for `durationMs`.
 */
export function* handLean(
  model: ShelfModel,
  laneId: string,
  peakG: number,
  durationMs: number,
): Generator<SampleFrame> {
  const lane = model.lane(laneId);
  const steps = Math.round(durationMs / model.period);
  const wander = 1000 + model.rand() * 2000;
  const tremor = 6 + model.rand() * 5;
  const ph = model.rand() * 2 * Math.PI;
  for (let i = 0; i < steps; i++) {
    const ms = i * model.period;
    const rise = Math.min(1, ms / 500, (durationMs - ms) / 500);
    const env = 0.5 - 0.5 * Math.cos(Math.PI * Math.max(0, rise));
    const f =
      peakG *
      env *
      (1 +
        0.25 * Math.sin((2 * Math.PI * ms) / wander + ph) +
        0.04 * Math.sin((2 * Math.PI * tremor * ms) / 1000));
    setLaneExtra(model, lane, f);
    yield model.next();
  }
  setLaneExtra(model, lane, 0);
}
