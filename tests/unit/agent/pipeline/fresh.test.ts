/**
 * The fresh check (stage 3b) and what it guarantees: a stable count is true of the frame it names,
 * even when the load changes again just as a count is being accepted.
 */
import { type LaneReading, ShelfPipeline } from '@shelfsense/agent';
import { FreshBlock } from '@shelfsense/agent/testing';
import { describe, expect, it } from 'vitest';
import { ShelfModel } from './shelf-model.js';

function block(size: number, samples: number[], firstSeq = 100): FreshBlock {
  const b = new FreshBlock();
  b.configure(size);
  samples.forEach((out, i) => {
    b.take({ out, outSeq: (firstSeq + i) % 4_294_967_296, outT: 1000 + 12.5 * i });
  });
  return b;
}

const settledAt = (mean: number) => ({ mean: () => mean });

describe('stage 3b: the fresh block', () => {
  it('[fresh-block] agrees only when full, with its mean within the band and every sample within the per-sample band', () => {
    const b = block(5, [100, 101, 99, 100]);
    b.band = 3;
    b.sampleBand = 6;
    expect(b.agrees(settledAt(100))).toBe(false); // 4 of 5
    b.take({ out: 100, outSeq: 104, outT: 1050 });
    expect(b.agrees(settledAt(100))).toBe(true);
    expect(b.agrees(settledAt(96.5))).toBe(false); // mean 100 is 3.5 away
    b.take({ out: 107, outSeq: 105, outT: 1062.5 }); // one sample 7 away, mean only 1.4
    expect(b.agrees(settledAt(100))).toBe(false);
    b.sampleBand = 8;
    expect(b.agrees(settledAt(100))).toBe(true);
  });

  it('[fresh-seq] names the frame of its oldest sample, also across the ring and a seq wrap', () => {
    const b = block(3, [5, 5, 5, 5, 5, 5, 5], 4_294_967_293);
    b.band = 1;
    b.sampleBand = 1;
    expect(b.agrees(settledAt(5))).toBe(true);
    // Samples carried seqs …293, …294, …295, 0, 1, 2, 3: the newest three are 1, 2, 3.
    expect(b.oldestSeq).toBe(1);
    expect(b.oldestT).toBe(1000 + 12.5 * 4);
    expect(FreshBlock.sizeFor(5)).toBe(5);
    expect(FreshBlock.sizeFor(1)).toBe(3);
  });

  it('[fresh-grow] configured to a larger block than before, it holds and names the whole block', () => {
    const b = block(3, [5, 5, 5]);
    b.configure(9);
    b.band = 1;
    b.sampleBand = 1;
    for (let i = 0; i < 9; i++) {
      expect(b.agrees(settledAt(5))).toBe(false); // i of 9
      b.take({ out: 5, outSeq: 200 + i, outT: 2000 + 12.5 * i });
    }
    expect(b.agrees(settledAt(5))).toBe(true);
    expect(b.oldestSeq).toBe(200);
    // A sample 3 away anywhere in the block unsettles it: every sample of the 9 is held.
    b.take({ out: 8, outSeq: 209, outT: 2112.5 });
    for (let i = 1; i < 9; i++) b.take({ out: 5, outSeq: 209 + i, outT: 2112.5 + 12.5 * i });
    expect(b.agrees(settledAt(5))).toBe(false);
    b.take({ out: 5, outSeq: 218, outT: 2225 });
    expect(b.agrees(settledAt(5))).toBe(true);
  });
});

/** One lane of 10 g items at σ 1 g on one cell, no drift: the hardest case for a fast count. */
function oneLane(seed: number) {
  const model = new ShelfModel({
    seed,
    channels: 1,
    driftAmplitudeG: 0,
    driftWalkG: 0,
    lanes: [{ lane: 'a', channels: [0], unitWeightG: 10, items: 20, capacity: 200 }],
  });
  const published: { seq: number; units: number; frame: number }[] = [];
  const pipeline = new ShelfPipeline({
    channels: 1,
    calibrations: model.calibrations(),
    lanes: model.laneSettings(),
    onLaneChange: (lane: LaneReading) => {
      if (lane.stable && lane.units !== null) {
        published.push({ seq: lane.frameSeq, units: lane.units, frame: model.seq - 1 });
      }
    },
  });
  return { model, pipeline, published, lane: model.lane('a') };
}

describe('a stable count is true of the frame it names', () => {
  it('[count-frame] items arriving at about the pace a count settles, some taken back a frame or two later: every stable count matches the items at its frame', () => {
    const { model, pipeline, published, lane } = oneLane(7);
    const itemsAt: number[] = [];
    let next = 2_000;
    let takeBackAt = -1;
    while (model.t < 1_800_000) {
      if (model.t >= next) {
        lane.items++;
        // Items land every 0.7–1.1 s: just when the previous count is being accepted.
        next = model.t + 700 + model.rand() * 400;
        if (model.rand() < 0.2) takeBackAt = model.t + 12.5 * (1 + Math.floor(model.rand() * 3));
        if (lane.items > 150) lane.items = 20;
      }
      if (takeBackAt >= 0 && model.t >= takeBackAt) {
        lane.items--;
        takeBackAt = -1;
      }
      itemsAt[model.seq] = lane.items;
      pipeline.push(model.next());
    }
    expect(published.length).toBeGreaterThan(1_000);
    const wrong = published.filter((p) => itemsAt[p.seq] !== p.units);
    expect(wrong.slice(0, 5)).toEqual([]);
    // The frame named is a few frames behind the newest one, never ahead of it.
    for (const p of published) {
      expect(p.seq).toBeLessThanOrEqual(p.frame);
      expect(p.frame - p.seq).toBeLessThan(10);
    }
  });

  it('[fresh-step] one item landing on a settled lane unsettles it within two frames, before the filters show it', () => {
    const { model, pipeline, lane } = oneLane(8);
    while (model.t < 5_000) pipeline.push(model.next());
    const reading = pipeline.lane('a') as LaneReading;
    expect(reading.state).toBe('ok');
    expect(reading.units).toBe(20);
    lane.items = 21;
    const stepSeq = model.seq;
    let unsettledAt = -1;
    while (unsettledAt < 0 && model.seq < stepSeq + 40) {
      pipeline.push(model.next());
      if (reading.state !== 'ok') unsettledAt = model.seq - 1;
    }
    // The spike check holds each sample back one frame; two new samples move the block enough.
    expect(unsettledAt - stepSeq).toBeLessThanOrEqual(2);
    expect(pipeline.channel(0).grams - 20 * 10).toBeLessThan(5); // the filtered value still lags
  });
});
