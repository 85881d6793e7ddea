/**
 * The rules' lane state, cached in memory and written back through the store (`rule_state`) in one
 * transaction per batch of input, so a restarted rules service resumes its debounce clocks,
 * hysteresis and rates.
 */
import type { Logger } from 'pino';
import type { LaneRef } from '../store/readings.js';
import type { CentralStore } from '../store/repositories.js';
import type { RuleStateWrite } from '../store/rule-state.js';
import { initialLaneState, type LaneRuleState, LaneRuleStateSchema } from './lane-state.js';
import { laneKey } from './lanes.js';

export class LaneStateRepo {
  private readonly cache = new Map<string, { ref: LaneRef; state: LaneRuleState }>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly store: CentralStore,
    private readonly log?: Logger,
  ) {}

  /** The lane's state: cached, else stored, else fresh (a damaged row also starts fresh). */
  get(ref: LaneRef): LaneRuleState {
    const key = laneKey(ref);
    const hit = this.cache.get(key);
    if (hit) return hit.state;
    const raw = this.store.ruleState.load(ref);
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
    const rows: RuleStateWrite[] = [];
    for (const key of this.dirty) {
      const e = this.cache.get(key);
      if (e) rows.push({ ref: e.ref, state: JSON.stringify(e.state) });
    }
    this.store.ruleState.saveAll(rows, now);
    this.dirty.clear();
  }
}
