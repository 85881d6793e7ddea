/**
 * The firmware of one shelf, without any I/O: each call to next() is one tick of the HX711 — the
 * bytes the shelf sends for it (a sample frame, possibly with a line fault) — and handleCommand()
 * answers a host command line. The engine runs on its own device clock, so the same seed and the
 * same commands give the same bytes whether it is paced in real time or run in virtual time.
 */
import {
  decodeCommandLine,
  ErrorCodes,
  encodeDeviceFrame,
  frameLine,
  isShelfError,
  MAX_LINE_LENGTH,
  type SampleFrame,
  type SampleRate,
  ShelfError,
  tempField,
  UINT32_MAX,
} from '@shelfsense/protocol';
import type { Action } from './actions.js';
import { applyEffect, draw, type EffectContext } from './effects.js';
import { type Lean, ShelfModel, type ThermalModel } from './model.js';
import { deriveSeed, Rng } from './rng.js';
import { type ScenarioEvent, Scheduler } from './scenario.js';
import type { ResolvedShelf } from './spec.js';
import type { TruthLineFault, TruthRecord, TruthState } from './truth.js';

interface LeanEnd {
  lane: number;
  atUs: number;
  lean: Lean | null;
}

export interface EngineHooks {
  /** Every ground-truth record, as it happens. */
  truth?(record: TruthRecord): void;
  /** A vanish fault: the transport should disappear for `ms` and come back. */
  vanish?(ms: number): void;
}

export interface EngineOptions {
  shelf: ResolvedShelf;
  rate?: SampleRate;
  /** Scenario time runs this many times faster than device time. */
  speed?: number;
  /** The scenario events for this shelf. */
  events?: readonly ScenarioEvent[];
  hooks?: EngineHooks;
}

export interface ApplyResult {
  serial: string;
  action: Action['action'];
  /** The first frame sequence number generated after the change. */
  appliesFromSeq: number;
  deviceMs: number;
  truth: TruthState;
}

export interface EngineStats {
  /** Ticks generated. */
  frames: number;
  /** Sample lines emitted (including corrupted ones). */
  lines: number;
  dropped: number;
  corrupted: number;
  garbage: number;
  /** Frames generated while the port was gone. */
  lost: number;
  commands: number;
  badCommands: number;
}

export class ShelfEngine {
  readonly serial: string;
  readonly firmware: string;
  readonly channels: number;
  readonly model: ShelfModel;
  readonly stats: EngineStats = {
    frames: 0,
    lines: 0,
    dropped: 0,
    corrupted: 0,
    garbage: 0,
    lost: 0,
    commands: 0,
    badCommands: 0,
  };
  private _rate: SampleRate;
  private readonly speed: number;
  private readonly hooks: EngineHooks;
  private readonly scheduler: Scheduler;
  private readonly scenarioRng: Rng;
  private readonly faultRng: Rng;
  private readonly frame: SampleFrame;
  private seq = 0;
  private deviceUs = 0;
  private dropLeft = 0;
  private corruptLeft = 0;
  private readonly garbageQueue: number[] = [];
  private vanishedUntilUs = -1;
  private readonly leanEnds: LeanEnd[] = [];
  private readonly ctx: EffectContext;
  /** Device time of earlier boots, µs: scenario time runs on the time the shelf was powered. */
  private poweredBeforeUs = 0;
  /** Device time of the next temperature reading, µs; Infinity without a sensor. */
  private nextSensorUs = Number.POSITIVE_INFINITY;
  private sensorReading: number | undefined = undefined;
  private readonly sensorPeriodUs: number;
  private bootLinePending = false;
  private _boots = 1;
  private sensorWorks = true;

  constructor(opts: EngineOptions) {
    const shelf = opts.shelf;
    this.serial = shelf.serial;
    this.firmware = shelf.firmware;
    this.channels = shelf.channels;
    this._rate = opts.rate ?? 80;
    this.speed = opts.speed ?? 1;
    this.hooks = opts.hooks ?? {};
    this.model = new ShelfModel(shelf, new Rng(deriveSeed(shelf.seed, 'model')), this._rate);
    this.scenarioRng = new Rng(deriveSeed(shelf.seed, 'scenario'));
    this.faultRng = new Rng(deriveSeed(shelf.seed, 'faults'));
    this.scheduler = new Scheduler(opts.events ?? [], this.scenarioRng);
    this.frame = { type: 'sample', seq: 0, deviceMs: 0, raw: new Array<number>(shelf.channels).fill(0) };
    const sensor = shelf.temperature?.sensor;
    this.sensorPeriodUs = sensor ? sensor.periodMs * 1000 : 0;
    if (sensor) {
      // A v1 shelf's frames have no tempC key at all; a v1.1 one's always have it (often undefined).
      this.frame.tempC = undefined;
      this.nextSensorUs = firstReadingUs(this.sensorPeriodUs);
    }
    this.ctx = {
      model: this.model,
      rng: this.scenarioRng,
      deviceUs: 0,
      scenarioMs: 0,
      schedule: (atMs, action) => this.scheduler.schedule(atMs, action),
      endLeanAt: (lane, atUs) =>
        this.leanEnds.push({ lane, atUs, lean: this.model.lanes[lane]?.lean ?? null }),
    };
    this.record('start', 'start');
  }

  get rate(): SampleRate {
    return this._rate;
  }

  /** Device time between two frames, microseconds (12,500 at 80 SPS). */
  get tickUs(): number {
    return 1_000_000 / this._rate;
  }

  /** Sequence number of the next frame to be generated. */
  get nextSeq(): number {
    return this.seq;
  }

  get nextDeviceMs(): number {
    return Math.floor(this.deviceUs / 1000) % (UINT32_MAX + 1);
  }

  /** Device time of the next frame, microseconds since boot (not wrapped). */
  get nextDeviceUs(): number {
    return this.deviceUs;
  }

  get vanished(): boolean {
    return this.vanishedUntilUs >= 0;
  }

  /** Scheduled scenario events still to come (repeating ones count once). */
  get pendingEvents(): number {
    return this.scheduler.size;
  }

  identityLine(): string {
    return encodeDeviceFrame({
      type: 'identity',
      serial: this.serial,
      firmware: this.firmware,
      channels: this.channels,
      rate: this._rate,
    });
  }

  /**
   * One tick of the physical model, nothing sent: the scenario events due, then every channel's raw
   * counts at this instant of the device clock. The frame object is reused by the next tick.
   */
  tick(): SampleFrame {
    const us = this.deviceUs;
    this.ctx.deviceUs = us;
    this.ctx.scenarioMs = ((this.poweredBeforeUs + us) / 1000) * this.speed;
    if (this.leanEnds.length > 0) this.endLeans(us);
    while (this.scheduler.nextAtMs <= this.ctx.scenarioMs) {
      const action = this.scheduler.take(this.ctx.scenarioMs) as Action;
      this.apply(action, 'scenario');
    }
    if (this.vanishedUntilUs >= 0 && us >= this.vanishedUntilUs) {
      this.vanishedUntilUs = -1;
      this.record('return', 'device');
    }
    const frame = this.frame;
    frame.seq = this.seq;
    frame.deviceMs = this.nextDeviceMs;
    this.model.sample(us, frame.raw);
    if (us >= this.nextSensorUs) {
      // The first frame after each new reading carries it (docs/serial-protocol.md, Temperature);
      // a failed sensor gives none, as the firmware sends none.
      this.sensorReading = this.sensorWorks ? (this.model.thermal as ThermalModel).reading() : undefined;
      frame.tempC = this.sensorReading;
      this.nextSensorUs += this.sensorPeriodUs;
    } else if (frame.tempC !== undefined) frame.tempC = undefined;
    this.stats.frames++;
    this.seq = this.seq === UINT32_MAX ? 0 : this.seq + 1;
    this.deviceUs = us + this.tickUs;
    return frame;
  }

  /**
   * Generates one tick and returns what the shelf sends for it: usually one sample line; '' for a
   * dropped frame or while the port is gone; garbage bytes before the line when a garbage fault is due.
   * Text is latin1 (garbage holds bytes above 0x7F): write it with Buffer.from(text, 'latin1').
   */
  next(): string {
    const frame = this.tick();
    if (this.vanishedUntilUs >= 0) {
      this.stats.lost++;
      return '';
    }
    let out = '';
    if (this.bootLinePending) {
      // A rebooted shelf announces itself before its first frame, as at power-on.
      this.bootLinePending = false;
      out += this.identityLine();
    }
    if (this.garbageQueue.length > 0) {
      for (const n of this.garbageQueue) out += this.garbage(n, frame.seq);
      this.garbageQueue.length = 0;
    }
    if (this.dropLeft > 0) {
      this.dropLeft--;
      this.stats.dropped++;
      this.lineFault({ kind: 'fault', serial: this.serial, seq: frame.seq, fault: 'drop' });
      return out;
    }
    let line = encodeSample(frame);
    if (this.corruptLeft > 0) {
      this.corruptLeft--;
      line = this.corrupt(line);
      this.stats.corrupted++;
      this.lineFault({ kind: 'fault', serial: this.serial, seq: frame.seq, fault: 'corrupt' });
    }
    this.stats.lines++;
    return out + line;
  }

  /**
   * Answers one command line from the host (with or without its line ending) as the shelf firmware
   * does: '' for a blank line, otherwise exactly one reply (docs/serial-protocol.md, host → shelf).
   */
  handleCommand(line: string): string {
    const body = line.replace(/\r?\n$/, '').replace(/\r$/, '');
    if (body === '') return '';
    this.stats.commands++;
    const refused = lineDefect(body);
    if (refused) {
      this.stats.badCommands++;
      return deviceError('BADCRC', refused);
    }
    try {
      const cmd = decodeCommandLine(body);
      switch (cmd.type) {
        case 'identify':
          return this.identityLine();
        case 'ping':
          return encodeDeviceFrame({ type: 'pong', token: cmd.token });
        case 'rate':
          this._rate = cmd.rate;
          this.model.setRate(cmd.rate);
          return encodeDeviceFrame({ type: 'rate-ok', rate: cmd.rate });
        case 'serial':
          // A simulated shelf's serial comes from its spec: provisioned, so locked.
          this.stats.badCommands++;
          return deviceError('BADARG', 'serial is locked');
      }
    } catch (err) {
      this.stats.badCommands++;
      if (!isShelfError(err)) throw err;
      if (err.code === ErrorCodes.UNKNOWN_TYPE) return deviceError('BADCMD', 'unknown command');
      if (err.code === ErrorCodes.FIELD) {
        return deviceError('BADARG', `bad ${err.issues[0]?.path ?? 'arguments'}`);
      }
      if (err.code === ErrorCodes.CHECKSUM) return deviceError('BADCRC', 'checksum mismatch');
      return deviceError('BADCRC', 'bad framing');
    }
  }

  /**
   * Switches the shelf off for `ms` of world time, then on again: the next frame is the first of a
   * new boot (seq 0, device clock from 0, preceded by the ID line in next()), and the temperature,
   * creep and zero wander have moved on by the time that passed. No frames are generated for the
   * time off, so a year can be simulated in pieces. Hands on the shelf come off; scenario events
   * run on powered time and resume where they were.
   */
  powerOff(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new ShelfError(ErrorCodes.INVALID, `powerOff: ms must be a finite number ≥ 0, not ${ms}`, [
        { path: 'ms', message: 'a finite number ≥ 0' },
      ]);
    }
    this.model.powerCycle(this.deviceUs, ms * 1000);
    this.poweredBeforeUs += this.deviceUs;
    this.leanEnds.length = 0;
    this.vanishedUntilUs = -1;
    this.deviceUs = 0;
    this.seq = 0;
    this._boots++;
    this.bootLinePending = true;
    if (this.sensorPeriodUs > 0) {
      this.nextSensorUs = firstReadingUs(this.sensorPeriodUs);
      this.sensorReading = undefined;
    }
    this.record('reboot', 'device');
  }

  /**
   * Whether the temperature sensor answers (default true): false is a sensor unplugged or broken,
   * and frames carry no temperature until it is set true again. The cells drift regardless.
   */
  get sensorOk(): boolean {
    return this.sensorWorks;
  }

  set sensorOk(ok: boolean) {
    this.sensorWorks = ok;
  }

  /** How many times the shelf booted (1 until the first powerOff). */
  get boots(): number {
    return this._boots;
  }

  /** World time of the next frame, ms since the first boot (powered and switched-off time). */
  get worldMs(): number {
    return this.model.worldUs(this.deviceUs) / 1000;
  }

  /** The shelf's true temperature, °C (as of the last 1 s step); undefined without the model. */
  get temperatureC(): number | undefined {
    return this.model.thermal?.temperatureC;
  }

  /** The load cells' own temperature, °C: the air's, or lagging it with `cellLagMs`. */
  get cellTemperatureC(): number | undefined {
    return this.model.thermal?.cellC;
  }

  /** The sensor's last reading as the frames carry it, °C; undefined before the first or without. */
  get sensorC(): number | undefined {
    return this.sensorReading;
  }

  /** Each channel's temperature coefficients; null without the temperature model. */
  get thermalCoefficients(): {
    refC: number;
    zeroGPerC: readonly number[];
    spanPpmPerC: readonly number[];
    sensorOffsetC: number | null;
  } | null {
    const p = this.model.thermal?.params;
    if (!p) return null;
    return {
      refC: p.refC,
      zeroGPerC: p.zeroGPerC,
      spanPpmPerC: p.spanPpmPerC,
      sensorOffsetC: p.sensor?.offsetC ?? null,
    };
  }

  /** Applies an action now: it shows from the next frame generated (reported as appliesFromSeq). */
  apply(action: Action, source: 'scenario' | 'control' = 'control'): ApplyResult {
    this.ctx.deviceUs = this.deviceUs;
    this.ctx.scenarioMs = ((this.poweredBeforeUs + this.deviceUs) / 1000) * this.speed;
    let changed = false;
    switch (action.action) {
      case 'garbage':
        this.garbageQueue.push(draw(action.bytes, this.faultRng));
        break;
      case 'corrupt':
        this.corruptLeft += draw(action.lines, this.faultRng);
        break;
      case 'drop':
        this.dropLeft += draw(action.lines, this.faultRng);
        break;
      case 'vanish':
        this.vanishedUntilUs = Math.max(this.vanishedUntilUs, this.deviceUs + action.ms * 1000);
        changed = true;
        this.hooks.vanish?.(action.ms);
        break;
      default:
        changed = applyEffect(this.ctx, action);
    }
    const truth = changed ? this.record(action.action, source) : this.truth('current', source);
    return {
      serial: this.serial,
      action: action.action,
      appliesFromSeq: this.seq,
      deviceMs: this.nextDeviceMs,
      truth,
    };
  }

  /** The ground truth as of the next frame. */
  truth(cause = 'current', source: TruthState['source'] = 'control'): TruthState {
    const us = this.deviceUs;
    const unplugged: number[] = [];
    for (let c = 0; c < this.channels; c++) if (this.model.isUnplugged(c)) unplugged.push(c);
    return {
      kind: 'state',
      serial: this.serial,
      seq: this.seq,
      deviceMs: this.nextDeviceMs,
      cause,
      source,
      lanes: this.model.lanes.map((l, i) => ({
        lane: i,
        channels: [...l.channels],
        unitWeightG: l.unitWeightG,
        items: l.items,
        capacity: l.capacity,
        extraG: round3(l.extraG),
        leanG: l.lean && l.lean.endUs > us ? round3(l.lean.grams) : 0,
      })),
      cells: this.model.cells.map((c) => ({ ...c })),
      unplugged,
      vanished: this.vanished,
      ...(this.model.thermal ? { tempC: round3(this.model.thermal.temperatureC) } : {}),
    };
  }

  private record(cause: string, source: TruthState['source']): TruthState {
    const state = this.truth(cause, source);
    this.hooks.truth?.(state);
    return state;
  }

  private lineFault(f: TruthLineFault): void {
    this.hooks.truth?.(f);
  }

  private endLeans(us: number): void {
    for (let i = this.leanEnds.length - 1; i >= 0; i--) {
      const e = this.leanEnds[i] as LeanEnd;
      if (e.atUs > us) continue;
      this.leanEnds.splice(i, 1);
      // A hand that was released, or replaced by another lean meanwhile, is not this one.
      if (this.model.lanes[e.lane]?.lean !== e.lean) continue;
      this.apply({ action: 'release', lane: e.lane }, 'scenario');
    }
  }

  /** Random bytes that can never pass for a line (the first is a control byte), then `\n`. */
  private garbage(n: number, seq: number): string {
    const rng = this.faultRng;
    let s = String.fromCharCode(rng.int(1, 8));
    for (let i = 1; i < n; i++) {
      const b = rng.int(0, 254);
      s += String.fromCharCode(b >= 10 ? b + 1 : b); // never 0x0A: the garbage stays one line
    }
    this.stats.garbage++;
    this.lineFault({ kind: 'fault', serial: this.serial, seq, fault: 'garbage', bytes: n });
    return `${s}\n`;
  }

  /** Alters one digit of the body after the CRC was computed: the line frames but fails its CRC. */
  private corrupt(line: string): string {
    const star = line.lastIndexOf('*');
    const digits: number[] = [];
    for (let i = 2; i < star; i++) {
      const c = line.charCodeAt(i);
      if (c >= 48 && c <= 57) digits.push(i);
    }
    const at = this.faultRng.pick(digits);
    const d = line.charCodeAt(at) - 48;
    const replacement = String.fromCharCode(48 + ((d + this.faultRng.int(1, 9)) % 10));
    return line.slice(0, at) + replacement + line.slice(at + 1);
  }
}

/**
 * Byte for byte what encodeDeviceFrame() makes of a sample, without the intermediate array join:
 * this runs for every frame of every shelf.
 */
function encodeSample(frame: SampleFrame): string {
  let body = `S,${frame.seq},${frame.deviceMs}`;
  const raw = frame.raw;
  for (let c = 0; c < raw.length; c++) body += `,${raw[c]}`;
  if (frame.tempC !== undefined) body += tempField(frame.tempC);
  return frameLine(body);
}

/** A DS18B20's first 12-bit conversion is ready 750 ms after power-on; then one per period. */
function firstReadingUs(periodUs: number): number {
  return Math.min(750_000, periodUs);
}

/** The shelf's first checks of a command line, in the firmware's order; null when it frames. */
function lineDefect(body: string): string | null {
  if (body.length > MAX_LINE_LENGTH) return 'line too long';
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return 'non-printable byte';
  }
  return null;
}

function deviceError(code: 'BADCRC' | 'BADCMD' | 'BADARG', detail: string): string {
  return encodeDeviceFrame({ type: 'error', code, detail: detail.replace(/[,*\r\n]/g, ' ').slice(0, 64) });
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
