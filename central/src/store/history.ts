/**
 * What the readings become once committed: a downsampled level history (one row per lane per
 * interval, plus every change of count, stability or state), the newest level per lane, the
 * pick/restock/adjust events and the calibration records — each queryable per lane and time range.
 */
import type {
  CalibrationRecord,
  EventPayload,
  LaneState,
  LevelPayload,
  ObservationPayload,
} from '@shelfsense/protocol';
import type { Db } from './database.js';
import type { ObservationFilter, ObservationRow } from './observations.js';
import type { LaneRef, ReadingInput } from './records.js';
import type { HistoryRepository } from './repositories.js';

export interface RangeQuery extends Partial<LaneRef> {
  /** Inclusive lower bound on the reading timestamp (ms). */
  from?: number;
  /** Exclusive upper bound on the reading timestamp (ms). */
  to?: number;
  limit?: number;
}

export interface LevelRow extends LaneRef {
  ts: number;
  units: number;
  grams: number;
  fill: number | null;
  stable: boolean;
  confidence: number;
  state: LaneState;
  sku: string | null;
  agent: string;
  seq: number;
}

export interface EventRow extends LaneRef {
  agent: string;
  seq: number;
  kind: EventPayload['kind'];
  delta: number;
  units: number;
  sku: string | null;
  ts: number;
}

export interface CalibrationRow extends LaneRef {
  agent: string;
  seq: number;
  kind: CalibrationRecord['kind'];
  ts: number;
  record: CalibrationRecord;
}

interface Kept {
  ts: number;
  units: number;
  stable: boolean;
  state: string;
}

const MAX_ROWS = 100_000;

/** `WHERE` clause and parameters for a lane + time-range query. */
function where(q: RangeQuery): { sql: string; params: Record<string, string | number> } {
  const parts: string[] = [];
  const params: Record<string, string | number> = {};
  for (const k of ['site', 'shelf', 'lane'] as const) {
    const v = q[k];
    if (v !== undefined) {
      parts.push(`${k} = @${k}`);
      params[k] = v;
    }
  }
  if (q.from !== undefined) {
    parts.push('ts >= @from');
    params['from'] = q.from;
  }
  if (q.to !== undefined) {
    parts.push('ts < @to');
    params['to'] = q.to;
  }
  params['limit'] = Math.max(1, Math.min(q.limit ?? MAX_ROWS, MAX_ROWS));
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export class HistoryRepo implements HistoryRepository {
  /** Last kept history row per lane (this connection's view; only steers downsampling). */
  private readonly kept = new Map<string, Kept>();
  private readonly q;

  constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
  ) {
    this.q = {
      insertLevel: db.prepare(
        `INSERT INTO level_history
           (site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku, agent, seq)
         VALUES (@site, @shelf, @lane, @ts, @units, @grams, @fill, @stable, @confidence, @state, @sku,
           @agent, @seq)`,
      ),
      lastKept: db.prepare<
        [string, string, string],
        { ts: number; units: number; stable: number; state: string }
      >(
        `SELECT ts, units, stable, state FROM level_history WHERE site = ? AND shelf = ? AND lane = ?
         ORDER BY ts DESC LIMIT 1`,
      ),
      latest: db.prepare(
        `INSERT INTO lane_latest (site, shelf, lane, ts, payload) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (site, shelf, lane) DO UPDATE SET ts = excluded.ts, payload = excluded.payload
         WHERE excluded.ts >= lane_latest.ts`,
      ),
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (agent, seq, site, shelf, lane, kind, delta, units, sku, ts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertObservation: db.prepare(
        `INSERT OR IGNORE INTO observations (agent, seq, site, shelf, lane, observation, kind, state, grams, ts, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      accept: db.prepare(
        `UPDATE observations SET accepted_at = ?, accepted_by = ?
         WHERE site = ? AND agent = ? AND seq = ? AND accepted_at IS NULL`,
      ),
      insertCalibration: db.prepare(
        `INSERT OR IGNORE INTO calibrations (agent, seq, site, shelf, lane, kind, by_user, by_role, ts, record)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
  }

  /**
   * Writes the derived rows of one newly committed record (called inside the commit). `json` is
   * the payload as the commit already serialised it.
   */
  record(r: ReadingInput, json?: string): void {
    const { site, shelf, lane } = r;
    switch (r.kind) {
      case 'level': {
        const p = r.payload;
        this.q.latest.run(site, shelf, lane, p.ts, json ?? JSON.stringify(p));
        if (this.keep(r, p)) {
          this.q.insertLevel.run({
            site,
            shelf,
            lane,
            ts: p.ts,
            units: p.units,
            grams: p.grams,
            fill: p.fill,
            stable: p.stable ? 1 : 0,
            confidence: p.confidence,
            state: p.state,
            sku: p.sku,
            agent: p.agent,
            seq: p.seq,
          });
        }
        return;
      }
      case 'event': {
        const p = r.payload;
        this.q.insertEvent.run(p.agent, p.seq, site, shelf, lane, p.kind, p.delta, p.units, p.sku, p.ts);
        return;
      }
      case 'observation': {
        const p = r.payload;
        this.q.insertObservation.run(
          p.agent,
          p.seq,
          site,
          shelf,
          lane,
          p.observation,
          p.kind,
          p.state,
          p.grams,
          p.ts,
          json ?? JSON.stringify(p),
        );
        return;
      }
      case 'calibration': {
        const p = r.payload;
        this.q.insertCalibration.run(
          p.agent,
          p.seq,
          site,
          shelf,
          lane,
          p.kind,
          p.by?.user ?? null,
          p.by?.role ?? null,
          p.ts,
          JSON.stringify(p),
        );
        return;
      }
    }
  }

  /**
   * Forgets the last kept rows; they are read from the database again when next needed. For a
   * commit that was rolled back (or may still be): the rows it kept may no longer exist.
   */
  forgetKept(): void {
    this.kept.clear();
  }

  /** Keep a level row when the lane changed, or when the interval since the last kept row is up. */
  private keep(ref: LaneRef, p: LevelPayload): boolean {
    const key = `${ref.site}/${ref.shelf}/${ref.lane}`;
    let last = this.kept.get(key);
    if (!last) {
      const row = this.q.lastKept.get(ref.site, ref.shelf, ref.lane);
      if (row) last = { ts: row.ts, units: row.units, stable: row.stable === 1, state: row.state };
    }
    const changed = !last || last.units !== p.units || last.stable !== p.stable || last.state !== p.state;
    // A late (older) reading is kept only when it differs: it may be the one change we missed.
    const due = last !== undefined && p.ts - last.ts >= this.intervalMs;
    if (!changed && !due) return false;
    if (!last || p.ts >= last.ts) {
      this.kept.set(key, { ts: p.ts, units: p.units, stable: p.stable, state: p.state });
    }
    return true;
  }

  levels(q: RangeQuery): LevelRow[] {
    const w = where(q);
    const rows = this.db
      .prepare(
        `SELECT site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku, agent, seq
         FROM level_history ${w.sql} ORDER BY ts, id LIMIT @limit`,
      )
      .all(w.params) as (Omit<LevelRow, 'stable'> & { stable: number })[];
    return rows.map((r) => ({ ...r, stable: r.stable === 1 }));
  }

  /** The newest level of each lane matching the query (time bounds ignored). */
  latest(q: Partial<LaneRef> = {}): (LaneRef & { level: LevelPayload })[] {
    const w = where({ ...q, from: undefined, to: undefined });
    const rows = this.db
      .prepare(
        `SELECT site, shelf, lane, payload FROM lane_latest ${w.sql} ORDER BY site, shelf, lane LIMIT @limit`,
      )
      .all(w.params) as (LaneRef & { payload: string })[];
    return rows.map((r) => ({
      site: r.site,
      shelf: r.shelf,
      lane: r.lane,
      level: JSON.parse(r.payload) as LevelPayload,
    }));
  }

  events(q: RangeQuery & { kind?: EventPayload['kind'] }): EventRow[] {
    const w = where(q);
    let sql = w.sql;
    if (q.kind !== undefined) {
      sql = sql ? `${sql} AND kind = @kind` : 'WHERE kind = @kind';
      w.params['kind'] = q.kind;
    }
    return this.db
      .prepare(
        `SELECT agent, seq, site, shelf, lane, kind, delta, units, sku, ts FROM events ${sql}
         ORDER BY ts, agent, seq LIMIT @limit`,
      )
      .all(w.params) as EventRow[];
  }

  calibrations(q: RangeQuery): CalibrationRow[] {
    const w = where(q);
    const rows = this.db
      .prepare(
        `SELECT agent, seq, site, shelf, lane, kind, ts, record FROM calibrations ${w.sql}
         ORDER BY ts, agent, seq LIMIT @limit`,
      )
      .all(w.params) as (Omit<CalibrationRow, 'record'> & { record: string })[];
    return rows.map((r) => ({ ...r, record: JSON.parse(r.record) as CalibrationRecord }));
  }

  observations(q: RangeQuery & ObservationFilter): ObservationRow[] {
    const w = where(q);
    const extra: string[] = [];
    for (const k of ['kind', 'state', 'observation'] as const) {
      const v = q[k];
      if (v === undefined) continue;
      extra.push(`${k} = @${k}`);
      w.params[k] = v;
    }
    const parts = [w.sql.replace(/^WHERE /, ''), ...extra].filter(Boolean);
    const rows = this.db
      .prepare(
        `SELECT agent, seq, site, shelf, lane, observation, kind, state, ts, payload,
           accepted_at AS acceptedAt, accepted_by AS acceptedBy
         FROM observations ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''}
         ORDER BY ts, agent, seq LIMIT @limit`,
      )
      .all(w.params) as (Omit<ObservationRow, 'payload'> & { payload: string })[];
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as ObservationPayload }));
  }

  acceptProposal(ref: { site: string; agent: string; seq: number }, by: string, at: number): boolean {
    return this.q.accept.run(at, by, ref.site, ref.agent, ref.seq).changes === 1;
  }

  /** Deletes level history, events and observations older than `before` (reading time). */
  prune(before: number): number {
    const a = this.db.prepare('DELETE FROM level_history WHERE ts < ?').run(before).changes;
    const b = this.db.prepare('DELETE FROM events WHERE ts < ?').run(before).changes;
    const c = this.db.prepare('DELETE FROM observations WHERE ts < ?').run(before).changes;
    return a + b + c;
  }
}
