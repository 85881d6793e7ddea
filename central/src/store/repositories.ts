/**
 * The store boundary: one interface per table group, and the store the rest of central sees. The
 * SQLite classes beside this file implement them; rules, orders, webhooks and history type against
 * these, so a second implementation (another database) slots in without touching its callers. The
 * contract suites in tests/contract/store pin down the behaviour every implementation must show.
 *
 * Every method is synchronous, as better-sqlite3 is; row and query shapes are plain data.
 */
import type {
  Actor,
  Catalogue,
  EventPayload,
  HealthPayload,
  LevelPayload,
  PurchaseOrderState,
} from '@shelfsense/protocol';
import type { AlertKind, AlertRow, AlertState } from './alerts.js';
import type { AuditEntry, AuditInput, AuditQuery } from './audit.js';
import type {
  CatalogueApplyOptions,
  CatalogueHistoryEntry,
  CatalogueSummary,
  CatalogueVersion,
} from './catalogue.js';
import type { CalibrationRow, EventRow, LevelRow, RangeQuery } from './history.js';
import type { NotificationsRepository } from './notifications.js';
import type { ObservationFilter, ObservationRow } from './observations.js';
import type { NewOrderRow, OrderEventRow, OrderListQuery, OrderRow, OrderUpdate } from './orders.js';
import type {
  DiscrepancyKind,
  DiscrepancyResolution,
  DiscrepancyRow,
  NewPoRow,
  PoEventRow,
  PoLineRow,
  PoListQuery,
  PoNeedRow,
  PoRow,
} from './purchase-orders.js';
import type { AgentMark, CommitResult, SeqGap } from './readings.js';
import type { LaneRef, ReadingInput } from './records.js';
import type { RuleStateWrite } from './rule-state.js';
import type { OutboxEntry, OutboxState, WebhookEvent } from './webhook-outbox.js';

/**
 * Agents' records, committed exactly once per (site, agent, seq), with each agent's stored
 * high-water mark and the sequence gaps the mark stepped over.
 */
export interface ReadingsRepository {
  /**
   * Commits a batch atomically: duplicates dropped, the derived history written, marks advanced.
   * `now` is central's clock (it times the gap timeout).
   */
  commit(batch: readonly ReadingInput[], now?: number): CommitResult;
  /** The agent's mark at a site: every seq up to it is committed or given up (0 before any). */
  mark(site: string, agent: string): number;
  marks(): AgentMark[];
  gaps(site: string, agent: string): SeqGap[];
  /** Deletes raw readings received before `before`; the marks keep deduplicating them. */
  prune(before: number): number;
}

/**
 * What committed readings become: downsampled level history, the newest level per lane, events and
 * calibration records. Written only by ReadingsRepository.commit; queried here, oldest first.
 */
export interface HistoryRepository {
  levels(q: RangeQuery): LevelRow[];
  /** The newest level of each lane matching the query, by site, shelf, lane (time bounds ignored). */
  latest(q?: Partial<LaneRef>): (LaneRef & { level: LevelPayload })[];
  events(q: RangeQuery & { kind?: EventPayload['kind'] }): EventRow[];
  calibrations(q: RangeQuery): CalibrationRow[];
  /** Lane observations, open and cleared records alike. */
  observations(q: RangeQuery & ObservationFilter): ObservationRow[];
  /**
   * Marks the unit-weight proposal recorded as (site, agent, seq) accepted; false when there is no
   * such record or it was accepted already (nothing written).
   */
  acceptProposal(ref: { site: string; agent: string; seq: number }, by: string, at: number): boolean;
  /** Deletes level history, events and observations older than `before`; returns rows deleted. */
  prune(before: number): number;
}

/** One shelf health report, kept whole. */
export interface HealthRecord {
  site: string;
  shelf: string;
  payload: HealthPayload;
}

/** A site or shelf and a report-time range [from, to). */
export type HealthRange = Omit<RangeQuery, 'lane'>;

/** Shelf health reports, one per (site, shelf, report time). */
export interface HealthRepository {
  /** Writes the reports in one transaction (a report with the same key replaces it); returns how many. */
  put(records: readonly HealthRecord[]): number;
  /** Reports matching the range, ordered by time, site, shelf. */
  query(q?: HealthRange): HealthRecord[];
  /** Deletes reports older than `before` (report time); returns how many. */
  prune(before: number): number;
}

/** Alerts: open → acknowledged → cleared (or open → cleared), at most one live per lane and kind. */
export interface AlertsRepository {
  /** Alerts not yet cleared (open or acknowledged). */
  liveCount(): number;
  get(id: string): AlertRow | undefined;
  /** The live alert of a kind on a lane, if any. */
  live(ref: LaneRef, kind: AlertKind): AlertRow | undefined;
  /** Opens an alert unless one of that kind is already live on the lane (then returns that one). */
  open(ref: LaneRef, kind: AlertKind, message: string, ts: number): { alert: AlertRow; created: boolean };
  /** open → acknowledged by `by`; ReplenishmentError TRANSITION from cleared, NOT_FOUND for no such id. */
  acknowledge(id: string, by: Actor, ts: number): AlertRow;
  /** Clears an alert; clearing a cleared one changes nothing (`changed: false`). */
  clear(id: string, ts: number): { alert: AlertRow; changed: boolean };
  /** Clears the live alert of a kind on a lane; null when there was none. */
  clearKind(ref: LaneRef, kind: AlertKind, ts: number): AlertRow | null;
  /** Oldest opened first; `state: 'live'` is open or acknowledged. */
  list(q?: RangeQuery & { state?: AlertState | 'live'; kind?: AlertKind }): AlertRow[];
}

/**
 * Orders and their events, as rows: at most one live (not closed, not cancelled) order per lane.
 * The order service owns the state machine and the transactions.
 */
export interface OrdersRepository {
  /** Inserts a new open order; false when the lane already has a live one (nothing written). */
  insert(row: NewOrderRow): boolean;
  get(id: string): OrderRow | undefined;
  /** The lane's live order, if any. */
  live(ref: LaneRef): OrderRow | undefined;
  /** The lane's newest order, live or not. */
  latest(ref: LaneRef): OrderRow | undefined;
  /** Orders in `received` last changed at or before `ts`, oldest change first. */
  receivedBefore(ts: number): OrderRow[];
  /** Moves an order from `from` to `to` (bumping its version); false when it was no longer in `from`. */
  update(u: OrderUpdate): boolean;
  insertEvent(e: OrderEventRow): void;
  /** The JSON text of every event of an order, oldest first. */
  eventBodies(orderId: string): string[];
  /** How many orders are in each state (states with none are absent). */
  counts(): { state: string; n: number }[];
  /** Oldest created first; `state: 'live'` is neither closed nor cancelled. */
  list(q?: OrderListQuery): OrderRow[];
}

/**
 * Purchase orders as rows: at most one draft per site and supplier, one line per SKU of a PO, and
 * a lane order on one line of one PO, ever. The purchase-order service owns the lifecycle.
 */
export interface PurchaseOrdersRepository {
  /** Inserts a draft; false when the site and supplier already have one (nothing written). */
  insert(row: NewPoRow): boolean;
  get(id: string): PoRow | undefined;
  /** The site and supplier's draft, if any. */
  draft(site: string, supplier: string): PoRow | undefined;
  /** Drafts whose cut-off is at or before `now`, earliest first. */
  dueDrafts(now: number): PoRow[];
  /** The earliest cut-off of any draft (null when none). */
  nextCutoff(): number | null;
  markUrgent(id: string, now: number): void;
  /** Bumps the version of a PO whose lines changed. */
  touch(id: string, now: number): void;
  /** Moves a PO from `from` to `to`, stamping the state's time; false when it was no longer in `from`. */
  move(id: string, from: PurchaseOrderState, to: PurchaseOrderState, now: number): boolean;
  /** Oldest created first. */
  list(q?: PoListQuery): PoRow[];
  line(poId: string, sku: string): PoLineRow | undefined;
  lineById(id: number): PoLineRow | undefined;
  /** By SKU. */
  lines(poId: string): PoLineRow[];
  /** Adds to the PO's line for the SKU (creating it); returns the line's id. */
  addToLine(poId: string, sku: string, quantity: number, manualQuantity: number): number;
  setLineQuantity(id: number, quantity: number): void;
  setLineShipped(id: number, quantity: number | null): void;
  setLineReceived(id: number, quantity: number | null): void;
  setProposal(id: number, p: { quantity: number; note: string | null; by: string; at: number } | null): void;
  /** Puts a lane order on a line; false when it is already on one (nothing written). */
  addNeed(orderId: string, poId: string, lineId: number, now: number): boolean;
  /** Open orders on no PO and never queued for a webhook of their own, oldest first. */
  unattached(limit: number): string[];
  needOf(orderId: string): { poId: string; lineId: number } | undefined;
  /** The PO's lane needs with their orders' figures, by shelf and lane. */
  needs(poId: string): PoNeedRow[];
  insertEvent(e: PoEventRow): void;
  /** The JSON text of every event of a PO, oldest first. */
  eventBodies(poId: string): string[];
  /** Opens a discrepancy; false when the PO's line already has one. */
  openDiscrepancy(d: {
    id: string;
    poId: string;
    sku: string;
    kind: DiscrepancyKind;
    expected: number;
    counted: number;
    now: number;
  }): boolean;
  discrepancy(id: string): DiscrepancyRow | undefined;
  /** Every discrepancy, oldest first. */
  discrepancies(limit: number): DiscrepancyRow[];
  discrepanciesOf(poId: string): DiscrepancyRow[];
  /** Resolves an open discrepancy; false when it was not open. */
  resolveDiscrepancy(
    id: string,
    r: { resolution: DiscrepancyResolution; note: string | null; by: string; now: number },
  ): boolean;
  /** Sent and received times of the site and supplier's delivered POs, newest first. */
  leadTimes(site: string, supplier: string, limit: number): { sentAt: number; receivedAt: number }[];
}

/**
 * The webhook outbox: one entry per order event, claimed under a lease, retried on a stored
 * schedule, dead-lettered after the last attempt. An entry is claimable only when no earlier entry
 * of the same order is pending, so one order's events go out in order.
 */
export interface OutboxRepository {
  /** Adds an event, due now; returns its id. Call inside the transaction that changed the order. */
  enqueue(event: WebhookEvent, now: number): number;
  /** Leases up to `limit` due entries until `now + leaseMs`, counting one attempt each. */
  claimDue(now: number, limit: number, leaseMs: number): OutboxEntry[];
  markDelivered(id: number, status: number, now: number): boolean;
  /** A failed attempt: retried at `nextAttemptAt`, or dead-lettered when that is null. */
  markFailed(
    id: number,
    failure: { status: number | null; error: string },
    nextAttemptAt: number | null,
    now: number,
  ): boolean;
  /** Nobody to send to (the supplier has no webhook). */
  markSkipped(id: number, reason: string, now: number): boolean;
  /** Gives a claimed entry back without counting the attempt. */
  release(id: number, now: number): void;
  /** When the earliest claimable pending entry falls due (null when nothing is pending). */
  nextDueAt(): number | null;
  /** A dead or skipped entry back in the queue with a fresh attempt budget; TRANSITION otherwise. */
  requeue(id: number, now: number): OutboxEntry;
  get(id: number): OutboxEntry | undefined;
  byEvent(eventId: string): OutboxEntry | undefined;
  /** In id order. */
  list(q?: { state?: OutboxState; supplier?: string; orderId?: string; limit?: number }): OutboxEntry[];
  dead(limit?: number): OutboxEntry[];
  counts(): Record<OutboxState, number>;
}

/** The rules' lane state: one serialised document per lane, stored and returned as text. */
export interface RuleStateRepository {
  load(ref: LaneRef): string | undefined;
  /** Writes every given lane in one transaction. */
  saveAll(rows: Iterable<RuleStateWrite>, now: number): void;
}

/**
 * The catalogue, versioned: each apply appends the next version and keeps the old ones. Central
 * polls `version()` to notice a catalogue applied by another process.
 */
export interface CatalogueRepository {
  /** The catalogue in force, or null before the first version. */
  current(): CatalogueVersion | null;
  get(version: number): CatalogueVersion | undefined;
  /** The newest version number (0 before any); cheap. */
  version(): number;
  /**
   * Validates and appends the next version, with the orders it cancels, in one transaction (joining
   * the caller's); returns the new version number. An invalid catalogue throws SHELF_ERR_INVALID.
   */
  apply(
    catalogue: Catalogue,
    actor: string,
    summary: CatalogueSummary,
    options?: CatalogueApplyOptions,
  ): number;
  /** The version in which an object last changed (1 when unchanged since the first). */
  revision(what: string, id: string): number;
  /** The revisions that differ from 1, keyed `what id`. */
  revisions(): Map<string, number>;
  /** The orders cancelled by versions after `version`, oldest version first. */
  cancellationsSince(version: number): { orderId: string; version: number; reason: string }[];
  /** Which version cancelled an order, and why. */
  cancellation(orderId: string): { version: number; reason: string } | undefined;
  /** Newest first, without the catalogues. */
  history(limit?: number): CatalogueHistoryEntry[];
}

/** The audit trail: appended to, read back with filters, never changed. */
export interface AuditRepository {
  /** Appends one row (joining the caller's transaction); returns its sequence number. */
  append(entry: AuditInput): number;
  /** Appends every row in one transaction. */
  appendAll(entries: Iterable<AuditInput>): void;
  /** Newest first. */
  list(q?: AuditQuery): AuditEntry[];
}

/** Every repository of the central store. */
export interface StoreRepositories {
  readonly readings: ReadingsRepository;
  readonly history: HistoryRepository;
  readonly health: HealthRepository;
  readonly alerts: AlertsRepository;
  readonly orders: OrdersRepository;
  readonly purchaseOrders: PurchaseOrdersRepository;
  readonly outbox: OutboxRepository;
  readonly ruleState: RuleStateRepository;
  readonly catalogue: CatalogueRepository;
  readonly audit: AuditRepository;
}

/** The central store as rules, orders, webhooks and history use it. */
export interface CentralStore extends StoreRepositories {
  /** Notification settings, notices and their send queue (the notify part's). */
  readonly notifications: NotificationsRepository;
  /** False once the owner closed it. */
  readonly isOpen: boolean;
  /** Runs `fn` in one transaction across repositories (nested calls join it); a throw rolls it all back. */
  transaction<T>(fn: () => T): T;
}

/**
 * A repository whose methods answer with promises: the shape of a store across a network (the
 * Postgres store), and of the SQLite store behind `AsyncSqliteStore`.
 */
export type AsyncRepository<R> = {
  readonly [K in keyof R]: R[K] extends (...args: infer A) => infer T ? (...args: A) => Promise<T> : R[K];
};

/** Every repository of the central store, answering with promises. */
export type AsyncStoreRepositories = {
  readonly [K in keyof StoreRepositories]: AsyncRepository<StoreRepositories[K]>;
};

/** The central store as workers on any number of machines use it. */
export interface AsyncCentralStore extends AsyncStoreRepositories {
  /** False once the owner closed it. */
  readonly isOpen: boolean;
  /**
   * Runs `fn` in one transaction across repositories: every repository call made from inside `fn`
   * (in its async context) joins it, and a nested call becomes a savepoint. A throw rolls it back.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
