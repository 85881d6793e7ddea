/**
 * The Postgres store behind the synchronous CentralStore interface, so the rules, the order
 * service and the webhook worker — written against synchronous repositories — run unchanged in a
 * cluster worker. Each call is carried to a thread of its own holding a PgStore, and the caller
 * waits for the answer (Atomics.wait on a shared flag, then receiveMessageOnPort): one round trip
 * to Postgres blocks the calling thread, which in a worker process handles one batch at a time.
 * Statements are bounded by the store's statement timeout, and every wait by `callTimeoutMs`.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ShelfError, type ShelfErrorCode } from '@shelfsense/protocol';
import { ReplenishmentError, type ReplenishmentErrorCode, ReplenishmentErrorCodes } from '../errors.js';
import type { CentralStore, StoreRepositories } from '../repositories.js';
import type { PgLeasesRepo } from './leases.js';
import type { PgStoreOptionsInput } from './store.js';
import type { SyncRequest, SyncResponse, ThreadData, WireError } from './sync-thread.js';

const REPOSITORIES = [
  'leases',
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
  'notifications',
] as const satisfies readonly (keyof StoreRepositories | 'leases' | 'notifications')[];

const REPLENISHMENT_CODES = new Set<string>(Object.values(ReplenishmentErrorCodes));

/** The thread's compiled script: beside this module in dist/, or in dist/ when run from source. */
function threadScript(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('../../../dist/store/pg/sync-thread.js', here)
    : new URL('./sync-thread.js', here);
}

export interface SyncPgStoreOptions extends Exclude<PgStoreOptionsInput, string> {
  /** The longest one call may wait for the thread (beyond the statement timeout). */
  callTimeoutMs?: number;
}

export class SyncPgStore implements CentralStore {
  readonly readings!: StoreRepositories['readings'];
  readonly history!: StoreRepositories['history'];
  readonly health!: StoreRepositories['health'];
  readonly alerts!: StoreRepositories['alerts'];
  readonly orders!: StoreRepositories['orders'];
  readonly purchaseOrders!: StoreRepositories['purchaseOrders'];
  readonly outbox!: StoreRepositories['outbox'];
  readonly ruleState!: StoreRepositories['ruleState'];
  readonly catalogue!: StoreRepositories['catalogue'];
  readonly audit!: StoreRepositories['audit'];
  readonly notifications!: CentralStore['notifications'];
  readonly leases!: Sync<PgLeasesRepo>;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly callTimeoutMs: number;
  private next = 0;
  private depth = 0;
  private closed = false;

  private constructor(callTimeoutMs: number) {
    this.callTimeoutMs = callTimeoutMs;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: ThreadData = { port: port2, flag: this.flag };
    this.worker = new Worker(threadScript(), { workerData: data, transferList: [port2] });
    // The thread must not keep the process alive, nor its errors end it: a dead thread shows as
    // a call that fails.
    this.worker.unref();
    this.worker.on('error', () => undefined);
    const self = this as unknown as Record<string, unknown>;
    for (const repo of REPOSITORIES) self[repo] = this.repo(repo);
  }

  /** Any repository of the thread's PgStore by its property name, answering synchronously. */
  repo<R>(name: string): Sync<R> {
    return new Proxy(
      {},
      {
        get: (_, method) =>
          typeof method === 'string'
            ? (...args: unknown[]) => this.call({ op: 'call', repo: name, method, args: args.map(wire) })
            : undefined,
      },
    ) as Sync<R>;
  }

  /** Opens the store (creating the schema and migrating as needed); blocks until it is ready. */
  static open(options: SyncPgStoreOptions): SyncPgStore {
    const { callTimeoutMs = 60_000, ...pgOptions } = options;
    const store = new SyncPgStore(callTimeoutMs);
    try {
      store.call({ op: 'open', options: pgOptions });
    } catch (err) {
      store.closed = true;
      void store.worker.terminate();
      throw err;
    }
    return store;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** One transaction on the thread's connection; nested calls are savepoints. */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) {
      const name = `sync_${this.depth}`;
      this.call({ op: 'savepoint', name });
      this.depth++;
      try {
        const out = fn();
        this.call({ op: 'release', name });
        return out;
      } catch (err) {
        this.call({ op: 'rollback-to', name });
        throw err;
      } finally {
        this.depth--;
      }
    }
    this.call({ op: 'begin' });
    this.depth = 1;
    try {
      const out = fn();
      this.call({ op: 'commit' });
      return out;
    } catch (err) {
      try {
        this.call({ op: 'rollback' });
      } catch {
        // The connection is gone; Postgres rolled the transaction back with it.
      }
      throw err;
    } finally {
      this.depth = 0;
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: 'close' });
    } finally {
      this.closed = true;
      void this.worker.terminate();
    }
  }

  private call(req: SyncRequest): unknown {
    if (this.closed) throw new ReplenishmentError(ReplenishmentErrorCodes.STORE, 'the store is closed');
    const id = ++this.next;
    this.port.postMessage({ id, req });
    const deadline = Date.now() + this.callTimeoutMs;
    for (;;) {
      const done = Atomics.load(this.flag, 0);
      if (done >= id) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, done, left) === 'timed-out') {
        // The thread may still answer later; a store that lost track of its answers is unusable.
        this.closed = true;
        void this.worker.terminate();
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.STORE,
          `postgres did not answer within ${this.callTimeoutMs} ms; the store is closed`,
        );
      }
    }
    const m = receiveMessageOnPort(this.port)?.message as { id: number; res: SyncResponse } | undefined;
    if (!m || m.id !== id)
      throw new ReplenishmentError(ReplenishmentErrorCodes.STORE, 'the store thread lost an answer');
    if (m.res.ok) return m.res.value;
    throw rebuild(m.res.error);
  }
}

/** A repository answering with promises, as the calling thread sees it through the thread. */
export type Sync<R> = {
  readonly [K in keyof R]: R[K] extends (...args: infer A) => Promise<infer T> ? (...args: A) => T : never;
};

/** Iterables other than arrays (a Map's values, a generator) do not cross a thread: make arrays. */
function wire(arg: unknown): unknown {
  if (
    arg &&
    typeof arg === 'object' &&
    !Array.isArray(arg) &&
    Symbol.iterator in arg &&
    !(arg instanceof Map)
  ) {
    return Array.from(arg as Iterable<unknown>);
  }
  return arg;
}

function rebuild(e: WireError): Error {
  const issues = (e.issues ?? []) as ConstructorParameters<typeof ShelfError>[2];
  let err: Error;
  if (e.code && REPLENISHMENT_CODES.has(e.code)) {
    err = new ReplenishmentError(e.code as ReplenishmentErrorCode, e.message, issues);
  } else if (e.code?.startsWith('SHELF_ERR_')) {
    err = new ShelfError(e.code as ShelfErrorCode, e.message, issues);
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.sqlState) Object.assign(err, { sqlState: e.sqlState });
  return err;
}
