/**
 * ShelfPipeline: one shelf's signal pipeline — every channel through stages 1–5 and 7
 * (channel.ts), then every lane through stage 6 (count.ts) — on the shelf's device clock.
 *
 * ```ts
 * const p = new ShelfPipeline({ channels: 4, signal: cfg.signal, calibrations, lanes,
 *   onEvent: (e) => …, onLaneChange: (lane) => …, onHealthChange: (ch) => … });
 * link.on('frame', (f) => p.push(f));          // every sample frame, in order
 * setInterval(() => p.noteSilence(msSinceLastLine), 1000);  // wall-clock silence
 * p.lane('A1')?.units; p.channel(0).grams; p.health();
 * const rec = p.tareLane('A1');                 // technician operations on a settled lane
 * ```
 *
 * push() allocates nothing in the common case: callbacks fire only on a change (a count, a lane
 * state, a channel status) and receive live views (LaneReading, ChannelReading) that the pipeline
 * keeps updating — copy what you need to keep. Everything the constructor and the setters take is
 * validated with zod; a bad value throws SHELF_ERR_INVALID naming the field.
 */
import {
  type Calibration,
  childLogger,
  ErrorCodes,
  formatIssues,
  LaneSetting,
  parseWith,
  type SampleFrame,
  ShelfError,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Logger } from 'pino';
import {
  type CalibrationChange,
  calibrateChannels,
  learnUnitWeight,
  tareChannels,
  type UnitWeightChange,
} from './calibrate.js';
import { Channel, type ChannelReading } from './channel.js';
import { DeviceClock, Tick } from './clock.js';
import { LaneChange, LaneCounter, type LaneEvent, type LaneReading } from './count.js';
import { worstHealth } from './health.js';
import type { ObserveContext } from './observe.js';
import {
  CalibrationSchema,
  type LaneCalibrationResult,
  laneIssues,
  Options,
  type PipelineCallbacks,
  RateSchema,
  type ShelfHealth,
  type ShelfPipelineOptions,
} from './options.js';
import {
  maxGapMs,
  PipelineError,
  PipelineErrorCodes,
  type Rate,
  type SignalSettings,
  windowsFor,
} from './settings.js';
import { ShelfThermal, stampTemperature, thermalFromMass, thermalFromTare } from './temperature.js';
import { type LearnedCoefficients, ThermalLearner } from './thermal-learner.js';

export class ShelfPipeline {
  readonly channelCount: number;
  readonly config: SignalSettings;
  private readonly chans: Channel[];
  private laneList: LaneCounter[] = [];
  private readonly laneById = new Map<string, LaneCounter>();
  private readonly laneOfChannel: Int16Array;
  private readonly clock: DeviceClock;
  private rate: Rate;
  private silent = false;
  private readonly cb: PipelineCallbacks;
  private readonly log: Logger | undefined;
  private readonly emit: (e: LaneEvent) => void;
  /** Temperature compensation (temperature.ts) and what is learned at rest (thermal-learner.ts). */
  private readonly thermal: ShelfThermal;
  private readonly learner: ThermalLearner;
  private readonly learned: LearnedCoefficients[] = [];
  /** The lanes' observers report through this (observe.ts). */
  private readonly observe: ObserveContext = {
    siblings: () => this.laneList,
    emit: (o) => {
      this.log?.debug({ observation: o }, 'lane observation');
      this.cb.onObservation?.(o);
    },
    nextId: () => ++this.observations,
  };
  /** Observations numbered so far. */
  observations = 0;
  /** Frames taken, frames refused for a wrong channel count, holes that restarted filtering. */
  frames = 0;
  badFrames = 0;
  gaps = 0;

  constructor(options: ShelfPipelineOptions) {
    const o = parseWith(Options, options, 'pipeline options');
    this.channelCount = o.channels;
    this.config = o.signal;
    this.rate = o.rate;
    this.cb = {
      onEvent: options.onEvent,
      onLaneChange: options.onLaneChange,
      onHealthChange: options.onHealthChange,
      onCalibrationLearned: options.onCalibrationLearned,
      onObservation: options.onObservation,
    };
    this.log = options.log && childLogger(options.log, 'pipeline');
    this.emit = (e) => {
      this.log?.debug({ event: e }, 'lane event');
      this.cb.onEvent?.(e);
    };
    this.clock = new DeviceClock(o.rate, maxGapMs(o.signal, o.rate));
    const windows = windowsFor(o.signal, o.rate);
    this.chans = o.calibrations.map((cal, i) => new Channel(i, o.signal, cal, windows));
    this.thermal = new ShelfThermal(o.signal.temperature, this.chans);
    this.learner = new ThermalLearner(o.signal.temperature, this.chans);
    this.laneOfChannel = new Int16Array(o.channels).fill(-1);
    this.installLanes(o.lanes);
    for (const [id, units] of Object.entries(o.counts)) this.laneById.get(id)?.restore(units);
    for (const [id, grams] of Object.entries(o.baselines)) this.laneById.get(id)?.restoreBaseline(grams);
  }

  // --- the hot path --------------------------------------------------------------------------

  /** Takes one sample frame; returns true when a lane changed state or count. */
  push(frame: SampleFrame): boolean {
    const raw = frame.raw;
    const n = this.channelCount;
    if (raw.length !== n) {
      this.badFrames++;
      return false;
    }
    const tick = this.clock.advance(frame.seq, frame.deviceMs);
    if (tick === Tick.DUPLICATE) return false;
    this.frames++;
    if (tick === Tick.RESTART) {
      this.log?.debug({ seq: frame.seq, deviceMs: frame.deviceMs }, 'shelf clock restarted');
      this.resetSignals();
      for (const lane of this.laneList) lane.interrupted(false);
      this.thermal.restarted(this.clock.t);
    } else if (tick === Tick.GAP) {
      this.gaps++;
      this.resetSignals();
    }
    if (this.clock.rate !== this.rate) this.applyRate(this.clock.rate);
    // The device time outgrows small integers after 24.8 days; it is handed on only to small
    // wrappers the JIT inlines (Channel.push, LaneCounter.update), never boxed once per frame.
    const t = this.clock.t;
    const seq = frame.seq;
    const tempC = frame.tempC;
    this.thermal.take(tempC, this.clock);
    for (let i = 0; i < n; i++) (this.chans[i] as Channel).push(raw[i] as number, t, seq);
    this.silent = false;
    const changed = this.evaluate(seq);
    if (tempC !== undefined) this.learn();
    return changed;
  }

  /** A frame carried a temperature (about once a second): the learner's sample, and its results. */
  private learn(): void {
    const cfg = this.config.temperature;
    if (cfg.learn && this.thermal.isKnown)
      this.learner.sample(this.laneList, this.thermal.tempC, this.clock.t, this.learned);
    if (this.learned.length > 0) this.applyLearned();
  }

  private applyLearned(): void {
    for (const { channel, thermal } of this.learned) {
      const ch = this.chans[channel] as Channel;
      if (ch.calibration.thermal?.source === 'calibration') continue;
      const cal: Calibration = { ...ch.calibration, thermal };
      ch.setRecord(cal);
      this.thermal.coefficientsChanged(channel);
      this.log?.debug({ channel, thermal }, 'temperature coefficients learned');
      this.cb.onCalibrationLearned?.(channel, cal);
    }
    this.learned.length = 0;
  }

  /** Health of every channel, then every lane; callbacks on change. */
  private evaluate(seq: number): boolean {
    const t = this.clock.t;
    const lanes = this.laneList;
    for (let i = 0; i < this.channelCount; i++) {
      const ch = this.chans[i] as Channel;
      const li = this.laneOfChannel[i] as number;
      const nearLimit = li >= 0 && (lanes[li] as LaneCounter).baselineNearLimit;
      if (ch.updateHealth(this.silent, nearLimit)) {
        this.log?.debug({ channel: i, status: ch.status }, 'channel health');
        this.cb.onHealthChange?.(ch);
      }
    }
    let changed = false;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i] as LaneCounter;
      if (lane.update(t, seq, this.emit) !== LaneChange.NONE) {
        changed = true;
        this.learner.laneChanged(i, this.learned);
        this.cb.onLaneChange?.(lane);
      }
    }
    return changed;
  }

  /**
   * The agent's wall-clock watch: `ms` since the shelf's last line. Once that reaches noDataMs every
   * channel is `no_data` and every lane `fault` until frames flow again. Returns true on a change.
   */
  noteSilence(ms: number): boolean {
    const silent = ms >= this.config.noDataMs;
    if (silent === this.silent) return false;
    this.silent = silent;
    return this.evaluate(0) || silent;
  }

  // --- settings ------------------------------------------------------------------------------

  /** The shelf reported its rate (ID or OK,RATE); the pipeline also notices a change by itself. */
  setRate(rate: Rate): void {
    parseWith(RateSchema, rate, 'sample rate');
    this.clock.setRate(rate);
    if (rate !== this.rate) this.applyRate(rate);
  }

  private applyRate(rate: Rate): void {
    this.rate = rate;
    this.clock.setMaxGap(maxGapMs(this.config, rate));
    const w = windowsFor(this.config, rate);
    for (const ch of this.chans) ch.setWindows(w);
    this.log?.debug({ rate, windows: w }, 'sample rate');
  }

  /** Replaces the lane settings; a lane keeping its id keeps its count (its next count is an adjust). */
  setLanes(lanes: readonly z.input<typeof LaneSetting>[]): void {
    const parsed = parseWith(z.array(LaneSetting), lanes, 'lane settings');
    // Paths relative to the array given, as zod reports them.
    const issues = laneIssues(parsed, this.channelCount).map((i) => ({
      path: i.path.slice(1).join('.'),
      message: i.message,
    }));
    if (issues.length > 0) {
      throw new ShelfError(ErrorCodes.INVALID, `invalid lane settings: ${formatIssues(issues)}`, issues);
    }
    this.installLanes(parsed);
  }

  /**
   * A lane whose channels and unit weight are unchanged carries on as it was (a retained settings
   * message arriving again changes nothing); one whose channels or unit weight changed keeps its
   * last count but recounts, and its next count is an adjust.
   */
  private installLanes(lanes: readonly LaneSetting[]): void {
    const old = new Map(this.laneById);
    this.learner.endAll(this.learned);
    this.laneById.clear();
    this.laneOfChannel.fill(-1);
    this.laneList = lanes.map((s, i) => {
      const prev = old.get(s.lane);
      const sameChannels = prev !== undefined && sameList(prev.channels, s.channels);
      let lane: LaneCounter;
      if (prev && sameChannels && prev.unitWeightG === s.unitWeightG) {
        lane = prev;
        lane.sku = s.sku;
        lane.capacity = s.capacity;
      } else {
        lane = new LaneCounter(
          s,
          s.channels.map((c) => this.chans[c] as Channel),
          this.config,
          this.observe,
        );
        if (prev) lane.inherit(prev, sameChannels);
      }
      for (const c of s.channels) this.laneOfChannel[c] = i;
      this.laneById.set(s.lane, lane);
      return lane;
    });
    for (const [id, lane] of old) if (!this.laneById.has(id)) lane.retire();
  }

  /** Replaces a channel's calibration; its lane's next count is an adjust. */
  setCalibration(channel: number, cal: z.input<typeof CalibrationSchema>): void {
    const ch = this.channelAt(channel);
    ch.setCalibration(parseWith(CalibrationSchema, cal, `calibration of channel ${channel}`));
    this.thermal.recalibrated(channel);
    this.learner.reset(channel);
    const li = this.laneOfChannel[channel] as number;
    if (li >= 0) (this.laneList[li] as LaneCounter).interrupted(true);
  }

  // --- readings ------------------------------------------------------------------------------

  lane(id: string): LaneReading | undefined {
    return this.laneById.get(id);
  }

  lanes(): readonly LaneReading[] {
    return this.laneList;
  }

  channel(index: number): ChannelReading {
    return this.channelAt(index);
  }

  calibration(index: number): Calibration {
    return this.channelAt(index).calibration;
  }

  /** The shelf's temperature in force, °C; null while unknown (no frame carried one lately). */
  get temperatureC(): number | null {
    return this.thermal.isKnown ? this.thermal.tempC : null;
  }

  /** Frames lost on the line, from sequence gaps (the serial link counts the same as `gap`). */
  get lostFrames(): number {
    return this.clock.dropped;
  }

  /** The sample rate the pipeline is tuned for. */
  get sampleRate(): Rate {
    return this.rate;
  }

  health(): ShelfHealth {
    const channels = this.chans.map((c) => {
      const thermal = this.thermal.coefficients(c.index);
      return {
        channel: c.index,
        status: c.status,
        noiseG: Number.isFinite(c.noiseG) ? c.noiseG : 0,
        driftG: c.driftG,
        ...(thermal ? { thermal } : {}),
      };
    });
    // Names distinct from the serial link's reject reasons, since the agent adds both up. Frames
    // lost on the line are the link's `gap` count (and lostFrames here), so they are not repeated.
    const rejects: Record<string, number> = {
      junk_rail: 0,
      junk_glitch: 0,
      spike: 0,
      duplicate: this.clock.duplicates,
      shelf_restart: this.clock.restarts,
      clock_hole: this.gaps,
      wrong_channels: this.badFrames,
    };
    for (const c of this.chans) {
      rejects.junk_rail = (rejects.junk_rail as number) + c.rejector.rail;
      rejects.junk_glitch = (rejects.junk_glitch as number) + c.rejector.glitch;
      rejects.spike = (rejects.spike as number) + c.rejector.spikes;
    }
    const status = worstHealth(channels.map((c) => c.status));
    return { status, channels, rejects, ...(this.thermal.isKnown ? { tempC: this.thermal.tempC } : {}) };
  }

  // --- technician operations (on a settled lane; each applies its result) --------------------

  /**
   * Tare: the lane's settled reading becomes its zero, at the shelf's temperature (`tempC`). A tare
   * at least calibrationDeltaC from the last one gives the zero coefficient (temperature.ts).
   */
  tareLane(id: string): LaneCalibrationResult {
    const { lane, chans } = this.settled(id);
    const changes = tareChannels(
      chans.map((c) => c.calibration),
      chans.map((c) => c.settledRaw),
      chans.map((c) => c.zeroCounts),
    );
    const T = this.temperatureC;
    for (const change of changes) {
      stampTemperature(change, T, 'tare');
      const thermal = thermalFromTare(change.before, change.after, this.config.temperature);
      if (thermal) change.after.thermal = thermal;
    }
    return this.applyChanges(lane, changes);
  }

  /**
   * Calibrate with a known mass on the (tared) lane. With a temperature the reading is corrected
   * first, so the new offset is the zero at this temperature and the scale is expressed at refC;
   * the same mass again at least calibrationDeltaC away gives the span coefficient.
   */
  calibrateLane(id: string, massG: number): LaneCalibrationResult {
    const { lane, chans } = this.settled(id);
    const { changes } = calibrateChannels(
      chans.map((c) => c.calibration),
      chans.map(
        (c) =>
          c.calibration.offset +
          c.thermZero +
          (c.settledRaw - c.calibration.offset - c.thermZero) * c.thermGain,
      ),
      chans.map((c) => c.zeroCounts + c.thermZero),
      massG,
    );
    const T = this.temperatureC;
    const cfg = this.config.temperature;
    const total = changes.reduce((sum, ch, i) => sum + (ch ? (chans[i] as Channel).settledGrams : 0), 0);
    changes.forEach((change, i) => {
      if (!change) return;
      stampTemperature(change, T, 'mass');
      const share = total > 0 ? (massG * (chans[i] as Channel).settledGrams) / total : massG;
      const derived = thermalFromMass(change.before, change.after, chans.length === 1 ? massG : share, cfg);
      if (derived) change.after = derived;
    });
    return this.applyChanges(lane, changes);
  }

  /** Learn the unit weight from `count` items placed on the (tared) lane; applies it to the lane. */
  learnUnit(id: string, count: number): { lane: string; change: UnitWeightChange } {
    const { lane, chans } = this.settled(id);
    let w = 0;
    for (const c of chans) w += c.settledGrams;
    const change = learnUnitWeight(w - lane.baselineG, count, lane.unitWeightG);
    this.setLanes(
      this.laneList.map((l) => ({
        lane: l.id,
        channels: [...l.channels],
        sku: l.sku,
        unitWeightG: l === lane ? change.after : l.unitWeightG,
        capacity: l.capacity,
      })),
    );
    return { lane: id, change };
  }

  private applyChanges(lane: LaneCounter, changes: (CalibrationChange | null)[]): LaneCalibrationResult {
    let residualG = 0;
    changes.forEach((change, i) => {
      if (!change) return;
      residualG += change.residualG;
      this.setCalibration(lane.channels[i] as number, change.after);
    });
    this.log?.debug({ lane: lane.id, residualG }, 'lane calibration changed');
    return { lane: lane.id, channels: [...lane.channels], changes, residualG };
  }

  private settled(id: string): { lane: LaneCounter; chans: Channel[] } {
    const lane = this.laneById.get(id);
    if (!lane) {
      throw new PipelineError(PipelineErrorCodes.UNKNOWN_LANE, `no lane "${id}" on this shelf`, [
        { path: 'lane', message: 'unknown lane' },
      ]);
    }
    const chans = lane.channels.map((c) => this.chans[c] as Channel);
    // Right after the shelf identified itself its cells read "no data" until the first frames
    // come: not settled yet (an operation waits for it), unlike a shelf that went silent.
    if (this.frames === 0) {
      throw new PipelineError(
        PipelineErrorCodes.NOT_STABLE,
        `lane "${id}" has no readings yet; keep it still and retry`,
      );
    }
    if (chans.some((c) => c.faulty)) {
      throw new PipelineError(PipelineErrorCodes.LANE_FAULT, `lane "${id}" has a faulty cell`);
    }
    if (!chans.every((c) => c.stable)) {
      throw new PipelineError(
        PipelineErrorCodes.NOT_STABLE,
        `lane "${id}" is not settled; keep it still and retry`,
      );
    }
    return { lane, chans };
  }

  private channelAt(index: number): Channel {
    const ch = this.chans[index];
    if (!ch) {
      throw new PipelineError(PipelineErrorCodes.UNKNOWN_LANE, `no channel ${index} on this shelf`, [
        { path: 'channel', message: `0..${this.channelCount - 1}` },
      ]);
    }
    return ch;
  }

  private resetSignals(): void {
    for (const ch of this.chans) ch.resetSignal();
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
