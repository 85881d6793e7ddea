/**
 * Shelf health reports on Postgres (see ../health.ts): one row per shelf and report time, kept
 * whole as JSON; a report sent again replaces the row of the same (site, shelf, ts).
 */
import type { HealthPayload } from '@shelfsense/protocol';
import type { AsyncRepository, HealthRange, HealthRecord, HealthRepository } from '../repositories.js';
import type { Param, PgDb } from './db.js';

const MAX_ROWS = 100_000;

export const HEALTH_SCHEMA = `
  CREATE TABLE health_history (
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    ts BIGINT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (site, shelf, ts)
  );
  CREATE INDEX health_history_ts ON health_history (ts);
`;

export class PgHealthRepo implements AsyncRepository<HealthRepository> {
  constructor(private readonly db: PgDb) {}

  async put(records: readonly HealthRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    // One statement for the batch; a key sent twice in one batch keeps the last, as sequential
    // replaces would.
    const byKey = new Map<string, HealthRecord>();
    for (const r of records) byKey.set(`${r.site}\u0000${r.shelf}\u0000${r.payload.ts}`, r);
    const rows = [...byKey.values()];
    await this.db.run(
      `INSERT INTO health_history (site, shelf, ts, agent, status, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (site, shelf, ts) DO UPDATE SET agent = excluded.agent, status = excluded.status,
         payload = excluded.payload`,
      [
        rows.map((r) => r.site),
        rows.map((r) => r.shelf),
        rows.map((r) => r.payload.ts),
        rows.map((r) => r.payload.agent),
        rows.map((r) => r.payload.status),
        rows.map((r) => JSON.stringify(r.payload)),
      ],
    );
    return records.length;
  }

  async query(q: HealthRange = {}): Promise<HealthRecord[]> {
    const parts: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param) => {
      params.push(v);
      parts.push(sql.replace('?', `$${params.length}`));
    };
    if (q.site !== undefined) add('site = ?', q.site);
    if (q.shelf !== undefined) add('shelf = ?', q.shelf);
    if (q.from !== undefined) add('ts >= ?', q.from);
    if (q.to !== undefined) add('ts < ?', q.to);
    params.push(Math.max(1, Math.min(q.limit ?? MAX_ROWS, MAX_ROWS)));
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const rows = await this.db.query<{ site: string; shelf: string; payload: string }>(
      `SELECT site, shelf, payload FROM health_history ${where} ORDER BY ts, site, shelf LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      site: r.site,
      shelf: r.shelf,
      payload: JSON.parse(r.payload) as HealthPayload,
    }));
  }

  async prune(before: number): Promise<number> {
    return this.db.run('DELETE FROM health_history WHERE ts < $1', [before]);
  }
}
