/**
 * Lane settings and sample rate changing under a running pipeline, and the readings it exposes.
 */
import type { LaneReading } from '@shelfsense/agent';
import type { SampleFrame } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { emptyScore, newPipeline } from './scenario.js';
import { ShelfModel } from './shelf-model.js';

function rig(rate: 10 | 80 = 80) {
  const model = new ShelfModel({
    seed: 91,
    channels: 3,
    rate,
    lanes: [
      { lane: 'a', channels: [0], unitWeightG: 25, items: 12, capacity: 24 },
      { lane: 'b', channels: [1, 2], shares: [0.3, 0.7], unitWeightG: 400, items: 3 },
    ],
  });
  const score = emptyScore();
  const changes: string[] = [];
  const { pipeline } = newPipeline(model, score, {
    onLaneChange: (l: LaneReading) => changes.push(`${l.id}:${l.state}`),
  });
  const run = (ms: number) => {
    for (let i = 0; i < ms / model.period; i++) pipeline.push(model.next() as SampleFrame);
  };
  run(2_000);
  return { model, score, pipeline, run, changes };
}

describe('settings under a running pipeline', () => {
  it('[lanes] the same settings again change nothing; a new SKU or capacity applies in place', () => {
    const { pipeline, run, changes, score } = rig();
    const before = pipeline.lane('a');
    const events = score.events.length;
    changes.length = 0;
    pipeline.setLanes([
      { lane: 'a', channels: [0], sku: 'new-sku', unitWeightG: 25, capacity: 48 },
      { lane: 'b', channels: [1, 2], unitWeightG: 400 },
    ]);
    run(1_000);
    expect(changes).toEqual([]);
    expect(score.events.length).toBe(events);
    expect(pipeline.lane('a')).toBe(before);
    expect(pipeline.lane('a')?.sku).toBe('new-sku');
    expect(pipeline.lane('a')?.fill).toBe(0.25);
  });

  it('[lanes] a new unit weight recounts (an adjust); a lane moved to other channels recounts; a removed lane is gone', () => {
    const { model, pipeline, run, score } = rig();
    const events = score.events.length;
    // The items are 25 g; told 50 g, the lane reads half as many.
    pipeline.setLanes([
      { lane: 'a', channels: [0], unitWeightG: 50 },
      { lane: 'b', channels: [1, 2], unitWeightG: 400 },
    ]);
    run(1_500);
    expect(pipeline.lane('a')?.units).toBe(6);
    expect(score.events.slice(events).map((e) => `${e.lane}:${e.kind}${e.delta}`)).toEqual(['a:adjust-6']);
    // Lane b now on channel 2 only: it reads 70 % of its 3 × 400 g, i.e. 2.1 items: a recount.
    pipeline.setLanes([{ lane: 'b', channels: [2], unitWeightG: 400 }]);
    run(1_500);
    expect(pipeline.lane('a')).toBeUndefined();
    expect(pipeline.lane('b')?.units).toBe(2);
    expect(score.events.slice(events).map((e) => `${e.lane}:${e.kind}${e.delta}`)).toEqual([
      'a:adjust-6',
      'b:adjust-1',
    ]);
    expect(model.lane('b').items).toBe(3);
  });

  it('[rate] setRate switches the filter windows at once; the pipeline also notices a rate change by itself', () => {
    const { pipeline } = rig();
    expect(pipeline.sampleRate).toBe(80);
    pipeline.setRate(10);
    expect(pipeline.sampleRate).toBe(10);
    const slow = rig(10);
    expect(slow.pipeline.sampleRate).toBe(10);
    // A pipeline told 80 SPS that receives 10 SPS frames adapts and still counts.
    const model = new ShelfModel({
      seed: 92,
      channels: 1,
      rate: 10,
      lanes: [{ lane: 'z', channels: [0], unitWeightG: 10, items: 7 }],
    });
    const score = emptyScore();
    const { pipeline: p } = newPipeline(model, score, { rate: 80 });
    for (let i = 0; i < 40; i++) p.push(model.next());
    expect(p.sampleRate).toBe(10);
    expect(p.lane('z')?.units).toBe(7);
  });

  it('[readings] channels expose filtered raw counts, grams, stability, settled values and rejects', () => {
    const { pipeline, model } = rig();
    const ch = pipeline.channel(1);
    const cal = pipeline.calibration(1);
    expect(ch.stable).toBe(true);
    expect(ch.filteredRaw).toBeGreaterThan(cal.offset);
    // Lane b: 3 × 400 g, 30 % of it on channel 1.
    expect(ch.grams).toBeGreaterThan(360 - 5);
    expect(ch.grams).toBeLessThan(360 + 5);
    expect(Math.abs(ch.settledGrams - 360)).toBeLessThan(3);
    expect(Math.abs(ch.settledRaw - ch.filteredRaw)).toBeLessThan(3 * model.scale[1]!);
    expect(ch.rejects).toEqual({
      rail: expect.any(Number),
      glitch: expect.any(Number),
      spikes: expect.any(Number),
    });
    const lane = pipeline.lane('b');
    expect(lane?.netG).toBeGreaterThan(1190);
    expect(lane?.netG).toBeLessThan(1210);
    expect(lane?.confidence).toBeGreaterThan(0.9);
    expect(() => pipeline.channel(5)).toThrow(/no channel 5/);
  });
});
