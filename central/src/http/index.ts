export { API_PREFIX, type ApiHandler, createApi, HTTP_REQUESTS_METRIC } from './api.js';
export { authenticate, LOGIN_FAILED } from './auth.js';
export { csvField, csvRow, parseCsv } from './csv.js';
export {
  type ApiDeps,
  type CommandRelay,
  CommandRelayError,
  CommandRelayErrorCodes,
  type LiveStatusSource,
  type SkuInfo,
} from './deps.js';
export { HttpError, type HttpErrorCode, HttpErrorCodes, mapError } from './errors.js';
export { CSV_HEADER } from './export.js';
export { MAX_BODY_BYTES } from './io.js';
export { laneHealth } from './lane-health.js';
export { DEFAULT_OFFLINE_AFTER_MS, type LaneView } from './lane-view.js';
export { LiveState } from './live-state.js';
export { liveOf } from './observations.js';
export { ACTION_ROLES, type Action, may } from './scope.js';
