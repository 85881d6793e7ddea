/**
 * A year of seasons on one simulated shelf, in process and fast: the simulator's ShelfEngine ticks
 * (temperature model on: a seasonal and a daily swing in world time, per-cell zero and span
 * coefficients, a DS18B20-like sensor on the frames) and every frame goes to two ShelfPipelines —
 * one as the shelf sends it (compensated), one with the temperature taken off (as before v1.1).
 *
 * The year: installation in the coldest weeks — the technician tares each empty lane and calibrates
 * it with a 2 kg reference mass, then the lanes are filled — and the shelf stays on for
 * `installHours` (picks and restocks in opening hours, quiet nights: the learner's rests). Half a
 * year later, in the warmest weeks, the technician comes back and does the same again (each lane
 * emptied, tared, calibrated, filled again): with the temperature on the frames, that pair gives
 * every cell's zero and span coefficients (temperature.ts). Then `sessions` days spread over the
 * following year, the shelf switched off in between (engine.powerOff: the hard case, the first
 * count after a jump of up to 30 °C). Every `restartEvery` sessions the agent restarts too: both
 * pipelines are built again from what an agent persists (calibrations, counts, count references).
 *
 * Scored per pipeline against the simulator's truth at the frame each count names: stable lane
 * readings (each change into `ok` and, while `ok`, once a second) exact when the count is the lane's
 * items; under-counts (the ones that could order wrongly) apart; the first count of each lane after
 * each power-on; how many quiet seconds the lanes were counted at all; the reported grams' error.
 */
import { ShelfPipeline, type ShelfPipelineOptions } from '@shelfsense/agent';
import { type ResolvedShelf, resolveShelves, ShelfEngine } from '@shelfsense/firmware-sim';
import type { Calibration, SampleFrame } from '@shelfsense/protocol';
import { ACCURACY_LANES } from './stable-levels.js';

export interface YearOptions {
  seed: number;
  /** Hours the shelf stays on after installation (the learner's rests are mostly at night). */
  installHours: number;
  /** Days the shelf is on after installation, spread evenly over the rest of the year. */
  sessions: number;
  /** Hours on per session. */
  sessionHours: number;
  /** The agent restarts (pipelines rebuilt from persisted state) every this many sessions. */
  restartEvery: number;
  rate?: 10 | 80;
  /**
   * Every cell at the datasheet's bound (0.05 % of a 5 kg rated output per 10 °C on the zero,
   * 0.05 % per 10 °C on the span), alternating in sign; otherwise each cell draws within it.
   */
  worstCells?: boolean;
  /**
   * No second visit in summer: the compensated pipeline has only what it learns at rest (the
   * installation stretch should then span many nights).
   */
  learnOnly?: boolean;
}

export interface YearScore {
  /** Stable lane readings scored, exact ones, and under-counts (count below the truth). */
  stable: number;
  exact: number;
  under: number;
  over: number;
  /** Lanes' first counts after a power-on: how many, how many exact, how many never came. */
  firstCounts: number;
  firstExact: number;
  /** Quiet lane-seconds (untouched ≥ 5 s), and how many of them the lane was counted (`ok`). */
  quiet: number;
  counted: number;
  /** Reported grams minus items × unit weight over stable readings: mean |error| and worst, grams. */
  gramsErrMean: number;
  gramsErrMax: number;
  /** Largest |zero correction| and |count reference| seen, grams. */
  maxZeroG: number;
  maxBaselineG: number;
  /** The first few wrong counts, for the failure message. */
  wrong: string[];
}

export interface YearResult {
  compensated: YearScore;
  uncompensated: YearScore;
  /** The cells' true coefficients (zero incl. the tray's span) and what the pipeline learned. */
  coefficients: {
    channel: number;
    trueZeroGPerC: number;
    trueSpanPpmPerC: number;
    learned: Calibration['thermal'];
  }[];
  temperature: { minC: number; maxC: number };
  frames: number;
  boots: number;
  agentRestarts: number;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const YEAR = 365.25 * DAY;
/** World time of the first boot: the coldest weeks (day 10), 08:00. */
const START_MS = 10 * DAY + 8 * HOUR;
/** The technician's reference mass, grams. */
const REFERENCE_G = 2000;
const QUIET_MS = 5_000;

/** The accuracy shelf with the `seasons` climate: 15 °C mean, ±15 °C over the year, ±3 °C a day. */
export function yearShelf(seed: number, worstCells = false): ResolvedShelf {
  const cells = worstCells
    ? ACCURACY_LANES.map((_, i) => ({ zeroGPerC: i % 2 ? -0.25 : 0.25, spanPpmPerC: i % 2 ? 50 : -50 }))
    : undefined;
  const [shelf] = resolveShelves({
    seed,
    count: 1,
    specs: [{ lanes: ACCURACY_LANES, ...(cells ? { cells } : {}) }],
    temperature: { meanC: 15, dailyC: 3, seasonalC: 15, noiseC: 0.3, startMs: START_MS },
  });
  return shelf as ResolvedShelf;
}

class Scorer {
  readonly s: YearScore = {
    stable: 0,
    exact: 0,
    under: 0,
    over: 0,
    firstCounts: 0,
    firstExact: 0,
    quiet: 0,
    counted: 0,
    gramsErrMean: 0,
    gramsErrMax: 0,
    maxZeroG: 0,
    maxBaselineG: 0,
    wrong: [],
  };
  private gramsSum = 0;
  /** The technician is at work: readings are not scored. */
  paused = false;
  /** Per lane: waiting for the first count after a power-on. */
  readonly awaitingFirst: boolean[];

  constructor(
    readonly name: string,
    lanes: number,
  ) {
    this.awaitingFirst = new Array(lanes).fill(false);
  }

  score(lane: number, units: number, truth: number, unitG: number, settledG: number, where: string): void {
    if (this.paused) return;
    this.s.stable++;
    if (units === truth) this.s.exact++;
    else {
      if (units < truth) this.s.under++;
      else this.s.over++;
      if (this.s.wrong.length < 10)
        this.s.wrong.push(`${this.name} lane ${lane}: ${units} for ${truth} (${where})`);
    }
    const e = Math.abs(settledG - truth * unitG);
    this.gramsSum += e;
    if (e > this.s.gramsErrMax) this.s.gramsErrMax = e;
  }

  first(units: number, truth: number): void {
    if (this.paused) return;
    this.s.firstCounts++;
    if (units === truth) this.s.firstExact++;
  }

  finish(): YearScore {
    this.s.gramsErrMean = this.s.stable > 0 ? this.gramsSum / this.s.stable : 0;
    return this.s;
  }
}

/** One pipeline under test and what an agent would persist of it. */
class Agentish {
  pipeline!: ShelfPipeline;
  calibrations: Calibration[];
  readonly scorer: Scorer;

  constructor(
    name: string,
    private readonly base: Omit<ShelfPipelineOptions, 'calibrations'>,
    calibrations: Calibration[],
    private readonly truthAt: (seq: number, lane: number) => number,
    private readonly unitG: number[],
  ) {
    this.calibrations = calibrations.map((c) => ({ ...c }));
    this.scorer = new Scorer(name, unitG.length);
    this.build({}, {});
  }

  build(counts: Record<string, number>, baselines: Record<string, number>): void {
    this.pipeline = new ShelfPipeline({
      ...this.base,
      calibrations: this.calibrations,
      counts,
      baselines,
      onCalibrationLearned: (ch, cal) => {
        this.calibrations[ch] = cal;
      },
      onLaneChange: (lane) => {
        if (lane.state !== 'ok' || lane.units === null) return;
        const i = Number(lane.id.slice(1));
        const truth = this.truthAt(lane.frameSeq, i);
        if (this.scorer.awaitingFirst[i]) {
          this.scorer.awaitingFirst[i] = false;
          this.scorer.first(lane.units, truth);
        }
        this.scorer.score(i, lane.units, truth, this.unitG[i] as number, lane.settledG, 'change');
      },
    });
  }

  /** The agent restarts: a new pipeline from the persisted state. */
  restart(): void {
    const counts: Record<string, number> = {};
    const baselines: Record<string, number> = {};
    for (const lane of this.pipeline.lanes()) {
      if (lane.units !== null) counts[lane.id] = lane.units;
      baselines[lane.id] = lane.baselineG;
    }
    // What the agent keeps: the technician's calibrations and the coefficients learned since.
    this.calibrations = this.calibrations.map((_, ch) => this.pipeline.calibration(ch));
    this.build(counts, baselines);
  }

  /** Once a second: stable lanes scored; quiet lanes counted or not. */
  second(quiet: boolean[]): void {
    const s = this.scorer.s;
    if (this.scorer.paused) return;
    for (const lane of this.pipeline.lanes()) {
      const i = Number(lane.id.slice(1));
      if (quiet[i]) {
        s.quiet++;
        if (lane.state === 'ok') s.counted++;
      }
      if (lane.state === 'ok' && lane.units !== null) {
        const truth = this.truthAt(lane.frameSeq, i);
        this.scorer.score(i, lane.units, truth, this.unitG[i] as number, lane.settledG, 'second');
      }
      s.maxBaselineG = Math.max(s.maxBaselineG, Math.abs(lane.baselineG));
    }
    for (let ch = 0; ch < this.pipeline.channelCount; ch++) {
      s.maxZeroG = Math.max(s.maxZeroG, Math.abs(this.pipeline.channel(ch).driftG));
    }
  }
}

/** Runs the year; see the header. */
export function runYear(opts: YearOptions): YearResult {
  const rate = opts.rate ?? 10;
  const shelf = yearShelf(opts.seed, opts.worstCells);
  const engine = new ShelfEngine({ shelf, rate });
  const model = engine.model;
  const lanes = model.lanes;
  const n = lanes.length;
  const unitG = lanes.map((l) => l.unitWeightG);
  // Truth of the last 64 frames by seq (a count names a frame a few behind the newest).
  const ring = new Int32Array(64 * n).fill(-1);
  const truthAt = (seq: number, lane: number) => ring[(seq & 63) * n + lane] as number;
  let rnd = opts.seed * 7919 + 13;
  const rand = () => {
    rnd = (rnd * 1_103_515_245 + 12_345) % 2_147_483_648;
    return rnd / 2_147_483_648;
  };

  // The factory calibration: the cells' nominal offset and scale (tray and temperature not known).
  const th = engine.thermalCoefficients;
  if (!th) throw new Error('the year shelf needs the temperature model');
  const calibrations: Calibration[] = model.cells.map((cell) => ({
    offset: cell.offset,
    scale: cell.scale,
    points: [],
  }));
  const laneSettings = lanes.map((l, i) => ({
    lane: `L${i}`,
    channels: [...l.channels],
    unitWeightG: l.unitWeightG,
    capacity: l.capacity,
  }));
  const base = { channels: shelf.channels, rate, lanes: laneSettings };
  const comp = new Agentish('compensated', base, calibrations, truthAt, unitG);
  const plain = new Agentish('uncompensated', base, calibrations, truthAt, unitG);
  const both = [comp, plain];
  const plainFrame: SampleFrame = { type: 'sample', seq: 0, deviceMs: 0, raw: [] };

  const lastTouch = new Array<number>(n).fill(Number.NEGATIVE_INFINITY);
  const quiet = new Array<boolean>(n).fill(false);
  let minC = Number.POSITIVE_INFINITY;
  let maxC = Number.NEGATIVE_INFINITY;
  let frames = 0;
  let nextPickMs = 0;
  let shopOpen = true;
  const period = 1000 / rate;

  /** Opening hours 08:00–20:00 of world time: a pick every 10–40 s, restocks when low. */
  const shop = (worldMs: number) => {
    const hour = ((worldMs + START_MS) % DAY) / HOUR;
    if (!shopOpen || hour < 8 || hour >= 20 || worldMs < nextPickMs) return;
    nextPickMs = worldMs + 10_000 + rand() * 30_000;
    const i = Math.floor(rand() * n);
    const lane = lanes[i];
    if (!lane) return;
    const take = 1 + Math.floor(rand() * 2);
    if (lane.items - take < lane.capacity * 0.3) model.setItems(i, lane.capacity - Math.floor(rand() * 3));
    else model.setItems(i, lane.items - take);
    lastTouch[i] = worldMs;
  };

  const run = (ms: number) => {
    const end = engine.worldMs + ms;
    let nextSecond = 0;
    while (engine.worldMs < end) {
      const worldMs = engine.worldMs;
      shop(worldMs);
      const frame = engine.tick();
      frames++;
      for (let i = 0; i < n; i++) ring[(frame.seq & 63) * n + i] = (lanes[i] as { items: number }).items;
      comp.pipeline.push(frame);
      plainFrame.seq = frame.seq;
      plainFrame.deviceMs = frame.deviceMs;
      plainFrame.raw = frame.raw;
      plain.pipeline.push(plainFrame);
      if (worldMs >= nextSecond) {
        nextSecond = worldMs + 1000 - period / 2;
        for (let i = 0; i < n; i++) quiet[i] = worldMs - (lastTouch[i] as number) >= QUIET_MS;
        comp.second(quiet);
        plain.second(quiet);
        const T = engine.temperatureC ?? Number.NaN;
        if (T < minC) minC = T;
        if (T > maxC) maxC = T;
      }
    }
  };

  /**
   * The technician on every lane: empty it, tare, the reference mass on, calibrate, the mass off,
   * the items back (or `fill` of each lane's capacity). Readings are not scored meanwhile.
   */
  const visit = (fill: number | null) => {
    shopOpen = false;
    for (const a of both) a.scorer.paused = true;
    for (let i = 0; i < n; i++) {
      const lane = lanes[i] as { items: number; capacity: number };
      const items = fill === null ? lane.items : Math.round(lane.capacity * fill);
      model.setItems(i, 0);
      run(20_000);
      for (const a of both) a.pipeline.tareLane(`L${i}`);
      model.addExtra(i, REFERENCE_G);
      run(20_000);
      for (const a of both) a.pipeline.calibrateLane(`L${i}`, REFERENCE_G);
      model.addExtra(i, -REFERENCE_G);
      model.setItems(i, items);
      lastTouch[i] = engine.worldMs;
    }
    run(20_000);
    for (const a of both) a.scorer.paused = false;
    shopOpen = true;
  };

  // Installation in the cold: the lanes start empty.
  for (let i = 0; i < n; i++) model.setItems(i, 0);
  visit(0.8);
  run(opts.installHours * HOUR);
  // Half a year later, in the warm: the technician again.
  engine.powerOff(START_MS + YEAR / 2 - engine.worldMs);
  if (!opts.learnOnly) visit(null);
  const secondVisit = engine.worldMs;
  run(HOUR);
  let restarts = 0;
  for (let s = 0; s < opts.sessions; s++) {
    // Evenly over the following year, at a different hour each time (opening hours mostly).
    const at = secondVisit + ((s + 1) * YEAR) / (opts.sessions + 1);
    const dayStart = at - ((at + START_MS) % DAY);
    const startAt = Math.max(engine.worldMs + HOUR, dayStart + (7 + rand() * 10) * HOUR);
    engine.powerOff(startAt - engine.worldMs);
    for (const a of both) a.scorer.awaitingFirst.fill(true);
    if (opts.restartEvery > 0 && (s + 1) % opts.restartEvery === 0) {
      for (const a of both) a.restart();
      restarts++;
    }
    run(opts.sessionHours * HOUR);
  }
  const coefficients = th.zeroGPerC.map((z, ch) => ({
    channel: ch,
    trueZeroGPerC: z + (th.spanPpmPerC[ch] as number) * 1e-6 * (model.cells[ch]?.trayG ?? 0),
    trueSpanPpmPerC: th.spanPpmPerC[ch] as number,
    learned: comp.pipeline.calibration(ch).thermal,
  }));
  return {
    compensated: comp.scorer.finish(),
    uncompensated: plain.scorer.finish(),
    coefficients,
    temperature: { minC, maxC },
    frames,
    boots: engine.boots,
    agentRestarts: restarts,
  };
}

/** Percentage with two decimals, for the figures. */
export function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(2)} %` : '—';
}
