/**
 * The history contract over the central SQLite store: queries go to the existing HistoryRepo;
 * readings are written through the store's commit, which drops duplicates by (site, agent, seq) and
 * derives the history rows in the same transaction (so in the central process, where ingest has
 * already committed every reading, nothing needs writing here but health).
 *
 * Health has no table in the store's migrations, so this adapter keeps its own `health_history`
 * table in the same file, created if absent (one row per shelf and report time).
 */
import type { HealthPayload } from '@shelfsense/protocol';
import type { ReadingInput } from '../store/readings.js';
import type { Store } from '../store/store.js';
import {
  type CalibrationRow,
  checkQuery,
  EventQuery,
  type EventRow,
  HealthQuery,
  type HealthRow,
  type HistoryPoint,
  HistoryQuery,
  type HistoryStore,
  type LatestLevel,
  LatestQuery,
  type LevelRow,
  type WriteResult,
} from './contract.js';

interface HealthDbRow {
  site: string;
  shelf: string;
  payload: string;
}

export class SqliteHistoryStore implements HistoryStore {
  readonly kind = 'sqlite' as const;

  constructor(private readonly store: Store) {}

  /** Its tables are the store's (health_history is in the migrations). */
  async start(): Promise<void> {}

  /** The store file belongs to its owner, who closes it; nothing else is held here. */
  async stop(): Promise<void> {}

  async write(points: readonly HistoryPoint[]): Promise<WriteResult> {
    const readings: ReadingInput[] = [];
    const health: (HistoryPoint & { kind: 'health' })[] = [];
    for (const p of points) {
      if (p.kind === 'health') health.push(p);
      else readings.push(p);
    }
    let written = 0;
    this.store.transaction(() => {
      if (readings.length) {
        const r = this.store.readings.commit(readings);
        // A duplicate is already held: it counts as written, like an InfluxDB point written over itself.
        written += r.accepted.length + r.duplicates;
      }
      if (health.length) {
        const put = this.store.db.prepare(
          `INSERT OR REPLACE INTO health_history (site, shelf, ts, agent, status, payload)
           VALUES (?, ?, ?, ?, ?, ?)`,
        );
        for (const h of health) {
          put.run(
            h.site,
            h.shelf,
            h.payload.ts,
            h.payload.agent,
            h.payload.status,
            JSON.stringify(h.payload),
          );
          written++;
        }
      }
    });
    return { written, rejected: 0 };
  }

  async levels(q: HistoryQuery = {}): Promise<LevelRow[]> {
    return this.store.history.levels(checkQuery(HistoryQuery, q));
  }

  async events(q: EventQuery = {}): Promise<EventRow[]> {
    return this.store.history.events(checkQuery(EventQuery, q));
  }

  async calibrations(q: HistoryQuery = {}): Promise<CalibrationRow[]> {
    return this.store.history.calibrations(checkQuery(HistoryQuery, q));
  }

  async latest(q: LatestQuery = {}): Promise<LatestLevel[]> {
    const { limit: _limit, ...ref } = checkQuery(LatestQuery, q);
    return this.store.history.latest(ref);
  }

  async health(q: HealthQuery = {}): Promise<HealthRow[]> {
    const c = checkQuery(HealthQuery, q);
    const parts: string[] = [];
    const params: Record<string, string | number> = { limit: c.limit };
    if (c.site !== undefined) {
      parts.push('site = @site');
      params['site'] = c.site;
    }
    if (c.shelf !== undefined) {
      parts.push('shelf = @shelf');
      params['shelf'] = c.shelf;
    }
    if (c.from !== undefined) {
      parts.push('ts >= @from');
      params['from'] = c.from;
    }
    if (c.to !== undefined) {
      parts.push('ts < @to');
      params['to'] = c.to;
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const rows = this.store.db
      .prepare(
        `SELECT site, shelf, payload FROM health_history ${where} ORDER BY ts, site, shelf LIMIT @limit`,
      )
      .all(params) as HealthDbRow[];
    return rows.map((r) => healthRow(r.site, r.shelf, JSON.parse(r.payload) as HealthPayload));
  }
}

/** Deletes health rows older than `before` (report time); levels and events: HistoryRepo.prune. */
export function pruneHealth(store: Store, before: number): number {
  return store.db.prepare('DELETE FROM health_history WHERE ts < ?').run(before).changes;
}

export function healthRow(site: string, shelf: string, p: HealthPayload): HealthRow {
  return {
    site,
    shelf,
    agent: p.agent,
    serial: p.serial,
    status: p.status,
    channels: p.channels,
    rejects: p.rejects,
    ts: p.ts,
  };
}
