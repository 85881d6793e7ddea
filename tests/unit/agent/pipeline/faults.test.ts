/**
 * A hand, a foreign object, a faulty cell, a noisy cell or a silent shelf never produce a wrong
 * stable count; each shows as the right lane state and channel health.
 */
import type { LaneEvent } from '@shelfsense/agent';
import type { SampleFrame } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { emptyScore, newPipeline } from './scenario.js';
import { handLean, type ModelOptions, ShelfModel, setLaneExtra } from './shelf-model.js';

function shelf(seed: number, rate: 10 | 80 = 80, extra: Partial<ModelOptions> = {}) {
  const model = new ShelfModel({
    seed,
    channels: 5,
    rate,
    lanes: [
      { lane: 'a', channels: [0], unitWeightG: 10, items: 20 },
      { lane: 'b', channels: [1], unitWeightG: 55, items: 10 },
      { lane: 'c', channels: [2, 3], unitWeightG: 250, items: 8 },
      { lane: 'd', channels: [4], unitWeightG: 100, items: 5 },
    ],
    ...extra,
  });
  const score = emptyScore();
  const { pipeline, truth } = newPipeline(model, score);
  const feed = (f: SampleFrame) => {
    truth.observe();
    pipeline.push(f);
  };
  const run = (ms: number) => {
    for (let i = 0; i < ms / model.period; i++) feed(model.next());
  };
  run(2_000);
  return { model, score, pipeline, feed, run, startEvents: score.events.length };
}

const kinds = (events: LaneEvent[]) => events.map((e) => `${e.lane}:${e.kind}${e.delta}`);

describe('faults and disturbances', () => {
  for (const rate of [80, 10] as const) {
    it(`[hand] a hand leaning on a lane never makes a wrong count or an event (${rate} SPS, 200 hands)`, () => {
      const { model, score, pipeline, feed, run, startEvents } = shelf(21 + rate, rate);
      const seen = new Set<string>();
      for (let h = 0; h < 200; h++) {
        const lane = model.lanes[h % 4]?.lane as string;
        const peak = 100 + model.rand() * 500;
        for (const f of handLean(model, lane, peak, 2_000 + model.rand() * 6_000)) {
          feed(f);
          seen.add(pipeline.lane(lane)?.state as string);
        }
        run(2_000);
      }
      expect(score.wrong, score.mistakes.join('\n')).toBe(0);
      expect(score.events.length).toBe(startEvents);
      expect(seen).toContain('unstable');
      for (const lane of pipeline.lanes()) {
        expect(lane.state).toBe('ok');
        expect(lane.units).toBe(model.lane(lane.id).items);
      }
    });
  }

  it('[hand] a steady lean (or a foreign object) of no whole number of items is anomalous, keeps the count, then clears', () => {
    const { model, score, pipeline, run, startEvents } = shelf(31);
    const lane = model.lane('b');
    // 55 g items: 2.5 items' worth is as far from a whole number as it gets.
    setLaneExtra(model, lane, 137.5);
    run(3_000);
    expect(pipeline.lane('b')?.state).toBe('anomalous');
    expect(pipeline.lane('b')?.units).toBe(10);
    expect(pipeline.lane('b')?.confidence).toBeLessThan(0.1);
    setLaneExtra(model, lane, 0);
    run(2_000);
    expect(pipeline.lane('b')?.state).toBe('ok');
    expect(pipeline.lane('b')?.units).toBe(10);
    expect(score.events.length).toBe(startEvents);
    expect(score.wrong).toBe(0);
  });

  it('[fault-saturated] an unplugged cell is saturated, its lane is fault and never counted; replugged, the first count is an adjust', () => {
    const { model, score, pipeline, run, startEvents } = shelf(41);
    const lane = pipeline.lane('c');
    model.fault[3] = 'rail';
    run(1_500);
    expect(pipeline.channel(3).status).toBe('saturated');
    expect(pipeline.health().status).toBe('saturated');
    expect(lane?.state).toBe('fault');
    // Items change while the cell is out: nothing is counted meanwhile.
    model.lane('c').items = 5;
    run(3_000);
    expect(lane?.state).toBe('fault');
    expect(lane?.units).toBe(8);
    expect(score.events.length).toBe(startEvents);
    model.fault[3] = null;
    run(3_000);
    expect(pipeline.channel(3).status).toBe('ok');
    expect(lane?.state).toBe('ok');
    expect(lane?.units).toBe(5);
    expect(kinds(score.events.slice(startEvents))).toEqual(['c:adjust-3']);
    // Other lanes carried on throughout.
    expect(pipeline.lane('a')?.state).toBe('ok');
    expect(score.wrong).toBe(0);
  });

  it('[fault-disconnected] a cell reading only glitch codes is disconnected; a lone junk code is not a fault', () => {
    const { model, pipeline, run } = shelf(51);
    model.fault[0] = 'glitch';
    run(1_000);
    expect(pipeline.channel(0).status).toBe('disconnected');
    expect(pipeline.lane('a')?.state).toBe('fault');
    model.fault[0] = null;
    run(2_000);
    expect(pipeline.channel(0).status).toBe('ok');
    expect(pipeline.lane('a')?.state).toBe('ok');
    expect(pipeline.lane('a')?.units).toBe(20);
    expect(pipeline.channel(0).rejects.glitch).toBeGreaterThan(50);
  });

  it('[no-data] wall-clock silence makes every channel no_data and every lane fault until frames flow again', () => {
    const { pipeline, run, score, startEvents } = shelf(61);
    const changes: string[] = [];
    expect(pipeline.noteSilence(1_000)).toBe(false);
    expect(pipeline.noteSilence(pipeline.config.noDataMs)).toBe(true);
    for (const lane of pipeline.lanes()) expect(lane.state).toBe('fault');
    expect(pipeline.health().channels.every((c) => c.status === 'no_data')).toBe(true);
    expect(pipeline.noteSilence(pipeline.config.noDataMs + 5_000)).toBe(false);
    run(2_000);
    for (const lane of pipeline.lanes()) {
      changes.push(lane.state);
      expect(lane.state).toBe('ok');
    }
    expect(pipeline.health().status).toBe('ok');
    // Nothing changed on the shelf, so coming back is not an event.
    expect(score.events.length).toBe(startEvents);
  });

  it('[noisy] a cell with 8 g of noise is reported noisy and never produces a wrong count', () => {
    const { pipeline, score, model, run } = shelf(71, 80, { noiseGs: [1, 8, 1, 1, 1] });
    for (let i = 0; i < 20; i++) {
      model.lane('b').items = 5 + (i % 7);
      run(4_000);
    }
    expect(pipeline.channel(1).status).toBe('noisy');
    expect(pipeline.channel(1).noiseG).toBeGreaterThan(6);
    expect(pipeline.channel(0).noiseG).toBeGreaterThan(0.8);
    expect(pipeline.channel(0).noiseG).toBeLessThan(1.25);
    expect(score.wrong, score.mistakes.join('\n')).toBe(0);
  });

  it('[adjust] after a restart the first count is an adjust from the restored count, and only when it differs', () => {
    const model = new ShelfModel({
      seed: 81,
      channels: 2,
      lanes: [
        { lane: 'x', channels: [0], unitWeightG: 40, items: 7 },
        { lane: 'y', channels: [1], unitWeightG: 40, items: 3 },
      ],
    });
    const score = emptyScore();
    const { pipeline } = newPipeline(model, score, { counts: { x: 9, y: 3 } });
    expect(pipeline.lane('x')?.units).toBe(9);
    for (let i = 0; i < 160; i++) pipeline.push(model.next());
    expect(kinds(score.events)).toEqual(['x:adjust-2']);
    expect(score.events[0]?.frameSeq).toBeGreaterThan(0);
    expect(pipeline.lane('y')?.units).toBe(3);
  });
});
