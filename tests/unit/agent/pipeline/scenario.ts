/**
 * Random picking on every lane of a ShelfModel, fed to a ShelfPipeline and scored against the
 * model's ground truth. Each lane alternates a rest (random length) and a pick or restock with a
 * short transition (a hand's varying force while the load changes).
 */

import {
  type LaneEvent,
  type LaneReading,
  ShelfPipeline,
  type ShelfPipelineOptions,
} from '@shelfsense/agent';
import type { SampleFrame } from '@shelfsense/protocol';
import type { ShelfModel } from './shelf-model.js';
import { setLaneExtra } from './shelf-model.js';

export interface Score {
  /** Lane changes into `ok` (a stable count published), and how many had the wrong count. */
  published: number;
  wrong: number;
  /** Rest periods of at least `minRestMs`, and how many showed the right stable count. */
  rests: number;
  restsCounted: number;
  /** Times a lane left `ok` while nothing happened to it (noise flicker). */
  flicker: number;
  events: LaneEvent[];
  /** Per rest that yielded: device ms from the end of the transition to the right stable count. */
  settleMs: number[];
  /** Descriptions of the first few mistakes, for the failure message. */
  mistakes: string[];
}

export interface PickingOptions {
  durationMs: number;
  restMs: [number, number];
  transitionMs: [number, number];
  /** Largest pick and restock, items. */
  maxPick?: number;
  maxRestock?: number;
  /** Rests at least this long are scored for yield (default 2000 ms). */
  minRestMs?: number;
  /** Called once per frame before the model advances, to add faults or forces. */
  perturb?: (model: ShelfModel, t: number) => void;
  /** Called once per frame after the pipeline took it. */
  after?: (model: ShelfModel) => void;
  /** Returns true to lose the frame on the line (the pipeline never sees it). */
  drop?: (frame: SampleFrame) => boolean;
  /** Returns true to deliver the frame twice. */
  repeat?: (frame: SampleFrame) => boolean;
}

interface LaneRun {
  phase: 'rest' | 'transition';
  start: number;
  until: number;
  target: number;
  amp: number;
  truth: number;
  /** The lane showed the right stable count at some moment of this rest. */
  yielded: boolean;
}

/**
 * A published count is right when the lane physically held that many items at some moment within
 * `latencyMs` before it was published: the pipeline may only report what it has watched settle.
 */
export class Truth {
  private readonly history = new Map<string, { t: number; items: number }[]>();

  constructor(
    private readonly model: ShelfModel,
    private readonly latencyMs = 1500,
  ) {}

  /** Records the model's items now; call once per frame. */
  observe(): void {
    for (const lane of this.model.lanes) {
      let h = this.history.get(lane.lane);
      if (!h) {
        h = [];
        this.history.set(lane.lane, h);
      }
      const last = h[h.length - 1];
      if (!last || last.items !== lane.items) h.push({ t: this.model.t, items: lane.items });
      while (h.length > 2 && (h[1] as { t: number }).t < this.model.t - this.latencyMs) h.shift();
    }
  }

  /** Whether `units` were on the lane at some moment within the latency. */
  fits(laneId: string, units: number | null): boolean {
    const h = this.history.get(laneId) ?? [];
    return h.some((e) => e.items === units);
  }
}

export function newPipeline(model: ShelfModel, score: Score, extra: Partial<ShelfPipelineOptions> = {}) {
  const truth = new Truth(model);
  const pipeline = new ShelfPipeline({
    channels: model.offset.length,
    calibrations: model.calibrations(),
    lanes: model.laneSettings(),
    rate: model.rate,
    ...extra,
    onEvent: (e) => score.events.push(e),
    onLaneChange: (lane: LaneReading) => {
      if (lane.state !== 'ok') return;
      score.published++;
      if (!truth.fits(lane.id, lane.units)) {
        score.wrong++;
        if (score.mistakes.length < 10)
          score.mistakes.push(
            `t=${model.t.toFixed(0)} lane ${lane.id}: published ${lane.units}, truth ${model.lane(lane.id).items}`,
          );
      }
    },
  });
  return { pipeline, truth };
}

export function emptyScore(): Score {
  return {
    published: 0,
    wrong: 0,
    rests: 0,
    restsCounted: 0,
    flicker: 0,
    events: [],
    settleMs: [],
    mistakes: [],
  };
}

/** Runs random picking for `durationMs` of device time; returns the pipeline and the score. */
export function runPicking(
  model: ShelfModel,
  opts: PickingOptions,
  extra: Partial<ShelfPipelineOptions> = {},
) {
  const score = emptyScore();
  const { pipeline, truth } = newPipeline(model, score, extra);
  const minRest = opts.minRestMs ?? 2000;
  const runs = new Map<string, LaneRun>();
  const span = (r: [number, number]) => r[0] + model.rand() * (r[1] - r[0]);
  for (const lane of model.lanes) {
    const run: LaneRun = {
      phase: 'rest',
      start: model.t,
      until: model.t + span(opts.restMs),
      target: lane.items,
      amp: 0,
      truth: lane.items,
      yielded: false,
    };
    runs.set(lane.lane, run);
  }
  const wasOk = new Map<string, boolean>();
  const end = model.t + opts.durationMs;
  while (model.t < end) {
    const t = model.t;
    for (const lane of model.lanes) {
      const run = runs.get(lane.lane) as LaneRun;
      if (t < run.until) {
        if (run.phase === 'transition') {
          const u = (t - run.start) / (run.until - run.start);
          if (u >= 0.5) lane.items = run.target;
          setLaneExtra(
            model,
            lane,
            run.amp * Math.sin(Math.PI * u) * (1 + 0.3 * Math.sin(2 * Math.PI * 0.008 * (t - run.start))),
          );
        }
        continue;
      }
      if (run.phase === 'rest') {
        if (run.until - run.start >= minRest) {
          score.rests++;
          const seen = pipeline.lane(lane.lane) as LaneReading;
          if (run.yielded) score.restsCounted++;
          else if (score.mistakes.length < 10)
            score.mistakes.push(
              `t=${t.toFixed(0)} lane ${lane.lane}: no stable count in the rest (${seen.state} ${seen.units}, truth ${run.truth})`,
            );
        }
        const cap = lane.capacity ?? 40;
        let delta = 0;
        while (delta === 0) {
          delta =
            model.rand() < 0.6
              ? -1 - Math.floor(model.rand() * (opts.maxPick ?? 3))
              : 1 + Math.floor(model.rand() * (opts.maxRestock ?? 6));
          if (lane.items + delta < 0 || lane.items + delta > cap)
            delta = lane.items === 0 ? 1 : -lane.items + Math.floor(model.rand() * lane.items);
        }
        run.phase = 'transition';
        run.start = t;
        run.until = t + span(opts.transitionMs);
        run.target = lane.items + delta;
        run.truth = run.target;
        run.amp = model.rand() * (0.5 * lane.unitWeightG + 30);
      } else {
        lane.items = run.target;
        setLaneExtra(model, lane, 0);
        run.phase = 'rest';
        run.yielded = false;
        run.start = t;
        run.until = t + span(opts.restMs);
      }
    }
    opts.perturb?.(model, t);
    truth.observe();
    const frame = model.next();
    if (!opts.drop?.(frame)) {
      pipeline.push(frame);
      if (opts.repeat?.(frame)) pipeline.push(frame);
    }
    opts.after?.(model);
    for (const lane of model.lanes) {
      const run = runs.get(lane.lane) as LaneRun;
      const seen = pipeline.lane(lane.lane) as LaneReading;
      const was = wasOk.get(lane.lane);
      wasOk.set(lane.lane, seen.state === 'ok');
      if (run.phase !== 'rest') continue;
      if (was && run.yielded && seen.state !== 'ok') score.flicker++;
      if (!run.yielded && seen.state === 'ok' && seen.units === run.truth) {
        run.yielded = true;
        score.settleMs.push(model.t - run.start);
      }
    }
  }
  return { pipeline, score };
}
