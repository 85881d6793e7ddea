/**
 * Zero-tracking: slow drift is corrected only while a lane is empty and settled, never beyond
 * zeroTrackLimitG; a loaded lane keeps its zero and still counts right through the drift.
 */
import { ShelfPipeline } from '@shelfsense/agent';
import type { SampleFrame } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { ShelfModel } from './shelf-model.js';

const MINUTE = 60_000;

/** One 10 g lane on one cell; no built-in drift or creep, so the test sets the drift itself. */
function setup(items: number) {
  const model = new ShelfModel({
    seed: 9,
    channels: 1,
    driftAmplitudeG: 0,
    driftWalkG: 0,
    creep: 0,
    lanes: [{ lane: 'a', channels: [0], unitWeightG: 10, items }],
  });
  const events: string[] = [];
  const pipeline = new ShelfPipeline({
    channels: 1,
    calibrations: model.calibrations(),
    lanes: model.laneSettings(),
    onEvent: (e) => events.push(`${e.kind}${e.delta}`),
  });
  const feed = (f: SampleFrame) => pipeline.push(f);
  return { model, pipeline, events, feed };
}

/** Runs `ms` of frames while the zero drifts linearly from its current extra by `toG` grams. */
function drift(
  model: ShelfModel,
  feed: (f: SampleFrame) => void,
  ms: number,
  toG: number,
  each?: () => void,
) {
  const from = model.extra[0] as number;
  const n = Math.round(ms / model.period);
  for (let i = 0; i < n; i++) {
    model.extra[0] = from + ((toG - from) * i) / n;
    feed(model.next());
    each?.();
  }
}

describe('zero-tracking', () => {
  it('[zero-track-empty] follows slow drift on an empty settled lane and keeps counting 0', () => {
    const { model, pipeline, events, feed } = setup(0);
    drift(model, feed, 2_000, 0);
    drift(model, feed, 20 * MINUTE, 12);
    drift(model, feed, 2 * MINUTE, 12);
    const ch = pipeline.channel(0);
    expect(ch.driftG).toBeGreaterThan(11);
    expect(ch.driftG).toBeLessThan(13);
    expect(Math.abs(ch.settledGrams)).toBeLessThan(0.5);
    expect(pipeline.lane('a')?.units).toBe(0);
    expect(pipeline.lane('a')?.state).toBe('ok');
    expect(ch.status).toBe('ok');
    expect(events).toEqual([]);
  });

  it('[zero-track-bound] never corrects beyond zeroTrackLimitG; near the bound the channel is drifting', () => {
    const { model, pipeline, events, feed } = setup(0);
    drift(model, feed, 2_000, 0);
    // 25 g of drift against a 20 g bound: 5 g (half an item) is left over and shows.
    drift(model, feed, 40 * MINUTE, 25);
    drift(model, feed, 2 * MINUTE, 25);
    const ch = pipeline.channel(0);
    expect(ch.driftG).toBe(20);
    expect(ch.status).toBe('drifting');
    expect(pipeline.health().status).toBe('drifting');
    expect(ch.settledGrams).toBeGreaterThan(4);
    expect(pipeline.lane('a')?.state).toBe('anomalous');
    expect(pipeline.lane('a')?.units).toBe(0);
    expect(events).toEqual([]);
  });

  it('[zero-track-loaded] leaves the zero alone while loaded, and the count stays right through the drift', () => {
    const { model, pipeline, events, feed } = setup(20);
    drift(model, feed, 2_000, 0);
    expect(pipeline.lane('a')?.units).toBe(20);
    let maxAbsDrift = 0;
    // 12 g of drift is more than a whole 10 g item.
    drift(model, feed, 40 * MINUTE, 12, () => {
      maxAbsDrift = Math.max(maxAbsDrift, Math.abs(pipeline.channel(0).driftG));
    });
    drift(model, feed, MINUTE, 12);
    expect(maxAbsDrift).toBe(0);
    const lane = pipeline.lane('a');
    expect(lane?.units).toBe(20);
    expect(lane?.state).toBe('ok');
    // The reported weight is not corrected (about 200 g of items plus the 12 g drift)...
    expect(lane?.settledG).toBeGreaterThan(210);
    // ...but the count reference followed it.
    expect(lane?.baselineG).toBeGreaterThan(11);
    expect(events).toEqual(['adjust20']);

    // Picks are still counted against the drifted reference.
    model.lane('a').items = 17;
    drift(model, feed, 3_000, 12);
    expect(lane?.units).toBe(17);

    // An agent restart that hands back the count and its reference carries on without an event.
    const again: string[] = [];
    const restarted = new ShelfPipeline({
      channels: 1,
      calibrations: [pipeline.calibration(0)],
      lanes: model.laneSettings(),
      counts: { a: 17 },
      baselines: { a: lane?.baselineG ?? 0 },
      onEvent: (e) => again.push(`${e.kind}${e.delta}`),
    });
    for (let i = 0; i < 200; i++) restarted.push(model.next());
    expect(restarted.lane('a')?.units).toBe(17);
    expect(restarted.lane('a')?.state).toBe('ok');
    expect(again).toEqual([]);
    // Emptied: zero-tracking takes over and the reference returns to the zero.
    model.lane('a').items = 0;
    drift(model, feed, 3 * MINUTE, 12);
    expect(lane?.units).toBe(0);
    expect(pipeline.channel(0).driftG).toBeGreaterThan(11);
    expect(Math.abs(lane?.baselineG ?? 99)).toBeLessThan(0.5);
    expect(events).toEqual(['adjust20', 'pick-3', 'pick-17']);
  });
});
