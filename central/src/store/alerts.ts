/**
 * Alerts: stock-out, shelf offline, sensor fault, anomaly. Each is open → acknowledged → cleared
 * (or open → cleared); the database keeps at most one live (not cleared) alert of a kind per lane,
 * so a condition seen again, by a restarted or a second rules instance, does not open another.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, AlertEvent } from '@shelfsense/protocol';
import type { Db } from './database.js';
import { ReplenishmentError, ReplenishmentErrorCodes } from './errors.js';
import type { RangeQuery } from './history.js';
import type { LaneRef } from './readings.js';
import type { AlertsRepository } from './repositories.js';

export type AlertKind = AlertEvent['kind'];
export type AlertState = AlertEvent['state'];

export interface AlertRow extends LaneRef {
  id: string;
  kind: AlertKind;
  state: AlertState;
  message: string;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  clearedAt: number | null;
}

const COLUMNS = `id, kind, site, shelf, lane, state, message, opened_at AS openedAt, updated_at AS updatedAt,
  acknowledged_at AS acknowledgedAt, acknowledged_by AS acknowledgedBy, cleared_at AS clearedAt`;

export function alertEvent(a: AlertRow, ts: number = a.updatedAt): AlertEvent {
  return {
    alertId: a.id,
    kind: a.kind,
    state: a.state,
    site: a.site,
    shelf: a.shelf,
    lane: a.lane,
    message: a.message.slice(0, 500),
    ts,
  };
}

export class AlertsRepo implements AlertsRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO alerts (id, kind, site, shelf, lane, state, message, opened_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
      ),
      get: db.prepare<[string], AlertRow>(`SELECT ${COLUMNS} FROM alerts WHERE id = ?`),
      live: db.prepare<[string, string, string, string], AlertRow>(
        `SELECT ${COLUMNS} FROM alerts WHERE site = ? AND shelf = ? AND lane = ? AND kind = ?
         AND state <> 'cleared'`,
      ),
      ack: db.prepare(
        `UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, updated_at = ?
         WHERE id = ? AND state = 'open'`,
      ),
      clear: db.prepare(
        `UPDATE alerts SET state = 'cleared', cleared_at = ?, updated_at = ? WHERE id = ? AND state <> 'cleared'`,
      ),
      liveCount: db.prepare<[], number>(`SELECT COUNT(*) FROM alerts WHERE state <> 'cleared'`).pluck(),
    };
  }

  /** Alerts not yet cleared (open or acknowledged). */
  liveCount(): number {
    return this.q.liveCount.get() ?? 0;
  }

  get(id: string): AlertRow | undefined {
    return this.q.get.get(id);
  }

  /** The live alert of a kind on a lane, if any. */
  live(ref: LaneRef, kind: AlertKind): AlertRow | undefined {
    return this.q.live.get(ref.site, ref.shelf, ref.lane, kind);
  }

  /** Opens an alert unless one of that kind is already live on the lane. */
  open(ref: LaneRef, kind: AlertKind, message: string, ts: number): { alert: AlertRow; created: boolean } {
    return this.db
      .transaction(() => {
        const id = `alr_${randomUUID()}`;
        const r = this.q.insert.run(id, kind, ref.site, ref.shelf, ref.lane, message.slice(0, 500), ts, ts);
        if (r.changes === 1) return { alert: this.q.get.get(id) as AlertRow, created: true };
        return { alert: this.live(ref, kind) as AlertRow, created: false };
      })
      .immediate();
  }

  /** open → acknowledged, recording who (the authenticated actor, never a name from a body). */
  acknowledge(id: string, by: Actor, ts: number): AlertRow {
    return this.db
      .transaction(() => {
        const a = this.require(id);
        if (a.state === 'acknowledged') return a;
        if (a.state !== 'open') {
          throw new ReplenishmentError(
            ReplenishmentErrorCodes.TRANSITION,
            `alert ${id} is ${a.state}; only an open alert can be acknowledged`,
            [{ path: 'state', message: `cannot go from ${a.state} to acknowledged` }],
          );
        }
        this.q.ack.run(ts, by.user, ts, id);
        return this.require(id);
      })
      .immediate();
  }

  /** Clears an alert (idempotent: clearing a cleared alert returns it unchanged). */
  clear(id: string, ts: number): { alert: AlertRow; changed: boolean } {
    return this.db
      .transaction(() => {
        const changed = this.q.clear.run(ts, ts, id).changes === 1;
        return { alert: this.require(id), changed };
      })
      .immediate();
  }

  /** Clears the live alert of a kind on a lane, if there is one. */
  clearKind(ref: LaneRef, kind: AlertKind, ts: number): AlertRow | null {
    const a = this.live(ref, kind);
    if (!a) return null;
    const r = this.clear(a.id, ts);
    return r.changed ? r.alert : null;
  }

  list(q: RangeQuery & { state?: AlertState | 'live'; kind?: AlertKind } = {}): AlertRow[] {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    for (const k of ['site', 'shelf', 'lane', 'kind'] as const) {
      const v = q[k];
      if (v !== undefined) {
        parts.push(`${k} = @${k}`);
        params[k] = v;
      }
    }
    if (q.state === 'live') parts.push(`state <> 'cleared'`);
    else if (q.state !== undefined) {
      parts.push('state = @state');
      params['state'] = q.state;
    }
    if (q.from !== undefined) {
      parts.push('opened_at >= @from');
      params['from'] = q.from;
    }
    if (q.to !== undefined) {
      parts.push('opened_at < @to');
      params['to'] = q.to;
    }
    params['limit'] = Math.max(1, Math.min(q.limit ?? 10_000, 100_000));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return this.db
      .prepare(`SELECT ${COLUMNS} FROM alerts ${w} ORDER BY opened_at, id LIMIT @limit`)
      .all(params) as AlertRow[];
  }

  private require(id: string): AlertRow {
    const a = this.q.get.get(id);
    if (!a) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no alert ${id}`);
    return a;
  }
}
