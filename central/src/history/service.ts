/**
 * History for the central process: the store the API and charts query, and — for InfluxDB — the
 * writer fed from ingest. With SQLite the readings are already in the history when ingest's commit
 * returns (same transaction), so only health is written here.
 *
 *   const history = new HistoryService({ config: c.history, store, supplierOf, log });
 *   await history.start();
 *   ingest.on('committed', history.onCommitted);   // fire-and-forget, never blocks ingest
 *   … await history.stop();
 */
import type { HealthPayload, HistoryConfig } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { ReadingInput } from '../store/readings.js';
import type { Store } from '../store/store.js';
import type { HistoryPoint, HistoryStore } from './contract.js';
import { InfluxHistoryStore } from './influx-store.js';
import { SqliteHistoryStore } from './sqlite-store.js';
import { HistoryWriter } from './writer.js';

/** The supplier owning the SKU on a lane (ShelfMap.supplierOf), for the `supplier` tag. */
export type SupplierLookup = (site: string, shelf: string, lane: string) => string | undefined;

export interface HistoryServiceOptions {
  config: Readonly<HistoryConfig>;
  /** The central SQLite store (the history itself when config.store is `sqlite`). */
  store: Store;
  supplierOf?: SupplierLookup;
  log: Logger;
  /** 0..1 for the writer's retry jitter (seeded in tests). */
  random?: () => number;
}

/** Ingest's committed readings as history points, each tagged with its lane's supplier. */
export function pointsFromReadings(
  readings: readonly ReadingInput[],
  supplierOf?: SupplierLookup,
): HistoryPoint[] {
  return readings.map((r): HistoryPoint => {
    if (r.kind === 'calibration') return r;
    return { ...r, supplier: supplierOf?.(r.site, r.shelf, r.lane) ?? null };
  });
}

export class HistoryService {
  readonly store: HistoryStore;
  readonly writer: HistoryWriter | null;
  private readonly log: Logger;
  private readonly supplierOf: SupplierLookup | undefined;

  constructor(o: HistoryServiceOptions) {
    this.log = childLogger(o.log, 'history');
    this.supplierOf = o.supplierOf;
    if (o.config.store === 'influx') {
      const c = o.config.influx;
      this.store = new InfluxHistoryStore({ config: c, log: this.log });
      this.writer = new HistoryWriter({
        store: this.store,
        batchSize: c.batchSize,
        flushMs: c.flushMs,
        bufferLimit: c.bufferLimit,
        retry: c.retry,
        stopTimeoutMs: c.stopTimeoutMs,
        log: this.log,
        ...(o.random ? { random: o.random } : {}),
      });
    } else {
      this.store = new SqliteHistoryStore(o.store);
      this.writer = null;
    }
  }

  async start(): Promise<void> {
    await this.store.start();
    this.writer?.start();
  }

  /** Writes what waits (within the writer's stop timeout), then closes the store. */
  async stop(): Promise<void> {
    await this.writer?.stop();
    await this.store.stop();
  }

  /** For ingest's 'committed' event: returns at once. */
  readonly onCommitted = (readings: readonly ReadingInput[]): void => {
    if (!this.writer) return; // SQLite: the commit wrote the history already
    try {
      this.writer.enqueue(pointsFromReadings(readings, this.supplierOf));
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'history could not take a batch');
    }
  };

  /** For each shelf health report ingest receives: returns at once. */
  readonly onHealth = (site: string, shelf: string, payload: HealthPayload): void => {
    const point: HistoryPoint = { kind: 'health', site, shelf, payload };
    if (this.writer) {
      this.writer.enqueue([point]);
      return;
    }
    this.store.write([point]).catch((err: Error) => {
      this.log.warn({ err: err.message, site, shelf }, 'health history not written');
    });
  };
}
