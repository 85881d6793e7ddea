/**
 * The thread behind SyncPgStore: owns a PgStore and answers one request at a time while the
 * calling thread waits on a shared flag. A transaction opened by one request stays open on its own
 * connection until a later request commits or rolls it back. A thread that cannot go on says so
 * through the flag and ends; the caller starts another (sync-store.ts).
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import type { TxHandle } from './db.js';
import { PgStore, type PgStoreOptionsInput } from './store.js';

export type SyncRequest =
  | { op: 'open'; options: PgStoreOptionsInput }
  | { op: 'call'; repo: string; method: string; args: unknown[] }
  | { op: 'begin' | 'commit' | 'rollback' | 'close' }
  | { op: 'savepoint' | 'release' | 'rollback-to'; name: string };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  issues?: unknown[];
  sqlState?: string;
}

export type SyncResponse = { ok: true; value: unknown } | { ok: false; error: WireError };

let store: PgStore | null = null;
let tx: TxHandle | null = null;

async function handle(req: SyncRequest): Promise<unknown> {
  if (req.op === 'open') {
    if (store) throw new Error('the store is already open');
    store = await PgStore.open(req.options);
    return null;
  }
  if (!store) throw new Error('the store is not open');
  const s = store;
  const inTx = <T>(fn: () => Promise<T>) => (tx ? tx.run(fn) : fn());
  switch (req.op) {
    case 'call': {
      const repo = (s as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[
        req.repo
      ];
      const method = repo?.[req.method];
      if (!repo || typeof method !== 'function') throw new Error(`no method ${req.repo}.${req.method}`);
      return inTx(() => method.apply(repo, req.args));
    }
    case 'begin':
      if (tx) throw new Error('a transaction is already open');
      tx = await s.db.begin();
      return null;
    case 'commit':
    case 'rollback': {
      const t = tx;
      tx = null;
      if (!t) throw new Error(`${req.op} without a transaction`);
      await (req.op === 'commit' ? t.commit() : t.rollback());
      return null;
    }
    case 'savepoint':
      return inTx(() => s.db.run(`SAVEPOINT ${req.name}`));
    case 'release':
      return inTx(() => s.db.run(`RELEASE SAVEPOINT ${req.name}`));
    case 'rollback-to':
      return inTx(() => s.db.run(`ROLLBACK TO SAVEPOINT ${req.name}`));
    case 'close':
      await tx?.rollback();
      tx = null;
      await s.close();
      store = null;
      return null;
  }
}

async function answer(req: SyncRequest): Promise<SyncResponse> {
  try {
    return { ok: true, value: await handle(req) };
  } catch (err) {
    const e = err as Error & { code?: unknown; issues?: unknown; sqlState?: unknown };
    const error: WireError = { name: e.name, message: e.message };
    if (typeof e.code === 'string') error.code = e.code;
    if (Array.isArray(e.issues)) error.issues = e.issues;
    if (typeof e.sqlState === 'string') error.sqlState = e.sqlState;
    return { ok: false, error };
  }
}

/** The flag's value once the thread has stopped for good: no answer will come from it. */
export type Dead = -1;
const DEAD: Dead = -1;

export interface ThreadData {
  port: MessagePort;
  /** [0]: the number of the last answered request, which the caller waits on; DEAD once stopped. */
  flag: Int32Array;
}

/** What the thread posts just before it stops, for the caller's error. */
export interface DeathNote {
  id: 0;
  dead: string;
}

const { port, flag } = workerData as ThreadData;

/**
 * A pg client checked out for a transaction has no 'error' listener (the pool listens only to idle
 * ones), so Postgres ending the connection between two requests (a restart) throws here. What the
 * thread holds is then unknown: tell the caller at once rather than after its timeout, and end.
 */
function die(err: unknown): void {
  const note: DeathNote = { id: 0, dead: err instanceof Error ? err.message : String(err) };
  try {
    port.postMessage(note);
  } finally {
    Atomics.store(flag, 0, DEAD);
    Atomics.notify(flag, 0);
    process.exit(1);
  }
}
process.on('uncaughtException', die);
process.on('unhandledRejection', die);

port.on('message', async (m: { id: number; req: SyncRequest }) => {
  const res = await answer(m.req);
  if (Atomics.load(flag, 0) === DEAD) return;
  port.postMessage({ id: m.id, res });
  Atomics.store(flag, 0, m.id);
  Atomics.notify(flag, 0);
});
