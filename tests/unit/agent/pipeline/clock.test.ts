/**
 * The pipeline runs on the shelf's device clock: uint32 deviceMs and seq wrap, lines get lost,
 * frames repeat, shelves reboot, rates change — and the counts stay exact.
 */
import { DeviceClock, Tick } from '@shelfsense/agent/testing';
import type { SampleFrame } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { emptyScore, newPipeline, runPicking } from './scenario.js';
import { ShelfModel } from './shelf-model.js';

const TWO_32 = 4_294_967_296;

function shelf(seed: number, extra: Partial<ConstructorParameters<typeof ShelfModel>[0]> = {}) {
  return new ShelfModel({
    seed,
    channels: 3,
    lanes: [
      { lane: 'a', channels: [0], unitWeightG: 10, items: 15 },
      { lane: 'b', channels: [1, 2], unitWeightG: 120, items: 6 },
    ],
    ...extra,
  });
}

describe('device clock', () => {
  it('[clock-unit] unwraps deviceMs and seq modulo 2^32, counts lost and repeated frames, spots a restart', () => {
    const c = new DeviceClock(80, 250);
    expect(c.advance(TWO_32 - 2, TWO_32 - 10)).toBe(Tick.FIRST);
    expect(c.advance(TWO_32 - 1, TWO_32 - 10 + 12)).toBe(Tick.NEXT);
    expect(c.t).toBe(TWO_32 + 2);
    // seq wraps to 0 and deviceMs to 15: both +1 frame / +13 ms.
    expect(c.advance(0, 15)).toBe(Tick.NEXT);
    expect(c.t).toBe(TWO_32 + 15);
    expect(c.dt).toBe(13);
    expect(c.advance(0, 15)).toBe(Tick.DUPLICATE);
    expect(c.duplicates).toBe(1);
    // Three frames lost.
    expect(c.advance(4, 15 + 50)).toBe(Tick.NEXT);
    expect(c.dropped).toBe(3);
    // A hole longer than the filters bridge.
    expect(c.advance(40, 15 + 50 + 450)).toBe(Tick.GAP);
    expect(c.dropped).toBe(3 + 35);
    // The shelf rebooted: both counters back near zero; time keeps going forward.
    const before = c.t;
    expect(c.advance(0, 3)).toBe(Tick.RESTART);
    expect(c.restarts).toBe(1);
    expect(c.t).toBeGreaterThan(before);
  });

  it('[clock-rate] notices a change of sample rate from the frame period', () => {
    const c = new DeviceClock(80, 1_000);
    let ms = 0;
    for (let s = 0; s < 40; s++) {
      ms += s % 2 ? 12 : 13;
      c.advance(s, ms);
    }
    expect(c.rate).toBe(80);
    for (let s = 40; s < 80; s++) {
      ms += 100;
      c.advance(s, ms);
    }
    expect(c.rate).toBe(10);
  });

  it('[clock-wrap] counts stay exact across a deviceMs and seq wrap', () => {
    // deviceMs wraps 20 minutes in, seq about 15 minutes in.
    const model = shelf(5, { startMs: TWO_32 - 20 * 60_000, startSeq: TWO_32 - 72_000 });
    const { score, pipeline } = runPicking(model, {
      durationMs: 40 * 60_000,
      restMs: [1_500, 10_000],
      transitionMs: [200, 500],
    });
    expect(model.t).toBeGreaterThan(TWO_32);
    expect(model.seq).toBeGreaterThan(TWO_32);
    expect(score.published).toBeGreaterThan(500);
    expect(score.wrong, score.mistakes.join('\n')).toBe(0);
    expect(score.restsCounted / score.rests).toBeGreaterThanOrEqual(0.99);
    const rejects = pipeline.health().rejects;
    expect(rejects.shelf_restart).toBe(0);
    expect(rejects.clock_hole).toBe(0);
  });

  it('[clock-gaps] lost lines (3 % scattered, bursts, a 2 s outage) and repeated frames leave the counts exact', () => {
    const model = shelf(6);
    let lost = 0;
    let burst = 0;
    let repeats = 0;
    const lose = (frame: SampleFrame): boolean => {
      const minute = (frame.deviceMs - 1_000) / 60_000;
      if (minute >= 10 && minute < 10 + 2 / 60) return true; // a 2 s outage ten minutes in
      if (burst > 0) {
        burst--;
        return true;
      }
      if (model.rand() < 0.001) {
        burst = 9; // a burst of 10 lines
        return true;
      }
      return model.rand() < 0.03;
    };
    const { score, pipeline } = runPicking(model, {
      durationMs: 30 * 60_000,
      restMs: [1_500, 10_000],
      transitionMs: [200, 500],
      drop: (frame) => {
        const gone = lose(frame);
        if (gone) lost++;
        return gone;
      },
      repeat: () => {
        const again = model.rand() < 0.01;
        if (again) repeats++;
        return again;
      },
    });
    expect(score.published).toBeGreaterThan(400);
    expect(score.wrong, score.mistakes.join('\n')).toBe(0);
    expect(score.restsCounted / score.rests).toBeGreaterThanOrEqual(0.99);
    const rejects = pipeline.health().rejects;
    expect(pipeline.lostFrames).toBe(lost);
    expect(rejects.seq_lost, "lost frames are the link's gap count, not repeated").toBeUndefined();
    expect(rejects.duplicate).toBe(repeats);
    expect(rejects.clock_hole).toBeGreaterThanOrEqual(1);
  });

  it('[clock-restart] a shelf that reboots (seq and deviceMs back to 0) keeps its counts; a change meanwhile is an adjust', () => {
    const model = shelf(7);
    const score = emptyScore();
    const { pipeline } = newPipeline(model, score);
    const run = (ms: number) => {
      for (let i = 0; i < ms / model.period; i++) pipeline.push(model.next());
    };
    run(2_000);
    // Reboot: both counters start again; two items were taken while it was down.
    model.seq = 0;
    model.t = 0;
    model.lane('a').items = 13;
    run(2_000);
    expect(pipeline.health().rejects.shelf_restart).toBe(1);
    expect(score.events.map((e) => `${e.lane}:${e.kind}${e.delta}`)).toEqual([
      'a:adjust15',
      'b:adjust6',
      'a:adjust-2',
    ]);
    expect(pipeline.lane('b')?.units).toBe(6);
    expect(pipeline.lane('a')?.state).toBe('ok');
  });
});
