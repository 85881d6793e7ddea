/**
 * History for the central process: the store the API and charts query, and the one writer that
 * feeds it — a HistoryWriter behind the history contract, whichever the store.
 *
 * With InfluxDB the writer takes ingest's committed readings and the shelves' health reports. With
 * SQLite it takes health only: the readings already are the history, committed by ingest together
 * with their level, event and calibration rows in one transaction; writing them again would only
 * count duplicates.
 *
 *   const history = new HistoryService({ config: c.history, store, supplierOf, log });
 *   await history.start();
 *   ingest.on('committed', history.onCommitted);   // fire-and-forget, never blocks ingest
 *   … await history.stop();
 */
import {
  childLogger,
  type HealthPayload,
  type HistoryConfig,
  InfluxHistoryConfig,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { ReadingInput } from '../store/readings.js';
import type { CentralStore } from '../store/repositories.js';
import type { HistoryPoint, HistoryStore } from './contract.js';
import { InfluxHistoryStore } from './influx-store.js';
import { SqliteHistoryStore } from './sqlite-store.js';
import { HistoryWriter, type HistoryWriterOptions } from './writer.js';

/** The supplier owning the SKU on a lane (ShelfMap.supplierOf), for the `supplier` tag. */
export type SupplierLookup = (site: string, shelf: string, lane: string) => string | undefined;

export interface HistoryServiceOptions {
  config: Readonly<HistoryConfig>;
  /** The central store (the history itself when config.store is `sqlite`). */
  store: CentralStore;
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
  // Observations are no history points: the central store keeps them.
  return readings.flatMap((r): HistoryPoint[] => {
    if (r.kind === 'observation') return [];
    if (r.kind === 'calibration') return [r];
    return [{ ...r, supplier: supplierOf?.(r.site, r.shelf, r.lane) ?? null }];
  });
}

type WriterBatching = Pick<
  HistoryWriterOptions,
  'batchSize' | 'flushMs' | 'bufferLimit' | 'retry' | 'stopTimeoutMs'
>;

function batching(c: InfluxHistoryConfig): WriterBatching {
  const { batchSize, flushMs, bufferLimit, retry, stopTimeoutMs } = c;
  return { batchSize, flushMs, bufferLimit, retry, stopTimeoutMs };
}

/**
 * The SQLite writer's batching: the config's writer defaults (declared once, in its schema). They
 * are not read from `influx:`, which configures InfluxDB only.
 */
const SQLITE_BATCHING: WriterBatching = batching(InfluxHistoryConfig.parse({}));

export class HistoryService {
  readonly store: HistoryStore;
  /** The one write path into `store`. */
  readonly writer: HistoryWriter;
  private readonly log: Logger;
  private readonly supplierOf: SupplierLookup | undefined;

  constructor(o: HistoryServiceOptions) {
    this.log = childLogger(o.log, 'history');
    this.supplierOf = o.supplierOf;
    this.store =
      o.config.store === 'influx'
        ? new InfluxHistoryStore({ config: o.config.influx, log: this.log })
        : new SqliteHistoryStore(o.store);
    this.writer = new HistoryWriter({
      store: this.store,
      ...(o.config.store === 'influx' ? batching(o.config.influx) : SQLITE_BATCHING),
      log: this.log,
      ...(o.random ? { random: o.random } : {}),
    });
  }

  async start(): Promise<void> {
    await this.store.start();
    this.writer.start();
  }

  /** Writes what waits (within the writer's stop timeout), then closes the store. */
  async stop(): Promise<void> {
    await this.writer.stop();
    await this.store.stop();
  }

  /** For ingest's 'committed' event: returns at once. */
  readonly onCommitted = (readings: readonly ReadingInput[]): void => {
    // SQLite: ingest's commit wrote these and their history rows in one transaction; not again here.
    if (this.store.kind === 'sqlite') return;
    try {
      this.writer.enqueue(pointsFromReadings(readings, this.supplierOf));
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'history could not take a batch');
    }
  };

  /** For each shelf health report ingest receives: returns at once. */
  readonly onHealth = (site: string, shelf: string, payload: HealthPayload): void => {
    this.writer.enqueue([{ kind: 'health', site, shelf, payload }]);
  };
}
