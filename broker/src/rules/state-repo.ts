/**
 * The rules' lane state, cached in memory and written back to `rule_state` in one transaction per
 * batch of input, so a restarted rules service resumes its debounce clocks, hysteresis and rates.
 */
import type { Logger } from 'pino';
import type { LaneRef } from '../store/readings.js';
import type { Store } from '../store/store.js';
import { initialLaneState, type LaneRuleState, LaneRuleStateSchema } from './lane-state.js';
import { laneKey } from './lanes.js';

export class LaneStateRepo {
  private readonly cache = new Map<string, { ref: LaneRef; state: LaneRuleState }>();
  private readonly dirty = new Set<string>();
  private readonly q;

  constructor(
    private readonly store: Store,
    private readonly log?: Logger,
  ) {
    this.q = {
      load: store.db
        .prepare<[string, string, string], string>(
          'SELECT state FROM rule_state WHERE site = ? AND shelf = ? AND lane = ?',
        )
        .pluck(),
      save: store.db.prepare(
        `INSERT INTO rule_state (site, shelf, lane, state, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (site, shelf, lane) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      ),
    };
  }

  /** The lane's state: cached, else stored, else fresh (a damaged row also starts fresh). */
  get(ref: LaneRef): LaneRuleState {
    const key = laneKey(ref);
    const hit = this.cache.get(key);
    if (hit) return hit.state;
    const raw = this.q.load.get(ref.site, ref.shelf, ref.lane);
    let state = initialLaneState();
    if (raw !== undefined) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(raw);
      } catch {
        // fall through to the schema check, which fails
      }
      const r = LaneRuleStateSchema.safeParse(parsed);
      if (r.success) state = r.data;
      else this.log?.warn({ lane: key }, 'stored rule state unreadable; starting afresh');
    }
    this.cache.set(key, { ref: { site: ref.site, shelf: ref.shelf, lane: ref.lane }, state });
    return state;
  }

  set(ref: LaneRef, state: LaneRuleState): void {
    const key = laneKey(ref);
    this.cache.set(key, { ref: { site: ref.site, shelf: ref.shelf, lane: ref.lane }, state });
    this.dirty.add(key);
  }

  /** Writes every changed lane in one transaction. */
  flush(now: number): void {
    if (this.dirty.size === 0 || !this.store.isOpen) return;
    this.store.transaction(() => {
      for (const key of this.dirty) {
        const e = this.cache.get(key);
        if (e) this.q.save.run(e.ref.site, e.ref.shelf, e.ref.lane, JSON.stringify(e.state), now);
      }
    });
    this.dirty.clear();
  }
}
