/**
 * Central's internals that the tests drive on their own: ingest and the service identity, the
 * Home Assistant and Node-RED parts, the bus's retained announcements, the HTTP router and error
 * helpers, the InfluxDB row mapping, and the errors they throw. Tests only: nothing in any
 * package's src imports this entry.
 */
export { announce } from './bus/bus.js';
export * from './ha/index.js';
export {
  calibrationRow,
  eventRow,
  healthRow,
  latestLevel,
  levelRow,
  pointTime,
  toInfluxPoint,
} from './history/influx-points.js';
export {
  classify,
  parseInfluxDuration,
  retentionDuration,
  rowsOf,
  timeRange,
} from './history/influx-util.js';
export { notFound, unauthenticated } from './http/errors.js';
export { levelPages } from './http/export.js';
export { Router } from './http/router.js';
export { isNodeRedError, NodeRedError, NodeRedErrorCodes } from './nodered/errors.js';
export { type MountedNodeRed, mountNodeRed } from './nodered/mount.js';
export { NodeRedService } from './nodered/service.js';
export { Ingest } from './service/ingest.js';
export { ensureServiceIdentity } from './service/service-identity.js';
