/**
 * The agent's internals that the tests drive one at a time: pipeline stages, outbox records, the
 * port lister, the state stores, the per-shelf runtime. Tests only: nothing in any package's src
 * imports this entry, and the agent bundle (built from the cli entry) never reaches it.
 */
export { CommandHandler } from './commands.js';
export { RateLimitedLog } from './log.js';
export { BrokerConnector, parseBrokerUrl } from './mqtt-transport.js';
export { outboxError } from './outbox/errors.js';
export { checkRecord, crc32, decodeRecord, encodeRecord, HEADER_BYTES, readHeader } from './outbox/record.js';
export {
  CalibrationMap,
  calibrateChannels,
  calibrateWithMass,
  learnUnitWeight,
  removePoint,
  removePointOnLane,
  tare,
  withResiduals,
} from './pipeline/calibrate.js';
export { DeviceClock, Tick } from './pipeline/clock.js';
export { confidence } from './pipeline/count.js';
export { FreshBlock } from './pipeline/fresh.js';
export { NoiseEstimator, worstHealth } from './pipeline/health.js';
export { CellFault, Rejector } from './pipeline/reject.js';
export { windowsFor } from './pipeline/settings.js';
export { MedianAverage } from './pipeline/smooth.js';
export { StabilityWindow } from './pipeline/stability.js';
export { explains, greatestCommonStep, wholeSteps } from './pipeline/steps.js';
export { ZeroTracker } from './pipeline/zero-track.js';
export { ShelfRuntime } from './shelf.js';
export { LineSplitter } from './source/lines.js';
export { ReadPacer } from './source/pacer.js';
export {
  findPort,
  globToRegExp,
  listSerialPorts,
  mergePorts,
  type PortListDirs,
  portMatches,
} from './source/port-list.js';
export { discoverPort } from './source/serial.js';
export { CountKeeper } from './state/count-keeper.js';
export { LaneCountStore } from './state/lane-counts.js';
