/**
 * What committed readings become, on Postgres (see ../history.ts): a downsampled level history
 * (one row per lane per interval, plus every change of count, stability or state), the newest level
 * per lane, the pick/restock/adjust events and the calibration records.
 *
 * Downsampling reads the last kept row of each lane from the table on every commit rather than
 * remembering it: another process may have written the lane since, and a rolled-back commit leaves
 * nothing behind to forget. The commit holds its agents' mark rows locked, so the lanes of one agent
 * are never downsampled by two commits at once.
 */
import type { CalibrationRecord, EventPayload, LevelPayload, ObservationPayload } from '@shelfsense/protocol';
import type { CalibrationRow, EventRow, LevelRow, RangeQuery } from '../history.js';
import type { ObservationFilter, ObservationRow } from '../observations.js';
import type { LaneRef, ReadingInput } from '../records.js';
import type { AsyncRepository, HistoryRepository } from '../repositories.js';
import type { Param, PgDb, Row } from './db.js';

const MAX_ROWS = 100_000;

export const HISTORY_SCHEMA = `
  -- Downsampled level history: one row per lane per interval, plus every change.
  CREATE TABLE level_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    ts BIGINT NOT NULL,
    units BIGINT NOT NULL,
    grams DOUBLE PRECISION NOT NULL,
    fill DOUBLE PRECISION,
    stable BOOLEAN NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    sku TEXT,
    agent TEXT NOT NULL,
    seq BIGINT NOT NULL
  );
  CREATE INDEX level_history_lane_ts ON level_history (site, shelf, lane, ts);
  CREATE INDEX level_history_ts ON level_history (ts);

  -- The newest level per lane, whatever the downsampling kept.
  CREATE TABLE lane_latest (
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    ts BIGINT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (site, shelf, lane)
  );

  -- Events and calibration records are readings too: one per (site, agent, seq).
  CREATE TABLE events (
    agent TEXT NOT NULL,
    seq BIGINT NOT NULL,
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    kind TEXT NOT NULL,
    delta BIGINT NOT NULL,
    units BIGINT NOT NULL,
    sku TEXT,
    ts BIGINT NOT NULL,
    PRIMARY KEY (site, agent, seq)
  );
  CREATE INDEX events_lane_ts ON events (site, shelf, lane, ts);
  CREATE INDEX events_shelf_ts ON events (site, shelf, ts);
  CREATE INDEX events_ts ON events (ts);

  CREATE TABLE calibrations (
    agent TEXT NOT NULL,
    seq BIGINT NOT NULL,
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    kind TEXT NOT NULL,
    by_user TEXT,
    by_role TEXT,
    ts BIGINT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (site, agent, seq)
  );
  CREATE INDEX calibrations_lane_ts ON calibrations (site, shelf, lane, ts);
`;

/** A newly committed record and its payload as the commit serialised it. */
export interface Committed {
  reading: ReadingInput;
  json: string;
}

interface Kept {
  ts: number;
  units: number;
  stable: boolean;
  state: string;
}

/**
 * node-pg sends a null array element as NULL; `Param` only names arrays without nulls.
 */
const nullable = <T extends string | number>(xs: (T | null)[]): readonly string[] =>
  xs as unknown as readonly string[];

/** `WHERE` clause and parameters for a lane + time-range query, with the limit as last parameter. */
function where(q: RangeQuery & { kind?: string }): { sql: string; params: Param[] } {
  const parts: string[] = [];
  const params: Param[] = [];
  const add = (sql: string, v: Param) => {
    params.push(v);
    parts.push(`${sql} $${params.length}`);
  };
  if (q.site !== undefined) add('site =', q.site);
  if (q.shelf !== undefined) add('shelf =', q.shelf);
  if (q.lane !== undefined) add('lane =', q.lane);
  if (q.from !== undefined) add('ts >=', q.from);
  if (q.to !== undefined) add('ts <', q.to);
  if (q.kind !== undefined) add('kind =', q.kind);
  params.push(Math.max(1, Math.min(q.limit ?? MAX_ROWS, MAX_ROWS)));
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

const laneKey = (r: LaneRef): string => `${r.site}\u0000${r.shelf}\u0000${r.lane}`;

export class PgHistoryRepo implements AsyncRepository<HistoryRepository> {
  constructor(
    private readonly db: PgDb,
    private readonly intervalMs: number,
  ) {}

  /**
   * Writes the derived rows of newly committed records, in their order (called inside the commit,
   * which holds the agents' mark rows locked): at most two statements whatever the batch size.
   */
  async record(committed: readonly Committed[]): Promise<void> {
    const levels: { r: LaneRef; p: LevelPayload; json: string }[] = [];
    const events: { r: LaneRef; p: EventPayload }[] = [];
    const cals: { r: LaneRef; p: CalibrationRecord }[] = [];
    const obs: { r: LaneRef; p: ObservationPayload; json: string }[] = [];
    for (const { reading: r, json } of committed) {
      if (r.kind === 'level') levels.push({ r, p: r.payload, json });
      else if (r.kind === 'event') events.push({ r, p: r.payload });
      else if (r.kind === 'observation') obs.push({ r, p: r.payload, json });
      else cals.push({ r, p: r.payload });
    }
    if (obs.length) await this.recordObservations(obs);
    if (levels.length === 0 && events.length === 0 && cals.length === 0) return;

    const kept = levels.length ? await this.lastKept(levels.map((l) => l.r)) : new Map<string, Kept>();
    const rows = levels.filter((l) => keep(kept, l.r, l.p, this.intervalMs));
    // The newest level per lane: sequential upserts (`ts >=` wins) end at the last of the newest.
    const latest = new Map<string, (typeof levels)[number]>();
    for (const l of levels) {
      const k = laneKey(l.r);
      const cur = latest.get(k);
      if (!cur || l.p.ts >= cur.p.ts) latest.set(k, l);
    }
    // Lanes in a fixed order, so two commits upserting the same lanes cannot deadlock.
    const newest = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);

    await this.db.run(
      `WITH lv AS (
         INSERT INTO level_history
           (site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku, agent, seq)
         SELECT site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku, agent, seq
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[],
           $7::float8[], $8::boolean[], $9::float8[], $10::text[], $11::text[], $12::text[], $13::bigint[])
           WITH ORDINALITY AS t (site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku,
             agent, seq, ord)
         ORDER BY ord
       ), la AS (
         INSERT INTO lane_latest (site, shelf, lane, ts, payload)
         SELECT * FROM unnest($14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[])
         ON CONFLICT (site, shelf, lane) DO UPDATE SET ts = excluded.ts, payload = excluded.payload
           WHERE excluded.ts >= lane_latest.ts
       ), ev AS (
         INSERT INTO events (agent, seq, site, shelf, lane, kind, delta, units, sku, ts)
         SELECT * FROM unnest($19::text[], $20::bigint[], $21::text[], $22::text[], $23::text[],
           $24::text[], $25::bigint[], $26::bigint[], $27::text[], $28::bigint[])
         ON CONFLICT (site, agent, seq) DO NOTHING
       )
       INSERT INTO calibrations (agent, seq, site, shelf, lane, kind, by_user, by_role, ts, record)
       SELECT * FROM unnest($29::text[], $30::bigint[], $31::text[], $32::text[], $33::text[],
         $34::text[], $35::text[], $36::text[], $37::bigint[], $38::text[])
       ON CONFLICT (site, agent, seq) DO NOTHING`,
      [
        rows.map((l) => l.r.site),
        rows.map((l) => l.r.shelf),
        rows.map((l) => l.r.lane),
        rows.map((l) => l.p.ts),
        rows.map((l) => l.p.units),
        rows.map((l) => l.p.grams),
        nullable(rows.map((l) => l.p.fill)),
        rows.map((l) => String(l.p.stable)),
        rows.map((l) => l.p.confidence),
        rows.map((l) => l.p.state),
        nullable(rows.map((l) => l.p.sku)),
        rows.map((l) => l.p.agent),
        rows.map((l) => l.p.seq),

        newest.map((l) => l.r.site),
        newest.map((l) => l.r.shelf),
        newest.map((l) => l.r.lane),
        newest.map((l) => l.p.ts),
        newest.map((l) => l.json),

        events.map((e) => e.p.agent),
        events.map((e) => e.p.seq),
        events.map((e) => e.r.site),
        events.map((e) => e.r.shelf),
        events.map((e) => e.r.lane),
        events.map((e) => e.p.kind),
        events.map((e) => e.p.delta),
        events.map((e) => e.p.units),
        nullable(events.map((e) => e.p.sku)),
        events.map((e) => e.p.ts),

        cals.map((c) => c.p.agent),
        cals.map((c) => c.p.seq),
        cals.map((c) => c.r.site),
        cals.map((c) => c.r.shelf),
        cals.map((c) => c.r.lane),
        cals.map((c) => c.p.kind),
        nullable(cals.map((c) => c.p.by?.user ?? null)),
        nullable(cals.map((c) => c.p.by?.role ?? null)),
        cals.map((c) => c.p.ts),
        cals.map((c) => JSON.stringify(c.p)),
      ],
    );
  }

  /** Observations are rare next to levels: their own statement, only when a batch has some. */
  private async recordObservations(
    obs: { r: LaneRef; p: ObservationPayload; json: string }[],
  ): Promise<void> {
    await this.db.run(
      `INSERT INTO observations (agent, seq, site, shelf, lane, observation, kind, state, grams, ts, payload)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::float8[], $10::bigint[], $11::text[])
       ON CONFLICT (site, agent, seq) DO NOTHING`,
      [
        obs.map((o) => o.p.agent),
        obs.map((o) => o.p.seq),
        obs.map((o) => o.r.site),
        obs.map((o) => o.r.shelf),
        obs.map((o) => o.r.lane),
        obs.map((o) => o.p.observation),
        obs.map((o) => o.p.kind),
        obs.map((o) => o.p.state),
        obs.map((o) => o.p.grams),
        obs.map((o) => o.p.ts),
        obs.map((o) => o.json),
      ],
    );
  }

  /** The newest kept history row of each lane, in one query. */
  private async lastKept(refs: LaneRef[]): Promise<Map<string, Kept>> {
    const lanes = new Map<string, LaneRef>();
    for (const r of refs) lanes.set(laneKey(r), r);
    const list = [...lanes.values()];
    const rows = await this.db.query<LaneRef & Kept & Row>(
      `SELECT t.site, t.shelf, t.lane, h.ts, h.units, h.stable, h.state
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t (site, shelf, lane)
       CROSS JOIN LATERAL (
         SELECT ts, units, stable, state FROM level_history h
         WHERE h.site = t.site AND h.shelf = t.shelf AND h.lane = t.lane
         ORDER BY ts DESC, id DESC LIMIT 1
       ) h`,
      [list.map((r) => r.site), list.map((r) => r.shelf), list.map((r) => r.lane)],
    );
    const out = new Map<string, Kept>();
    for (const r of rows) out.set(laneKey(r), { ts: r.ts, units: r.units, stable: r.stable, state: r.state });
    return out;
  }

  async levels(q: RangeQuery): Promise<LevelRow[]> {
    const w = where(q);
    return this.db.query<LevelRow & Row>(
      `SELECT site, shelf, lane, ts, units, grams, fill, stable, confidence, state, sku, agent, seq
       FROM level_history ${w.sql} ORDER BY ts, id LIMIT $${w.params.length}`,
      w.params,
    );
  }

  /** The newest level of each lane matching the query (time bounds ignored). */
  async latest(q: Partial<LaneRef> = {}): Promise<(LaneRef & { level: LevelPayload })[]> {
    const w = where({ site: q.site, shelf: q.shelf, lane: q.lane });
    const rows = await this.db.query<LaneRef & { payload: string } & Row>(
      `SELECT site, shelf, lane, payload FROM lane_latest ${w.sql}
       ORDER BY site, shelf, lane LIMIT $${w.params.length}`,
      w.params,
    );
    return rows.map((r) => ({
      site: r.site,
      shelf: r.shelf,
      lane: r.lane,
      level: JSON.parse(r.payload) as LevelPayload,
    }));
  }

  async events(q: RangeQuery & { kind?: EventPayload['kind'] }): Promise<EventRow[]> {
    const w = where(q);
    return this.db.query<EventRow & Row>(
      `SELECT agent, seq, site, shelf, lane, kind, delta, units, sku, ts FROM events ${w.sql}
       ORDER BY ts, agent, seq LIMIT $${w.params.length}`,
      w.params,
    );
  }

  async calibrations(q: RangeQuery): Promise<CalibrationRow[]> {
    const w = where(q);
    const rows = await this.db.query<Omit<CalibrationRow, 'record'> & { record: string }>(
      `SELECT agent, seq, site, shelf, lane, kind, ts, record FROM calibrations ${w.sql}
       ORDER BY ts, agent, seq LIMIT $${w.params.length}`,
      w.params,
    );
    return rows.map((r) => ({ ...r, record: JSON.parse(r.record) as CalibrationRecord }));
  }

  async observations(q: RangeQuery & ObservationFilter): Promise<ObservationRow[]> {
    const w = where(q);
    const limit = w.params.pop() as number;
    const parts = w.sql ? [w.sql.replace(/^WHERE /, '')] : [];
    for (const k of ['state', 'observation'] as const) {
      const v = q[k];
      if (v === undefined) continue;
      w.params.push(v);
      parts.push(`${k} = $${w.params.length}`);
    }
    w.params.push(limit);
    const rows = await this.db.query<Omit<ObservationRow, 'payload'> & { payload: string } & Row>(
      `SELECT agent, seq, site, shelf, lane, observation, kind, state, ts, payload,
         accepted_at AS "acceptedAt", accepted_by AS "acceptedBy"
       FROM observations ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''}
       ORDER BY ts, agent, seq LIMIT $${w.params.length}`,
      w.params,
    );
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as ObservationPayload }));
  }

  async acceptProposal(
    ref: { site: string; agent: string; seq: number },
    by: string,
    at: number,
  ): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE observations SET accepted_at = $1, accepted_by = $2
       WHERE site = $3 AND agent = $4 AND seq = $5 AND accepted_at IS NULL`,
      [at, by, ref.site, ref.agent, ref.seq],
    );
    return n === 1;
  }

  /** Deletes level history, events and observations older than `before` (reading time). */
  async prune(before: number): Promise<number> {
    const row = await this.db.one<{ n: number }>(
      `WITH a AS (DELETE FROM level_history WHERE ts < $1 RETURNING 1),
         b AS (DELETE FROM events WHERE ts < $1 RETURNING 1),
         c AS (DELETE FROM observations WHERE ts < $1 RETURNING 1)
       SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) AS n`,
      [before],
    );
    return row?.n ?? 0;
  }
}

/**
 * Keep a level row when the lane changed, or when the interval since the last kept row is up;
 * `kept` is updated as the batch goes, as the SQLite repository's memory is.
 */
function keep(kept: Map<string, Kept>, ref: LaneRef, p: LevelPayload, intervalMs: number): boolean {
  const key = laneKey(ref);
  const last = kept.get(key);
  const changed = !last || last.units !== p.units || last.stable !== p.stable || last.state !== p.state;
  // A late (older) reading is kept only when it differs: it may be the one change we missed.
  const due = last !== undefined && p.ts - last.ts >= intervalMs;
  if (!changed && !due) return false;
  if (!last || p.ts >= last.ts) kept.set(key, { ts: p.ts, units: p.units, stable: p.stable, state: p.state });
  return true;
}
