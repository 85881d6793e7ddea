/**
 * What a store contract suite asks of the implementation under test: a fresh, empty repository
 * per test, a second connection to the same data (what a second central process on the same
 * database has), and a way to release both.
 *
 * The suites await every repository call: the SQLite repositories answer at once, and the same
 * suites then hold for an implementation whose methods return promises.
 */
import type { AsyncCentralStore, AsyncRepository } from '@shelfsense/central/store';

export interface StoreFactoryOptions {
  /** Level history keeps one row per lane per this interval, plus every change. */
  historyIntervalMs?: number;
  /** A hole in an agent's sequence standing this long while it keeps sending is stepped over. */
  gapTimeoutMs?: number;
}

export interface Opened<R> {
  repo: AsyncRepository<R>;
  /** Another connection to the same data; `close()` closes it too. */
  connect(): Promise<AsyncRepository<R>>;
  close(): Promise<void>;
}

export type RepoFactory<R, Extra = unknown> = (o?: StoreFactoryOptions) => Promise<Opened<R> & Extra>;

/** A whole store, for the runner of one implementation (see store.contract.ts). */
export interface OpenedStore {
  store: AsyncCentralStore;
  /** Another connection to the same data; `close()` closes it too. */
  connect(): Promise<AsyncCentralStore>;
  close(): Promise<void>;
}

export type StoreFactory = (o?: StoreFactoryOptions) => Promise<OpenedStore>;

export const T0 = 1_700_000_000_000;
