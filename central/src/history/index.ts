export {
  type CalibrationRow,
  checkQuery,
  EventQuery,
  type EventRow,
  HealthQuery,
  type HealthRow,
  type HistoryPoint,
  HistoryQuery,
  type HistoryStore,
  type LatestLevel,
  LatestQuery,
  type LevelRow,
  MAX_ROWS,
  type WriteResult,
} from './contract.js';
export { Downsampler } from './downsample.js';
export { HistoryError, type HistoryErrorCode, HistoryErrorCodes, isHistoryError } from './errors.js';
export { HEALTH_SEVERITY, MEASUREMENTS } from './influx-points.js';
export { type InfluxHistoryOptions, InfluxHistoryStore } from './influx-store.js';
export { registerHistoryMetrics } from './metrics.js';
export { BoundedQueue } from './queue.js';
export {
  HistoryService,
  type HistoryServiceOptions,
  pointsFromReadings,
  type SupplierLookup,
} from './service.js';
export { pruneHealth, SqliteHistoryStore } from './sqlite-store.js';
export {
  HistoryWriter,
  type HistoryWriterCounters,
  type HistoryWriterEvents,
  type HistoryWriterOptions,
} from './writer.js';
