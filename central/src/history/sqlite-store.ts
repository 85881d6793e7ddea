/**
 * The history contract over the central store: queries go to its history and health repositories;
 * readings are written through the store's commit, which drops duplicates by (site, agent, seq) and
 * derives the history rows in the same transaction (so in the central process, where ingest has
 * already committed every reading, nothing needs writing here but health). Only the store module
 * writes SQL; this adapter maps between the contract and the repositories.
 */

import type { HealthPayload } from '@shelfsense/protocol';
import type { HealthRecord } from '../store/health.js';
import type { ReadingInput } from '../store/readings.js';
import type { CentralStore } from '../store/repositories.js';
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

export class SqliteHistoryStore implements HistoryStore {
  readonly kind = 'sqlite' as const;

  constructor(private readonly store: CentralStore) {}

  /** Its tables are the store's (health_history is in the migrations). */
  async start(): Promise<void> {}

  /** The store file belongs to its owner, who closes it; nothing else is held here. */
  async stop(): Promise<void> {}

  async write(points: readonly HistoryPoint[]): Promise<WriteResult> {
    const readings: ReadingInput[] = [];
    const health: HealthRecord[] = [];
    for (const p of points) {
      if (p.kind === 'health') health.push({ site: p.site, shelf: p.shelf, payload: p.payload });
      else readings.push(p);
    }
    let written = 0;
    this.store.transaction(() => {
      if (readings.length) {
        const r = this.store.readings.commit(readings);
        // A duplicate is already held: it counts as written, like an InfluxDB point written over itself.
        written += r.accepted.length + r.duplicates;
      }
      written += this.store.health.put(health);
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
    return this.store.health.query(c).map((r) => healthRow(r.site, r.shelf, r.payload));
  }
}

/** Deletes health rows older than `before` (report time); levels and events: the history repo's prune. */
export function pruneHealth(store: CentralStore, before: number): number {
  return store.health.prune(before);
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
