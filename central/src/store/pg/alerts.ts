/**
 * Alerts on Postgres (see ../alerts.ts): open → acknowledged → cleared (or open → cleared). The
 * partial unique index keeps at most one live alert of a kind per lane, so two processes that see
 * the same condition at once open one alert between them.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from '@shelfsense/protocol';
import type { AlertKind, AlertRow, AlertState } from '../alerts.js';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../errors.js';
import type { RangeQuery } from '../history.js';
import type { LaneRef } from '../records.js';
import type { AlertsRepository, AsyncRepository } from '../repositories.js';
import type { Param, PgDb, Row } from './db.js';

export const ALERTS_SCHEMA = `
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('stock-out', 'offline', 'sensor-fault', 'anomaly')),
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
    message TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    cleared_at BIGINT
  );
  -- One live alert of each kind per lane.
  CREATE UNIQUE INDEX alerts_one_live ON alerts (site, shelf, lane, kind) WHERE state <> 'cleared';
  CREATE INDEX alerts_lane_opened ON alerts (site, shelf, lane, opened_at);
  CREATE INDEX alerts_state ON alerts (state, opened_at);
`;

type Rec = AlertRow & Row;

const COLUMNS = `id, kind, site, shelf, lane, state, message, opened_at AS "openedAt", updated_at AS "updatedAt",
  acknowledged_at AS "acknowledgedAt", acknowledged_by AS "acknowledgedBy", cleared_at AS "clearedAt"`;

/** Times an open retries when the live alert it collided with was cleared before it could read it. */
const OPEN_TRIES = 3;

export class PgAlertsRepo implements AsyncRepository<AlertsRepository> {
  constructor(private readonly db: PgDb) {}

  async liveCount(): Promise<number> {
    const row = await this.db.one<{ n: number }>(`SELECT count(*) AS n FROM alerts WHERE state <> 'cleared'`);
    return row?.n ?? 0;
  }

  get(id: string): Promise<AlertRow | undefined> {
    return this.db.one<Rec>(`SELECT ${COLUMNS} FROM alerts WHERE id = $1`, [id]);
  }

  live(ref: LaneRef, kind: AlertKind): Promise<AlertRow | undefined> {
    return this.db.one<Rec>(
      `SELECT ${COLUMNS} FROM alerts WHERE site = $1 AND shelf = $2 AND lane = $3 AND kind = $4
       AND state <> 'cleared'`,
      [ref.site, ref.shelf, ref.lane, kind],
    );
  }

  open(
    ref: LaneRef,
    kind: AlertKind,
    message: string,
    ts: number,
  ): Promise<{ alert: AlertRow; created: boolean }> {
    return this.db.transaction(async () => {
      for (let i = 0; ; i++) {
        // The index decides, not a read before the write: a concurrent insert of the same live
        // alert makes this one wait for it and then do nothing.
        const inserted = await this.db.one<Rec>(
          `INSERT INTO alerts (id, kind, site, shelf, lane, state, message, opened_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $7)
           ON CONFLICT (site, shelf, lane, kind) WHERE state <> 'cleared' DO NOTHING
           RETURNING ${COLUMNS}`,
          [`alr_${randomUUID()}`, kind, ref.site, ref.shelf, ref.lane, message.slice(0, 500), ts],
        );
        if (inserted) return { alert: inserted, created: true };
        const existing = await this.live(ref, kind);
        if (existing) return { alert: existing, created: false };
        // Cleared by another process between the two statements: the lane is free again.
        if (i + 1 >= OPEN_TRIES) {
          throw new ReplenishmentError(
            ReplenishmentErrorCodes.CONFLICT,
            `the live ${kind} alert of ${ref.site}/${ref.shelf}/${ref.lane} kept changing`,
          );
        }
      }
    });
  }

  acknowledge(id: string, by: Actor, ts: number): Promise<AlertRow> {
    return this.db.transaction(async () => {
      // Locked, so a concurrent clear or acknowledgement waits and this check holds until the write.
      const a = await this.require(id, true);
      if (a.state === 'acknowledged') return a;
      if (a.state !== 'open') {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.TRANSITION,
          `alert ${id} is ${a.state}; only an open alert can be acknowledged`,
          [{ path: 'state', message: `cannot go from ${a.state} to acknowledged` }],
        );
      }
      await this.db.run(
        `UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, updated_at = $1
         WHERE id = $3 AND state = 'open'`,
        [ts, by.user, id],
      );
      return this.require(id);
    });
  }

  clear(id: string, ts: number): Promise<{ alert: AlertRow; changed: boolean }> {
    return this.db.transaction(async () => {
      const changed =
        (await this.db.run(
          `UPDATE alerts SET state = 'cleared', cleared_at = $1, updated_at = $1 WHERE id = $2 AND state <> 'cleared'`,
          [ts, id],
        )) === 1;
      return { alert: await this.require(id), changed };
    });
  }

  async clearKind(ref: LaneRef, kind: AlertKind, ts: number): Promise<AlertRow | null> {
    const a = await this.live(ref, kind);
    if (!a) return null;
    const r = await this.clear(a.id, ts);
    return r.changed ? r.alert : null;
  }

  list(q: RangeQuery & { state?: AlertState | 'live'; kind?: AlertKind } = {}): Promise<AlertRow[]> {
    const parts: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param) => {
      params.push(v);
      parts.push(sql.replace('?', `$${params.length}`));
    };
    for (const k of ['site', 'shelf', 'lane', 'kind'] as const) {
      const v = q[k];
      if (v !== undefined) add(`${k} = ?`, v);
    }
    if (q.state === 'live') parts.push(`state <> 'cleared'`);
    else if (q.state !== undefined) add('state = ?', q.state);
    if (q.from !== undefined) add('opened_at >= ?', q.from);
    if (q.to !== undefined) add('opened_at < ?', q.to);
    params.push(Math.max(1, Math.min(q.limit ?? 10_000, 100_000)));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    // Ids compare bytewise, as SQLite's BINARY collation does, whatever the database's locale.
    return this.db.query<Rec>(
      `SELECT ${COLUMNS} FROM alerts ${w} ORDER BY opened_at, id COLLATE "C" LIMIT $${params.length}`,
      params,
    );
  }

  private async require(id: string, forUpdate = false): Promise<AlertRow> {
    const a = await this.db.one<Rec>(
      `SELECT ${COLUMNS} FROM alerts WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    if (!a) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no alert ${id}`);
    return a;
  }
}
