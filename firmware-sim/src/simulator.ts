/**
 * startSimulator(): one or more simulated shelves, each on its own pseudo-terminal, serial device or
 * TCP port, paced in real or virtual time, with the control API and the ground-truth log.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childLogger,
  ErrorCodes,
  formatIssues,
  type Issue,
  parseWith,
  type SampleRate,
  ShelfError,
} from '@shelfsense/protocol';
import type { z } from 'zod';
import { Action, type ActionInput, checkAction } from './actions.js';
import { loadScenario } from './builtins.js';
import { ControlServer, type ControlTarget } from './control.js';
import { type ApplyResult, ShelfEngine } from './engine.js';
import { SimError, SimErrorCodes } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { type McuOptions, McuRunner } from './mcu.js';
import { RealtimePacer, type Runner, ShelfRunner } from './runner.js';
import { eventsForShelf, type ScenarioFile, type ScenarioFileInput } from './scenario.js';
import {
  type ResolvedShelf,
  type ResolveOptions,
  resolveShelves,
  SensorParams,
  ShelfSpec,
  type ShelfSpecInput,
  TEMPERATURE_PRESETS,
  type TemperatureInput,
  TemperatureParams,
  type TemperaturePreset,
} from './spec.js';
import { PtyTransport } from './transport/pty.js';
import { SerialTransport } from './transport/serial.js';
import { TcpTransport } from './transport/tcp.js';
import type { Transport, TransportInfo } from './transport/transport.js';
import { GroundTruth, type TruthState, TruthWriter } from './truth.js';

/** The simulator's temperature options as resolveShelves takes them, validated. */
function temperatureOptions(
  options: SimulatorOptions,
): Pick<ResolveOptions, 'temperature' | 'temperatureSensor'> {
  const out: Pick<ResolveOptions, 'temperature' | 'temperatureSensor'> = {};
  const t = options.temperature;
  if (t === false) out.temperature = false;
  else if (typeof t === 'string') {
    const preset = TEMPERATURE_PRESETS[t as TemperaturePreset];
    if (!preset) {
      const names = Object.keys(TEMPERATURE_PRESETS).join(', ');
      throw new ShelfError(ErrorCodes.INVALID, `temperature: no preset "${t}" (${names})`, [
        { path: 'temperature', message: `one of ${names}` },
      ]);
    }
    out.temperature = { ...preset };
  } else if (t !== undefined) out.temperature = parseWith(TemperatureParams, t, 'temperature');
  const s = options.temperatureSensor;
  if (typeof s === 'boolean') out.temperatureSensor = s;
  else if (s !== undefined) out.temperatureSensor = parseWith(SensorParams, s, 'temperatureSensor');
  return out;
}

export interface ShelfOptions extends ShelfSpecInput {
  /** Open this serial device instead of creating a pseudo-terminal pair. */
  path?: string;
  /** Serve this shelf over TCP on this port (0: any free port). */
  tcpPort?: number;
}

export interface SimulatorOptions {
  /** Seed of every random stream (default: the scenario's, else 1). */
  seed?: number;
  /** How many shelves, or their specs (default: the scenario's shelves, else 1). */
  shelves?: number | ShelfOptions[];
  /** Serial numbers, in shelf order; the rest are derived from the seed. */
  serials?: string[];
  /** Lanes per generated shelf (default 4). */
  lanes?: number;
  /** Initial sample rate (default: the scenario's, else 80). */
  rate?: SampleRate;
  /** Scenario events come this many times faster; the sample rate stays real (default 1). */
  speed?: number;
  /** Virtual time: frames as fast as the host reads them (default false: real time). */
  virtual?: boolean;
  /** A built-in name, a YAML/JSON file, or a scenario object (default: idle). */
  scenario?: string | ScenarioFileInput;
  /**
   * How shelves without their own `path`/`tcpPort` are served: `pty` (default) creates a socat pair
   * per shelf; `tcp` listens on `tcpPort + index` (or a free port each when tcpPort is 0); `none`
   * runs no transport and no clock — drive `shelf.engine.next()` yourself.
   */
  transport?: 'pty' | 'tcp' | 'none';
  tcpHost?: string;
  tcpPort?: number;
  /** Where pty links are made (default: a new directory under the OS temp dir, removed on stop). */
  ptyDir?: string;
  /** The control API; false for none. Default: 127.0.0.1, port 0. */
  control?: { port?: number; host?: string } | false;
  /** Also write the ground truth here as JSON lines. */
  truthFile?: string;
  /** Truth records kept in memory per shelf (default 100,000; the oldest tenth goes first). */
  truthLimit?: number;
  /** Stop producing frames after this much device time, ms (`finished` then resolves). */
  durationMs?: number;
  /**
   * Start the device clocks at once (default true). With false, transports and the control API are
   * up but the shelves boot only on start(): a host can open its port first and see the ID line and
   * frame 0 (opening a serial port flushes what was buffered before).
   */
  autoStart?: boolean;
  /**
   * Run the real firmware instead of the simulator's own: each shelf is this AVR ELF in simavr, its
   * HX711s fed the shelf's raw counts (firmware/sim). Line faults (drop, corrupt, garbage, vanish)
   * are the simulator's own firmware's and do not apply.
   */
  mcu?: McuOptions;
  /**
   * The temperature model for every shelf, over the scenario's and each shelf's own: a preset
   * (`indoor`, `seasons`), parameters, or false to switch it off everywhere (docs/simulator.md).
   */
  temperature?: TemperaturePreset | TemperatureInput | false;
  /** Whether shelves read and send a temperature (default: yes wherever the model is on). */
  temperatureSensor?: boolean | z.input<typeof SensorParams>;
  logLevel?: LogLevel;
  logger?: Logger;
}

export interface LaneInfo {
  lane: number;
  channels: number[];
  unitWeightG: number;
  capacity: number;
}

export interface SimShelf {
  index: number;
  serial: string;
  firmware: string;
  channels: number;
  lanes: LaneInfo[];
  /** The device path the host opens (pty or serial), if any. */
  path?: string;
  /** TCP port and host, when served over TCP. */
  tcpPort?: number;
  host?: string;
  transport: Transport | null;
  engine: ShelfEngine;
  runner: Runner;
}

export interface Simulator {
  readonly seed: number;
  readonly virtual: boolean;
  readonly shelves: readonly SimShelf[];
  /** `http://127.0.0.1:PORT`, or null without a control API. */
  readonly controlUrl: string | null;
  readonly groundTruth: GroundTruth;
  readonly scenario: ScenarioFile;
  shelf(serial: string): SimShelf;
  /** The truth frame `seq` was generated in; without seq, the truth as of the next frame. */
  truth(serial: string, seq?: number): TruthState;
  /** Applies an action now, as the control API does (validated). */
  apply(serial: string, action: ActionInput): ApplyResult;
  /** Resolves when every shelf reached `durationMs` (never without it). */
  readonly finished: Promise<void>;
  /** Boots the shelves and starts their clocks (only needed with autoStart: false). */
  start(): void;
  stop(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'warn');
  const scenario = loadScenario(options.scenario ?? 'idle');
  const seed = options.seed ?? scenario.seed ?? 1;
  const rate = options.rate ?? scenario.rate ?? 80;
  const shelfOpts: ShelfOptions[] = Array.isArray(options.shelves) ? options.shelves : [];
  const specs = shelfOpts.length > 0 ? shelfOpts.map((o, i) => parseSpec(o, i)) : (scenario.shelves ?? []);
  const count = typeof options.shelves === 'number' ? options.shelves : Math.max(1, specs.length);
  if (count < specs.length) {
    throw new ShelfError(ErrorCodes.USAGE, `shelves: ${count} asked for, but ${specs.length} are described`);
  }
  if (options.speed !== undefined && !(options.speed > 0)) {
    throw new ShelfError(ErrorCodes.INVALID, 'speed: must be more than 0', [
      { path: 'speed', message: 'more than 0' },
    ]);
  }
  const resolved = resolveShelves({
    seed,
    count,
    specs,
    ...(options.serials ? { serials: options.serials } : {}),
    ...(options.lanes ? { lanes: options.lanes } : {}),
    ...(scenario.model ? { model: scenario.model } : {}),
    ...temperatureOptions(options),
  });
  checkScenario(scenario, resolved);

  const groundTruth = new GroundTruth(options.truthLimit ?? 100_000);
  const writer = options.truthFile ? new TruthWriter(options.truthFile) : null;
  const durationUs = options.durationMs === undefined ? Number.POSITIVE_INFINITY : options.durationMs * 1000;
  const ownPtyDir = options.ptyDir === undefined && (options.transport ?? 'pty') === 'pty';
  const ptyDir = options.ptyDir ?? (ownPtyDir ? mkdtempSync(join(tmpdir(), 'shelfsense-sim-')) : '');
  if (options.ptyDir !== undefined) mkdirSync(options.ptyDir, { recursive: true });

  const shelves: SimShelf[] = resolved.map((r) => {
    const own = shelfOpts[r.index] ?? {};
    const transport = makeTransport(r, own, options, ptyDir, log);
    const runnerRef: { runner?: Runner } = {};
    const engine = new ShelfEngine({
      shelf: r,
      // An MCU's HX711s convert at 10 or 80 SPS as its firmware sets them: the world is served on
      // the finer grid.
      rate: options.mcu ? 80 : rate,
      speed: options.speed ?? 1,
      events: eventsForShelf(scenario.events, r.index, r.serial),
      hooks: {
        truth: (rec) => {
          groundTruth.add(rec);
          writer?.write(rec);
        },
        vanish: (ms) => runnerRef.runner?.vanish(ms),
      },
    });
    const rlog = log.child({ shelf: r.serial });
    const runner = options.mcu
      ? new McuRunner(engine, transport, rlog, durationUs, options.mcu, options.virtual ?? false)
      : new ShelfRunner(engine, transport, rlog, durationUs);
    runnerRef.runner = runner;
    return {
      index: r.index,
      serial: r.serial,
      firmware: r.firmware,
      channels: r.channels,
      lanes: r.lanes.map((l, i) => ({
        lane: i,
        channels: [...l.channels],
        unitWeightG: l.unitWeightG,
        capacity: l.capacity,
      })),
      transport,
      engine,
      runner,
    };
  });
  const bySerial = new Map(shelves.map((s) => [s.serial, s]));
  const virtual = options.virtual ?? false;
  const pacer = virtual ? null : new RealtimePacer(shelves.map((s) => s.runner));
  const pumps: Promise<void>[] = [];
  let control: ControlServer | null = null;
  let stopped = false;
  let started = false;

  const shelf = (serial: string): SimShelf => {
    const s = bySerial.get(serial);
    if (!s) throw new SimError(SimErrorCodes.NOT_FOUND, `no shelf with serial ${serial}`);
    return s;
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    pacer?.stop();
    await control?.stop();
    await Promise.all(shelves.map((s) => s.runner.stop()));
    await Promise.all(pumps);
    await writer?.close();
    if (ownPtyDir) rmSync(ptyDir, { recursive: true, force: true });
  };

  const sim: Simulator = {
    seed,
    virtual,
    shelves,
    scenario,
    groundTruth,
    get controlUrl() {
      return control?.url ?? null;
    },
    shelf,
    truth(serial, seq) {
      const s = shelf(serial);
      if (seq === undefined) return s.engine.truth();
      const t = groundTruth.at(serial, s.runner instanceof McuRunner ? mcuTick(s.runner, seq) : seq);
      if (!t) throw new SimError(SimErrorCodes.NOT_FOUND, `no truth for ${serial} at seq ${seq}`);
      return t;
    },
    apply(serial, input) {
      if (stopped) throw new SimError(SimErrorCodes.STOPPED, 'the simulator was stopped');
      const s = shelf(serial);
      const action = parseWith(Action, input, 'action');
      const issues = checkAction(action, s.lanes.length, s.channels);
      if (issues.length > 0) {
        throw new ShelfError(ErrorCodes.INVALID, `invalid action: ${formatIssues(issues)}`, issues);
      }
      return s.engine.apply(action, 'control');
    },
    finished: Promise.all(shelves.map((s) => s.runner.finished)).then(() => undefined),
    start() {
      if (started || stopped) return;
      started = true;
      if (options.transport === 'none' && !shelves.some((s) => s.transport)) return;
      if (pacer) pacer.start();
      else for (const s of shelves) pumps.push(s.runner.pump());
    },
    stop,
  };

  try {
    await Promise.all(shelves.map((s) => startTransport(s)));
    for (const s of shelves) if (s.runner instanceof McuRunner) await s.runner.start();
    if (options.control !== false) {
      control = new ControlServer(controlTarget(sim), childLogger(log, 'control'));
      await control.start(options.control?.port ?? 0, options.control?.host ?? '127.0.0.1');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  if (options.autoStart ?? true) sim.start();
  log.info({ shelves: shelves.length, virtual, seed, control: sim.controlUrl }, 'simulator started');
  return sim;
}

/** The engine tick an MCU shelf's frame `seq` was converted from (-1 if the frame was not seen). */
function mcuTick(runner: McuRunner, seq: number): number {
  return runner.frameTick(seq) ?? -1;
}

function parseSpec(o: ShelfOptions, i: number) {
  const { path: _path, tcpPort: _port, ...spec } = o;
  return parseWith(ShelfSpec, spec, `shelves.${i}`);
}

function makeTransport(
  r: ResolvedShelf,
  own: ShelfOptions,
  options: SimulatorOptions,
  ptyDir: string,
  log: Logger,
): Transport | null {
  const tlog = log.child({ shelf: r.serial });
  if (own.path) return new SerialTransport({ path: own.path, log: tlog });
  const mode = options.transport ?? 'pty';
  if (own.tcpPort !== undefined || mode === 'tcp') {
    const base = options.tcpPort ?? 0;
    const port = own.tcpPort ?? (base === 0 ? 0 : base + r.index);
    return new TcpTransport({ host: options.tcpHost ?? '127.0.0.1', port, log: tlog });
  }
  if (mode === 'none') return null;
  return new PtyTransport({
    path: join(ptyDir, r.serial),
    simPath: join(ptyDir, `${r.serial}.sim`),
    log: tlog,
  });
}

async function startTransport(s: SimShelf): Promise<void> {
  if (!s.transport) return;
  await s.transport.start();
  const info: TransportInfo = s.transport.info;
  if (info.kind === 'tcp') {
    s.tcpPort = info.port;
    s.host = info.host;
  } else {
    s.path = info.path;
  }
}

/** Scenario events must name lanes, channels and shelves that exist. */
function checkScenario(scenario: ScenarioFile, shelves: readonly ResolvedShelf[]): void {
  const issues: Issue[] = [];
  scenario.events.forEach((e, i) => {
    const targets = shelves.filter(
      (s) => e.shelf === undefined || e.shelf === s.index || e.shelf === s.serial,
    );
    if (targets.length === 0) issues.push({ path: `events.${i}.shelf`, message: `no shelf ${e.shelf}` });
    for (const s of targets) {
      for (const issue of checkAction(e.action, s.lanes.length, s.channels)) {
        issues.push({ path: `events.${i}.${issue.path}`, message: `${issue.message} (shelf ${s.serial})` });
      }
    }
  });
  if (issues.length > 0) {
    throw new ShelfError(ErrorCodes.INVALID, `invalid scenario: ${formatIssues(issues)}`, issues);
  }
}

function controlTarget(sim: Simulator): ControlTarget {
  const describe = (s: SimShelf) => ({
    serial: s.serial,
    index: s.index,
    firmware: s.firmware,
    channels: s.channels,
    rate: s.engine.rate,
    lanes: s.lanes,
    cells: s.engine.model.cells,
    transport: s.transport?.info ?? null,
    nextSeq: s.engine.nextSeq,
    deviceMs: s.engine.nextDeviceMs,
    // With the temperature model: the true temperature and what the sensor last sent.
    ...(s.engine.temperatureC !== undefined
      ? { temperatureC: round2(s.engine.temperatureC), sensorC: s.engine.sensorC ?? null }
      : {}),
  });
  return {
    listShelves: () => sim.shelves.map(describe),
    describeShelf: (serial) => {
      const s = sim.shelf(serial);
      return {
        ...describe(s),
        truth: s.engine.truth(),
        stats: { ...s.engine.stats, overruns: s.runner.overruns },
      };
    },
    truthOf: (serial, seq) => sim.truth(serial, seq),
    allTruth: () => Object.fromEntries(sim.shelves.map((s) => [s.serial, s.engine.truth()])),
    apply: (serial, action) => sim.apply(serial, action),
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
