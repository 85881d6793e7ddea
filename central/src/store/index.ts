export { type AlertKind, type AlertRow, type AlertState, AlertsRepo, alertEvent } from './alerts.js';
export { AsyncSqliteStore } from './async-sqlite.js';
export {
  AUDIT_MAX_LIMIT,
  type AuditEntry,
  type AuditInput,
  type AuditQuery,
  AuditRepo,
} from './audit.js';
export {
  type CatalogueApplyOptions,
  type CatalogueCancellation,
  type CatalogueHistoryEntry,
  type CatalogueObjectRef,
  CatalogueRepo,
  type CatalogueSummary,
  type CatalogueVersion,
} from './catalogue.js';
export { type Db, migrate, openDatabase, schemaVersion } from './database.js';
export {
  isReplenishmentError,
  ReplenishmentError,
  type ReplenishmentErrorCode,
  ReplenishmentErrorCodes,
} from './errors.js';
export { type HealthRange, type HealthRecord, HealthRepo } from './health.js';
export {
  type CalibrationRow,
  type EventRow,
  HistoryRepo,
  type LevelRow,
  type RangeQuery,
} from './history.js';
export { MIGRATIONS, type Migration, SCHEMA_VERSION } from './migrations.js';
export {
  type NewOrderRow,
  type OrderEventRow,
  type OrderListQuery,
  type OrderRow,
  OrdersRepo,
  type OrderUpdate,
} from './orders.js';
export {
  type AgentMark,
  type CommitResult,
  type LaneRef,
  type ReadingInput,
  ReadingsRepo,
  type SeqGap,
} from './readings.js';
export type {
  AlertsRepository,
  AsyncCentralStore,
  AsyncRepository,
  AsyncStoreRepositories,
  AuditRepository,
  CatalogueRepository,
  CentralStore,
  HealthRepository,
  HistoryRepository,
  OrdersRepository,
  OutboxRepository,
  PurchaseOrdersRepository,
  ReadingsRepository,
  RuleStateRepository,
  StoreRepositories,
} from './repositories.js';
export { RuleStateRepo, type RuleStateWrite } from './rule-state.js';
export { Store, StoreOptions, type StoreOptionsInput } from './store.js';
export {
  type OutboxEntry,
  OutboxRepo,
  type OutboxState,
  OutboxStates,
} from './webhook-outbox.js';
