/** The rules' lane state on Postgres (see ../rule-state.ts): one serialised document per lane. */
import type { LaneRef } from '../records.js';
import type { AsyncRepository, RuleStateRepository } from '../repositories.js';
import type { RuleStateWrite } from '../rule-state.js';
import type { PgDb } from './db.js';

export const RULE_STATE_SCHEMA = `
  CREATE TABLE rule_state (
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (site, shelf, lane)
  );
`;

export class PgRuleStateRepo implements AsyncRepository<RuleStateRepository> {
  constructor(private readonly db: PgDb) {}

  async load(ref: LaneRef): Promise<string | undefined> {
    const row = await this.db.one<{ state: string }>(
      'SELECT state FROM rule_state WHERE site = $1 AND shelf = $2 AND lane = $3',
      [ref.site, ref.shelf, ref.lane],
    );
    return row?.state;
  }

  async saveAll(rows: Iterable<RuleStateWrite>, now: number): Promise<void> {
    const byLane = new Map<string, RuleStateWrite>();
    for (const r of rows) byLane.set(`${r.ref.site}\u0000${r.ref.shelf}\u0000${r.ref.lane}`, r);
    if (byLane.size === 0) return;
    const list = [...byLane.values()];
    await this.db.run(
      `INSERT INTO rule_state (site, shelf, lane, state, updated_at)
       SELECT s, sh, l, st, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t (s, sh, l, st)
       ON CONFLICT (site, shelf, lane) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      [
        list.map((r) => r.ref.site),
        list.map((r) => r.ref.shelf),
        list.map((r) => r.ref.lane),
        list.map((r) => r.state),
        now,
      ],
    );
  }
}
