export type {
  AuditActor,
  LoginFailure,
  UserAuditAction,
  UserAuditEvent,
  UserAuditListener,
  UserAuditState,
} from './auth/audit.js';
export * from './auth/errors.js';
export {
  addressKey,
  type LimitReason,
  type LimitVerdict,
  LoginLimiter,
  type LoginLimiterOptions,
} from './auth/login-limiter.js';
export {
  DEFAULT_SCRYPT,
  hashPassword,
  isPasswordHash,
  type ScryptParams,
  verifyPassword,
} from './auth/password.js';
export { SqliteUserRows } from './auth/sqlite-user-rows.js';
export {
  loadTokenSecret,
  looksLikeToken,
  MAX_TOKEN_TTL_MS,
  TOKEN_PREFIX,
  type TokenClaims,
  TokenSigner,
} from './auth/tokens.js';
export type { AsyncUserRows, UserRow, UserRows } from './auth/user-rows.js';
export {
  type Identity,
  type LoginChannel,
  type LoginResult,
  type LoginSource,
  RESET_PREFIX,
  RESET_TTL_MS,
  USERS_FILE,
  type UserRecord,
  UserStore,
  type UserStoreOptions,
} from './auth/user-store.js';
export { canPublish, canRead, canSubscribe, type Principal, readablePatterns } from './mqtt/acl.js';
export { type BoundPorts, MqttBroker, type MqttBrokerOptions } from './mqtt/broker.js';
export { type BrokerCounters, DENY_REASONS, DROP_REASONS } from './mqtt/metrics.js';
export { filterMatches, filtersIntersect, levelsMatch } from './mqtt/topic-filter.js';
