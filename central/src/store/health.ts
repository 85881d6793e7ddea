/**
 * Shelf health reports, `health_history` (migration 5): one row per shelf and report time, the
 * report kept whole as JSON. A report sent again (an agent resending after a reconnect) replaces
 * the row of the same (site, shelf, ts) rather than adding one.
 */
import type { HealthPayload } from '@shelfsense/protocol';
import type { Db } from './database.js';
import type { HealthRange, HealthRecord, HealthRepository } from './repositories.js';

export type { HealthRange, HealthRecord } from './repositories.js';

/** The most rows one query returns (as the other history queries). */
const MAX_ROWS = 100_000;

export class HealthRepo implements HealthRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      put: db.prepare(
        `INSERT OR REPLACE INTO health_history (site, shelf, ts, agent, status, payload)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      prune: db.prepare('DELETE FROM health_history WHERE ts < ?'),
    };
  }

  put(records: readonly HealthRecord[]): number {
    if (records.length === 0) return 0;
    return this.db
      .transaction(() => {
        for (const r of records) {
          const p = r.payload;
          this.q.put.run(r.site, r.shelf, p.ts, p.agent, p.status, JSON.stringify(p));
        }
        return records.length;
      })
      .immediate();
  }

  query(q: HealthRange = {}): HealthRecord[] {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    for (const k of ['site', 'shelf'] as const) {
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
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const rows = this.db
      .prepare(
        `SELECT site, shelf, payload FROM health_history ${where} ORDER BY ts, site, shelf LIMIT @limit`,
      )
      .all(params) as { site: string; shelf: string; payload: string }[];
    return rows.map((r) => ({
      site: r.site,
      shelf: r.shelf,
      payload: JSON.parse(r.payload) as HealthPayload,
    }));
  }

  prune(before: number): number {
    return this.q.prune.run(before).changes;
  }
}
