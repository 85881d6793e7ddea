/**
 * The central store: one SQLite file (WAL) holding readings, marks, history, events, calibration
 * records, health reports, alerts, orders, the webhook outbox, the rules' lane state and the
 * catalogue's versions. Several connections — in one process or in several — may open the same
 * file; every write is an IMMEDIATE transaction. It implements CentralStore (repositories.ts),
 * which is all the rest of central uses; `db` is here for the owner and the tests, and stays
 * inside this module.
 */
import { Duration, parseWith } from '@shelfsense/protocol';
import { z } from 'zod';
import { AlertsRepo } from './alerts.js';
import { AuditRepo } from './audit.js';
import { CatalogueRepo } from './catalogue.js';
import { type Db, openDatabase, schemaVersion } from './database.js';
import { HealthRepo } from './health.js';
import { HistoryRepo } from './history.js';
import { NotificationsRepo } from './notifications.js';
import { OrdersRepo } from './orders.js';
import { PurchaseOrdersRepo } from './purchase-orders.js';
import { ReadingsRepo } from './readings.js';
import type { CentralStore } from './repositories.js';
import { RuleStateRepo } from './rule-state.js';
import { OutboxRepo } from './webhook-outbox.js';

export const StoreOptions = z.strictObject({
  /** The database file (`:memory:` for a throwaway store). */
  file: z.string().min(1),
  /** Level history keeps one row per lane per this interval, plus every change. */
  historyIntervalMs: z._default(Duration, 60_000),
  /** A hole in an agent's sequence that stood this long while the agent kept sending is stepped over. */
  gapTimeoutMs: z._default(Duration, 60_000),
  busyTimeoutMs: z._default(Duration, 5_000),
  synchronous: z.enum(['normal', 'full']).default('normal'),
  /** SQLite page cache per connection, MB. */
  cacheSizeMb: z.number().positive().max(4_096).default(16),
  /** WAL pages between automatic checkpoints (larger: faster small commits, a bigger WAL file). */
  walAutocheckpointPages: z.number().int().min(100).max(1_000_000).default(10_000),
});
export type StoreOptions = z.infer<typeof StoreOptions>;
export type StoreOptionsInput = z.input<typeof StoreOptions>;

export class Store implements CentralStore {
  readonly db: Db;
  readonly options: Readonly<StoreOptions>;
  readonly history: HistoryRepo;
  readonly readings: ReadingsRepo;
  readonly health: HealthRepo;
  readonly alerts: AlertsRepo;
  readonly orders: OrdersRepo;
  readonly purchaseOrders: PurchaseOrdersRepo;
  readonly outbox: OutboxRepo;
  readonly ruleState: RuleStateRepo;
  readonly catalogue: CatalogueRepo;
  readonly audit: AuditRepo;
  readonly notifications: NotificationsRepo;
  private closed = false;

  private constructor(db: Db, options: StoreOptions) {
    this.db = db;
    this.options = options;
    this.history = new HistoryRepo(db, options.historyIntervalMs);
    this.readings = new ReadingsRepo(db, this.history, options.gapTimeoutMs);
    this.health = new HealthRepo(db);
    this.alerts = new AlertsRepo(db);
    this.orders = new OrdersRepo(db);
    this.purchaseOrders = new PurchaseOrdersRepo(db);
    this.outbox = new OutboxRepo(db);
    this.ruleState = new RuleStateRepo(db);
    this.catalogue = new CatalogueRepo(db);
    this.audit = new AuditRepo(db);
    this.notifications = new NotificationsRepo(db);
  }

  /** Opens (creating and migrating if needed) the store file. */
  static open(input: StoreOptionsInput | string): Store {
    const options = parseWith(
      StoreOptions,
      typeof input === 'string' ? { file: input } : input,
      'store options',
    );
    const db = openDatabase(options.file, {
      busyTimeoutMs: options.busyTimeoutMs,
      synchronous: options.synchronous,
      cacheSizeMb: options.cacheSizeMb,
      walAutocheckpointPages: options.walAutocheckpointPages,
    });
    return new Store(db, options);
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** How many orders are in each state (states with none are absent). */
  orderCounts(): { state: string; n: number }[] {
    return this.orders.counts();
  }

  /** Runs `fn` in one IMMEDIATE transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Folds the WAL back into the main file; cheap when little was written. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
