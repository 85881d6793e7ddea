/**
 * The rules' lane state table, `rule_state`: one JSON document per lane, read when the rules first
 * meet a lane and written back in one transaction per batch of input. The rules own the document's
 * shape and validate what they read; this repository only stores and returns the text.
 */
import type { Db } from './database.js';
import type { LaneRef } from './records.js';
import type { RuleStateRepository } from './repositories.js';

export interface RuleStateWrite {
  ref: LaneRef;
  /** The lane's state, already serialised. */
  state: string;
}

export class RuleStateRepo implements RuleStateRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      load: db
        .prepare<[string, string, string], string>(
          'SELECT state FROM rule_state WHERE site = ? AND shelf = ? AND lane = ?',
        )
        .pluck(),
      save: db.prepare(
        `INSERT INTO rule_state (site, shelf, lane, state, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (site, shelf, lane) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      ),
    };
  }

  /** The stored text of a lane's state, if any. */
  load(ref: LaneRef): string | undefined {
    return this.q.load.get(ref.site, ref.shelf, ref.lane);
  }

  /** Writes every given lane in one IMMEDIATE transaction. */
  saveAll(rows: Iterable<RuleStateWrite>, now: number): void {
    this.db
      .transaction(() => {
        for (const r of rows) this.q.save.run(r.ref.site, r.ref.shelf, r.ref.lane, r.state, now);
      })
      .immediate();
  }
}
