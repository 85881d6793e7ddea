/**
 * The central store on Postgres: the same repositories as the SQLite store (repositories.ts),
 * answering with promises, for central's parts running as several processes on several machines.
 * Every invariant two processes could race on lives in the schema (primary keys, the one live
 * order per lane partial unique index, row locks), not in a process's memory.
 */
import { Duration, parseWith } from '@shelfsense/protocol';
import { z } from 'zod';
import type { AsyncCentralStore } from '../repositories.js';
import { PgAlertsRepo } from './alerts.js';
import { PgAuditRepo } from './audit.js';
import { PgCatalogueRepo } from './catalogue.js';
import { PgDb } from './db.js';
import { PgHealthRepo } from './health.js';
import { PgHistoryRepo } from './history.js';
import { PgLeasesRepo } from './leases.js';
import { PG_MIGRATIONS } from './migrations.js';
import { PgNotificationsRepo } from './notifications.js';
import { PgOrdersRepo } from './orders.js';
import { PgOutboxRepo } from './outbox.js';
import { PgPurchaseOrdersRepo } from './purchase-orders.js';
import { PgReadingsRepo } from './readings.js';
import { PgRuleStateRepo } from './rule-state.js';
import { PgSecretsRepo, PgUsersRepo } from './users.js';

export const PgStoreOptions = z.strictObject({
  /** `postgres://user:password@host:port/database`. */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  /** The schema holding Shelfsense's tables (created if missing). */
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _, not starting with a digit')
    .default('shelfsense'),
  /** Connections this process keeps open at most. */
  poolSize: z.number().int().min(1).max(200).default(10),
  /** A statement running longer than this is cancelled. */
  statementTimeoutMs: z._default(Duration, 30_000),
  /** Level history keeps one row per lane per this interval, plus every change. */
  historyIntervalMs: z._default(Duration, 60_000),
  /** A hole in an agent's sequence that stood this long while the agent kept sending is stepped over. */
  gapTimeoutMs: z._default(Duration, 60_000),
});
export type PgStoreOptions = z.infer<typeof PgStoreOptions>;
export type PgStoreOptionsInput = z.input<typeof PgStoreOptions>;

export class PgStore implements AsyncCentralStore {
  readonly db: PgDb;
  readonly options: Readonly<PgStoreOptions>;
  readonly history: PgHistoryRepo;
  readonly readings: PgReadingsRepo;
  readonly health: PgHealthRepo;
  readonly alerts: PgAlertsRepo;
  readonly orders: PgOrdersRepo;
  readonly purchaseOrders: PgPurchaseOrdersRepo;
  readonly outbox: PgOutboxRepo;
  readonly ruleState: PgRuleStateRepo;
  readonly catalogue: PgCatalogueRepo;
  readonly audit: PgAuditRepo;
  /** Notification settings, notices and their send queue. */
  readonly notifications: PgNotificationsRepo;
  /** The workers' partition leases (cluster only). */
  readonly leases: PgLeasesRepo;
  /** The web nodes' users (a UserStore's rows) and shared secrets (cluster only). */
  readonly users: PgUsersRepo;
  readonly secrets: PgSecretsRepo;

  private constructor(db: PgDb, options: PgStoreOptions) {
    this.db = db;
    this.options = options;
    this.history = new PgHistoryRepo(db, options.historyIntervalMs);
    this.readings = new PgReadingsRepo(db, this.history, options.gapTimeoutMs);
    this.health = new PgHealthRepo(db);
    this.alerts = new PgAlertsRepo(db);
    this.orders = new PgOrdersRepo(db);
    this.purchaseOrders = new PgPurchaseOrdersRepo(db);
    this.outbox = new PgOutboxRepo(db);
    this.ruleState = new PgRuleStateRepo(db);
    this.catalogue = new PgCatalogueRepo(db);
    this.audit = new PgAuditRepo(db);
    this.notifications = new PgNotificationsRepo(db);
    this.leases = new PgLeasesRepo(db);
    this.users = new PgUsersRepo(db);
    this.secrets = new PgSecretsRepo(db);
  }

  /** Connects, creating the schema and applying migrations as needed. */
  static async open(input: PgStoreOptionsInput | string): Promise<PgStore> {
    const options = parseWith(
      PgStoreOptions,
      typeof input === 'string' ? { url: input } : input,
      'postgres store options',
    );
    const db = new PgDb(options);
    try {
      await db.migrate(PG_MIGRATIONS);
    } catch (err) {
      await db.end();
      throw err;
    }
    return new PgStore(db, options);
  }

  get isOpen(): boolean {
    return !this.db.closed;
  }

  get schemaVersion(): Promise<number> {
    return this.db.version();
  }

  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async close(): Promise<void> {
    await this.db.end();
  }
}
