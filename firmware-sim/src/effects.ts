/**
 * What each physical action does to the shelf model: items taken or added, masses placed, hands
 * leaning, cells unplugged. Random parts (`lane: any`, `count: [1, 3]`) draw from the scenario's
 * seeded stream, so a scenario plays out the same way every run.
 */
import type { Action } from './actions.js';
import type { LaneState, ShelfModel } from './model.js';
import type { Rng } from './rng.js';

export interface EffectContext {
  model: ShelfModel;
  rng: Rng;
  /** Device time of the frame the change applies to. */
  deviceUs: number;
  /** Scenario time of that frame (device time × speed). */
  scenarioMs: number;
  /** Queues a follow-up action at a later scenario time (restock adds items one at a time). */
  schedule(atMs: number, action: Action): void;
  /** Ends a lean at a device time. */
  endLeanAt(lane: number, deviceUs: number): void;
}

/** Applies a physical action; returns whether the ground truth changed. Line faults are not here. */
export function applyEffect(ctx: EffectContext, action: Action): boolean {
  const { model, rng } = ctx;
  const lanes = model.lanes;
  switch (action.action) {
    case 'remove': {
      const lane = pickLane(action.lane, lanes, rng, (l) => l.items > 0);
      if (lane < 0) return false;
      const l = lanes[lane] as LaneState;
      const n = Math.min(draw(action.count, rng), l.items);
      if (n === 0) return false;
      model.setItems(lane, l.items - n);
      return true;
    }
    case 'add': {
      const lane = pickLane(action.lane, lanes, rng, () => true);
      model.setItems(lane, (lanes[lane] as LaneState).items + draw(action.count, rng));
      return true;
    }
    case 'set':
      if ((lanes[action.lane] as LaneState).items === action.count) return false;
      model.setItems(action.lane, action.count);
      return true;
    case 'move': {
      const from = pickLane(action.from, lanes, rng, (l) => l.items > 0);
      if (from < 0) return false;
      const to = pickLane(action.to, lanes, rng, (_, i) => i !== from);
      if (to < 0 || to === from) return false;
      const src = lanes[from] as LaneState;
      const n = Math.min(draw(action.count, rng), src.items);
      if (n === 0) return false;
      model.setItems(from, src.items - n);
      model.addExtra(to, n * src.unitWeightG);
      return true;
    }
    case 'place':
      model.addExtra(action.lane, action.grams);
      return true;
    case 'misplace': {
      const from = lanes[action.from] as LaneState;
      model.addExtra(action.to, draw(action.count, rng) * from.unitWeightG);
      return true;
    }
    case 'sku-change': {
      model.setItems(action.lane, 0);
      (lanes[action.lane] as LaneState).unitWeightG = action.unitWeightG;
      for (let j = 0; j < action.items; j++) {
        ctx.schedule(ctx.scenarioMs + (j + 1) * action.itemMs, {
          action: 'add',
          lane: action.lane,
          count: 1,
        });
      }
      return true;
    }
    case 'lift': {
      const l = lanes[action.lane] as LaneState;
      if (l.extraG === 0) return false;
      model.addExtra(action.lane, -(action.grams ?? l.extraG));
      return true;
    }
    case 'lean': {
      const lane = pickLane(action.lane, lanes, rng, () => true);
      const grams = drawReal(action.grams, rng);
      const phase = rng.uniform(0, 2 * Math.PI);
      const ms = action.ms === undefined ? undefined : drawReal(action.ms, rng);
      model.setLean(lane, grams, ctx.deviceUs, phase);
      if (ms !== undefined) ctx.endLeanAt(lane, ctx.deviceUs + Math.round(ms * 1000));
      return true;
    }
    case 'release': {
      let changed = false;
      lanes.forEach((l, i) => {
        if ((action.lane === 'all' || action.lane === i) && l.lean && l.lean.endUs > ctx.deviceUs) {
          model.releaseLean(i, ctx.deviceUs);
          changed = true;
        }
      });
      return changed;
    }
    case 'restock': {
      // A person puts items in one at a time, lane after lane.
      let k = 0;
      lanes.forEach((l, i) => {
        if (action.lane !== 'all' && action.lane !== i) return;
        const missing = (action.to ?? l.capacity) - l.items;
        for (let j = 0; j < missing; j++) {
          ctx.schedule(ctx.scenarioMs + k * action.itemMs, { action: 'add', lane: i, count: 1 });
          k++;
        }
      });
      return false;
    }
    case 'unplug':
    case 'replug': {
      const unplug = action.action === 'unplug';
      if (model.isUnplugged(action.channel) === unplug) return false;
      model.setUnplugged(action.channel, unplug);
      return true;
    }
    case 'cell':
      model.setCell(action.channel, action);
      return true;
    default:
      return false;
  }
}

/** A lane index: the one given, or for `any` a random one among those that `ok` accepts (-1: none). */
function pickLane(
  ref: number | 'any',
  lanes: readonly LaneState[],
  rng: Rng,
  ok: (l: LaneState, i: number) => boolean,
): number {
  if (ref !== 'any') return ref;
  const candidates: number[] = [];
  lanes.forEach((l, i) => {
    if (ok(l, i)) candidates.push(i);
  });
  return candidates.length === 0 ? -1 : rng.pick(candidates);
}

export function draw(v: number | readonly [number, number], rng: Rng): number {
  return typeof v === 'number' ? v : rng.int(v[0], v[1]);
}

function drawReal(v: number | readonly [number, number], rng: Rng): number {
  return typeof v === 'number' ? v : rng.uniform(v[0], v[1]);
}
