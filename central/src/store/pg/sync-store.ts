/**
 * The Postgres store behind the synchronous CentralStore interface, so the rules, the order
 * service and the webhook worker — written against synchronous repositories — run unchanged in a
 * cluster worker. Each call is carried to a thread of its own holding a PgStore, and the caller
 * waits for the answer (Atomics.wait on a shared flag, then receiveMessageOnPort): one round trip
 * to Postgres blocks the calling thread, which in a worker process handles one batch at a time.
 * Statements are bounded by the store's statement timeout, and every wait by `callTimeoutMs`.
 *
 * A call whose thread does not answer in time, or stops (Postgres restarted under a transaction),
 * fails alone: that thread is dropped, with whatever transaction it held (Postgres rolls it back as
 * the connection goes), and the next call outside a transaction starts a fresh thread and store.
 * Each thread has its own channel and flag, so nothing a dropped thread says reaches a later call.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ShelfError, type ShelfErrorCode } from '@shelfsense/protocol';
import { ReplenishmentError, type ReplenishmentErrorCode, ReplenishmentErrorCodes } from '../errors.js';
import type { CentralStore, StoreRepositories } from '../repositories.js';
import type { PgLeasesRepo } from './leases.js';
import type { PgStoreOptionsInput } from './store.js';
import type { Dead, DeathNote, SyncRequest, SyncResponse, ThreadData, WireError } from './sync-thread.js';

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

/** The thread's flag once it has stopped (sync-thread.ts sets it). */
const DEAD: Dead = -1;

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

/** One thread with its PgStore, and the channel and flag that only it answers on. */
interface StoreThread {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
  /** Its PgStore is open: the first request to a fresh thread opens it. */
  opened: boolean;
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
  private readonly callTimeoutMs: number;
  private readonly pgOptions: PgStoreOptionsInput;
  private thread: StoreThread | null = null;
  /** The thread holding the open transaction: its calls must not go to any other. */
  private txThread: StoreThread | null = null;
  private next = 0;
  private depth = 0;
  private closed = false;

  private constructor(callTimeoutMs: number, pgOptions: PgStoreOptionsInput) {
    this.callTimeoutMs = callTimeoutMs;
    this.pgOptions = pgOptions;
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
    const store = new SyncPgStore(callTimeoutMs, pgOptions);
    try {
      store.ready();
    } catch (err) {
      store.closed = true;
      if (store.thread) store.drop(store.thread);
      throw err;
    }
    return store;
  }

  /** Until `close()`: a call failing meanwhile (Postgres away) leaves the store open. */
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
        // With its thread dropped the whole transaction is gone (its commit fails): keep the cause.
        if (this.thread === this.txThread) this.call({ op: 'rollback-to', name });
        throw err;
      } finally {
        this.depth--;
      }
    }
    this.call({ op: 'begin' });
    const t = this.thread;
    this.txThread = t;
    this.depth = 1;
    try {
      const out = fn();
      this.call({ op: 'commit' });
      return out;
    } catch (err) {
      // Its thread dropped: nothing to roll back (the connection went, and the transaction with it).
      if (this.thread === t) {
        try {
          this.call({ op: 'rollback' });
        } catch {
          // The connection is gone; Postgres rolled the transaction back with it.
        }
      }
      throw err;
    } finally {
      this.depth = 0;
      this.txThread = null;
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      // A thread whose store never opened holds no connection to close.
      if (this.thread?.opened) this.call({ op: 'close' });
    } finally {
      this.closed = true;
      if (this.thread) this.drop(this.thread);
    }
  }

  private call(req: SyncRequest): unknown {
    if (this.closed) throw new ReplenishmentError(ReplenishmentErrorCodes.STORE, 'the store is closed');
    if (this.depth > 0 && (this.txThread === null || this.thread !== this.txThread))
      // Going on in another thread would write outside the transaction, committed on its own.
      throw new ReplenishmentError(
        ReplenishmentErrorCodes.STORE,
        'the transaction was lost with its connection to postgres (rolled back)',
      );
    return this.send(this.ready(), req);
  }

  /** The thread to call, started and its store opened if need be (after one was dropped). */
  private ready(): StoreThread {
    let t = this.thread;
    // Stopped while idle: nothing of this call reached it, so it may go to a fresh one — unless a
    // transaction lives on it, which must fail (send says why).
    if (t && this.depth === 0 && Atomics.load(t.flag, 0) === DEAD) {
      this.drop(t);
      t = null;
    }
    if (!t) {
      t = this.spawn();
      this.thread = t;
    }
    if (!t.opened) {
      this.send(t, { op: 'open', options: this.pgOptions });
      t.opened = true;
    }
    return t;
  }

  private spawn(): StoreThread {
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const data: ThreadData = { port: port2, flag };
    const worker = new Worker(threadScript(), { workerData: data, transferList: [port2] });
    // The thread must not keep the process alive, nor its errors end it: a dead thread shows as
    // a call that fails.
    worker.unref();
    worker.on('error', () => undefined);
    // Ended while no call waited (the caller's loop was free): the next call sees it at once.
    worker.on('exit', () => {
      Atomics.store(flag, 0, DEAD);
    });
    return { worker, port: port1, flag, opened: false };
  }

  /** Forgets a thread for good: whatever it holds or still says is abandoned with it. */
  private drop(t: StoreThread): void {
    if (this.thread === t) this.thread = null;
    Atomics.store(t.flag, 0, DEAD);
    t.port.close();
    t.worker.terminate().catch(() => undefined);
  }

  private send(t: StoreThread, req: SyncRequest): unknown {
    // Positive and wrapping within the flag's Int32; the thread answers in order, one at a time.
    this.next = this.next >= 0x7fff_ffff ? 1 : this.next + 1;
    const id = this.next;
    if (Atomics.load(t.flag, 0) !== DEAD) t.port.postMessage({ id, req });
    const deadline = Date.now() + this.callTimeoutMs;
    for (;;) {
      const done = Atomics.load(t.flag, 0);
      if (done === DEAD) {
        const why = lastWords(t.port);
        this.drop(t);
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.STORE,
          `the postgres store thread stopped${why ? ` (${why})` : ''}; the call failed, the next one reconnects`,
        );
      }
      if (done === id) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(t.flag, 0, done, left) === 'timed-out') {
        // It may answer yet, on its own channel, which is closed with it.
        this.drop(t);
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.STORE,
          `postgres did not answer within ${this.callTimeoutMs} ms; the call failed, the next one reconnects`,
        );
      }
    }
    const m = receiveMessageOnPort(t.port)?.message as { id: number; res: SyncResponse } | undefined;
    if (!m || m.id !== id) {
      this.drop(t);
      throw new ReplenishmentError(ReplenishmentErrorCodes.STORE, 'the store thread lost an answer');
    }
    if (m.res.ok) return m.res.value;
    throw rebuild(m.res.error);
  }
}

/** Why a thread stopped, if it could say. */
function lastWords(port: MessagePort): string | undefined {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const note = m.message as Partial<DeathNote>;
    if (typeof note.dead === 'string') return note.dead;
  }
  return undefined;
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
