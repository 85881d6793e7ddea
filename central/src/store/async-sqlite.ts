/**
 * The SQLite store behind the asynchronous store interface, so code written for the Postgres store
 * runs on one SQLite file too. One connection serves every caller: a transaction holds it from
 * BEGIN to COMMIT across its awaits, and calls from outside that transaction wait for it rather
 * than slipping into it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  AsyncCentralStore,
  AsyncRepository,
  AsyncStoreRepositories,
  StoreRepositories,
} from './repositories.js';
import type { Store } from './store.js';

const REPOSITORIES = [
  'readings',
  'history',
  'health',
  'alerts',
  'orders',
  'purchaseOrders',
  'outbox',
  'ruleState',
  'catalogue',
  'audit',
] as const satisfies readonly (keyof StoreRepositories)[];

interface TxContext {
  depth: number;
}

export class AsyncSqliteStore implements AsyncCentralStore {
  readonly readings;
  readonly history;
  readonly health;
  readonly alerts;
  readonly orders;
  readonly purchaseOrders;
  readonly outbox;
  readonly ruleState;
  readonly catalogue;
  readonly audit;
  private readonly tx = new AsyncLocalStorage<TxContext>();
  /** The end of the queue of callers waiting for the connection. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly store: Store) {
    const repos = {} as Record<string, unknown>;
    for (const name of REPOSITORIES) repos[name] = this.wrap(store[name]);
    const r = repos as unknown as AsyncStoreRepositories;
    this.readings = r.readings;
    this.history = r.history;
    this.health = r.health;
    this.alerts = r.alerts;
    this.orders = r.orders;
    this.purchaseOrders = r.purchaseOrders;
    this.outbox = r.outbox;
    this.ruleState = r.ruleState;
    this.catalogue = r.catalogue;
    this.audit = r.audit;
  }

  get isOpen(): boolean {
    return this.store.isOpen;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const ctx = this.tx.getStore();
    const db = this.store.db;
    if (ctx) {
      const name = `tx_${ctx.depth + 1}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const out = await this.tx.run({ depth: ctx.depth + 1 }, fn);
        db.exec(`RELEASE ${name}`);
        return out;
      } catch (err) {
        db.exec(`ROLLBACK TO ${name}`);
        db.exec(`RELEASE ${name}`);
        throw err;
      }
    }
    return this.exclusive(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await this.tx.run({ depth: 0 }, fn);
        db.exec('COMMIT');
        return out;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    this.store.close();
  }

  /** Runs `fn` once every caller queued before it is done. */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private wrap<R extends object>(repo: R): AsyncRepository<R> {
    const out = {} as Record<string, unknown>;
    let proto: object | null = repo;
    while (proto && proto !== Object.prototype) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const value = (repo as Record<string, unknown>)[key];
        if (key === 'constructor' || key in out || typeof value !== 'function') continue;
        const method = value as (...args: unknown[]) => unknown;
        out[key] = (...args: unknown[]) => {
          const call = () => method.apply(repo, args);
          // Inside a transaction the call joins it; outside, it waits for the connection.
          return this.tx.getStore() ? Promise.resolve().then(call) : this.exclusive(call);
        };
      }
      proto = Object.getPrototypeOf(proto);
    }
    return out as AsyncRepository<R>;
  }
}
