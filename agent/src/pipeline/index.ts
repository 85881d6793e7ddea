/**
 * The edge agent's signal pipeline: pure logic, no I/O. Sample frames in, per-lane counts, events
 * and per-channel health out, on the shelf's device clock. See README.md beside this file for the
 * stages and their tuning, and shelf-pipeline.ts for the API.
 */
export {
  type CalibrationChange,
  CalibrationMap,
  calibrateChannels,
  calibrateWithMass,
  learnUnitWeight,
  tare,
  tareChannels,
  type UnitWeightChange,
} from './calibrate.js';
export type { ChannelReading } from './channel.js';
export { DeviceClock, Tick } from './clock.js';
export { confidence, type LaneEvent, type LaneEventKind, type LaneReading } from './count.js';
export { HEALTH_RANK, worstHealth } from './health.js';
export type {
  LaneCalibrationResult,
  PipelineCallbacks,
  ShelfHealth,
  ShelfPipelineInput,
  ShelfPipelineOptions,
} from './options.js';
export { CellFault, GLITCH, RAIL_HIGH, RAIL_LOW } from './reject.js';
export {
  isPipelineError,
  PipelineError,
  type PipelineErrorCode,
  PipelineErrorCodes,
  type Rate,
  type SignalSettings,
  windowsFor,
} from './settings.js';
export { ShelfPipeline } from './shelf-pipeline.js';
