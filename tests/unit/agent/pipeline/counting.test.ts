/**
 * Lane counting against a seeded physical model: exact stable counts, quick settling, at 80 and
 * 10 SPS, through noise, drift, creep and junk.
 */
import { describe, expect, it } from 'vitest';
import { runPicking, type Score } from './scenario.js';
import { ShelfModel } from './shelf-model.js';

const HOUR = 3_600_000;

/** Four lanes: 10 g items (10× the 1 g noise: the hardest case), 55 g, 250 g over two cells, 1 kg. */
function mixedShelf(
  seed: number,
  rate: 10 | 80,
  extra: Partial<ConstructorParameters<typeof ShelfModel>[0]> = {},
) {
  return new ShelfModel({
    seed,
    channels: 5,
    rate,
    // A day's temperature swing squeezed into 6 h, so a 2 h run sees most of its 3 g amplitude.
    driftPeriodMs: 6 * HOUR,
    lanes: [
      { lane: 'a', channels: [0], unitWeightG: 10, items: 20, capacity: 60 },
      { lane: 'b', channels: [1], unitWeightG: 55, items: 10, capacity: 40 },
      { lane: 'c', channels: [2, 3], shares: [0.35, 0.65], unitWeightG: 250, items: 8, capacity: 30 },
      { lane: 'd', channels: [4], unitWeightG: 1000, items: 5, capacity: 12 },
    ],
    ...extra,
  });
}

function expectTargets(score: Score, minPublished: number): void {
  const detail = score.mistakes.join('\n');
  expect(score.published, 'published stable counts').toBeGreaterThanOrEqual(minPublished);
  expect(score.wrong / score.published, `wrong stable counts:\n${detail}`).toBeLessThanOrEqual(0.001);
  expect(score.restsCounted / score.rests, `rests without a stable count:\n${detail}`).toBeGreaterThanOrEqual(
    0.99,
  );
}

describe('lane counting', () => {
  it('[count-exact] ≥ 99.9 % exact stable counts and ≥ 99 % of 2 s rests counted at 80 SPS (drift, creep, junk)', () => {
    const model = mixedShelf(101, 80);
    const { score, pipeline } = runPicking(model, {
      durationMs: 2 * HOUR,
      restMs: [1500, 12_000],
      transitionMs: [200, 600],
    });
    expectTargets(score, 3000);
    expect(score.wrong).toBe(0);
    expect(score.flicker).toBe(0);
    // Settling is well under the 2 s rest the targets allow.
    const sorted = [...score.settleMs].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.99)]).toBeLessThan(1200);
    // Junk at the model's 1e-4 was seen and dropped, never counted.
    const rejects = pipeline.health().rejects;
    expect((rejects.junk_rail ?? 0) + (rejects.junk_glitch ?? 0)).toBeGreaterThan(0);
    // Every event is a whole change by the right sign.
    for (const e of score.events) {
      if (e.kind === 'pick') expect(e.delta).toBeLessThan(0);
      if (e.kind === 'restock') expect(e.delta).toBeGreaterThan(0);
    }
  });

  it('[count-10sps] the same targets at 10 SPS', () => {
    const model = mixedShelf(202, 10);
    const { score } = runPicking(model, {
      durationMs: 4 * HOUR,
      restMs: [1500, 12_000],
      transitionMs: [200, 600],
    });
    expectTargets(score, 6000);
    const sorted = [...score.settleMs].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.99)]).toBeLessThan(2000);
  });

  it('[count-10g] counts 10 g items exactly at σ 1 g on every lane, with many-item picks', () => {
    const model = new ShelfModel({
      seed: 303,
      channels: 4,
      driftPeriodMs: 4 * HOUR,
      lanes: ['p', 'q', 'r', 's'].map((lane, i) => ({
        lane,
        channels: [i],
        unitWeightG: 10,
        items: 30,
        capacity: 120,
      })),
    });
    const { score } = runPicking(model, {
      durationMs: HOUR,
      restMs: [1500, 8000],
      transitionMs: [150, 500],
      maxPick: 8,
      maxRestock: 25,
    });
    expectTargets(score, 2500);
    expect(score.wrong).toBe(0);
  });

  it('[count-junk] junk codes at 100× their usual rate and lone spikes are dropped and counted, never counted as items', () => {
    const model = mixedShelf(404, 80, { junkP: 0.01 });
    const pending: [number, number][] = [];
    let spikes = 0;
    const { score, pipeline } = runPicking(model, {
      durationMs: HOUR / 2,
      restMs: [1500, 10_000],
      transitionMs: [200, 500],
      perturb: (m) => {
        // A lone outlier of ±400 g on a random channel now and then (a bus glitch that decoded).
        if (m.rand() < 0.002) {
          const ch = Math.floor(m.rand() * 5);
          const g = (m.rand() < 0.5 ? -400 : 400) + m.rand() * 50;
          m.extra[ch] = (m.extra[ch] as number) + g;
          pending.push([ch, g]);
          spikes++;
        }
      },
      after: () => {
        for (const [ch, g] of pending) model.extra[ch] = (model.extra[ch] as number) - g;
        pending.length = 0;
      },
    });
    expectTargets(score, 700);
    expect(score.wrong).toBe(0);
    const rejects = pipeline.health().rejects;
    expect(rejects.spike, 'spikes dropped').toBeGreaterThan(spikes * 0.5);
    expect((rejects.junk_rail ?? 0) + (rejects.junk_glitch ?? 0), 'junk codes dropped').toBeGreaterThan(1000);
  });
});
