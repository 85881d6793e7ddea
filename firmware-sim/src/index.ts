/**
 * @shelfsense/firmware-sim: simulated load-cell shelf firmware with a physical model, scenarios,
 * faults and ground truth. Start with `startSimulator()`; the pure parts (model, engine, scenario
 * scheduler, truth index) work without any I/O.
 */
export { ACTION_NAMES, Action, type ActionInput, type ActionName, checkAction } from './actions.js';
export { BUILTIN_NAMES, BUILTINS, type Builtin, loadScenario } from './builtins.js';
export { ControlServer, type ControlTarget } from './control.js';
export {
  type ApplyResult,
  type EngineHooks,
  type EngineOptions,
  type EngineStats,
  ShelfEngine,
} from './engine.js';
export { isSimError, SimError, type SimErrorCode, SimErrorCodes } from './errors.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export {
  DEFAULT_HARNESS,
  eepromImage,
  type McuOptions,
  McuRunner,
  type McuStats,
  type McuType,
  mcuOfElf,
} from './mcu.js';
export { JUNK_VALUES, type LaneState, type Lean, leanForce, ShelfModel, ThermalModel } from './model.js';
export { deriveSeed, Rng } from './rng.js';
export { RealtimePacer, type Runner, ShelfRunner } from './runner.js';
export {
  EventTiming,
  eventsForShelf,
  ScenarioEvent,
  ScenarioFile,
  type ScenarioFileInput,
  Scheduler,
} from './scenario.js';
export {
  type LaneInfo,
  type ShelfOptions,
  type SimShelf,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './simulator.js';
export {
  type Crossing,
  crossings,
  DAY_MS,
  DEFAULT_HOURS,
  HOUR_MS,
  SOAK_CATALOGUE,
  type SoakLane,
  type SoakShelf,
  type SoakSku,
  type SoakWeek,
  type SoakWeekOptions,
  simLabel,
  soakWeek,
  Timeline,
} from './soak.js';
export { CappedClock, type CappedClockOptions } from './soak-clock.js';
export {
  CellSpec,
  DEFAULT_FIRMWARE,
  LaneSpec,
  MODEL_DEFAULTS,
  ModelParams,
  type ResolvedCell,
  type ResolvedLane,
  type ResolvedSensor,
  type ResolvedShelf,
  type ResolvedTemperature,
  resolveShelves,
  SENSOR_DEFAULTS,
  SensorParams,
  ShelfSpec,
  type ShelfSpecInput,
  TEMPERATURE_DEFAULTS,
  TEMPERATURE_PRESET_NAMES,
  TEMPERATURE_PRESETS,
  type TemperatureInput,
  TemperatureParams,
  type TemperaturePreset,
} from './spec.js';
export { PtyTransport } from './transport/pty.js';
export { SerialTransport } from './transport/serial.js';
export { SocatPair } from './transport/socat.js';
export { TcpTransport } from './transport/tcp.js';
export { LineSplitter, Transport, type TransportInfo } from './transport/transport.js';
export {
  GroundTruth,
  loadTruth,
  parseTruth,
  TruthLane,
  TruthLineFault,
  TruthRecord,
  TruthState,
  TruthWriter,
} from './truth.js';
