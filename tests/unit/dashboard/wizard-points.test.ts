/**
 * The wizard's reference points: read back per channel from the newest record that holds them,
 * with residuals (a mistyped mass marked suspect), what to tell the technician, the remove-point
 * arguments by the agent's schema, and the plot of the fitted curve.
 */
import { describe, expect, it } from 'vitest';
import {
  curvePlot,
  lanePoints,
  pointsAdvice,
  pointVerdict,
  removePointArgs,
} from '../../../dashboard/web/lib/wizard.js';

const cal = (points: { grams: number; counts: number }[]) => ({ offset: 1000, scale: 400, points });
const GOOD = [
  { grams: 1000, counts: 400_000 },
  { grams: 3000, counts: 1_200_000 },
];
const WITH_BAD = [GOOD[0]!, { grams: 2500, counts: 800_000 }, GOOD[1]!];

describe('lanePoints', () => {
  it('[points back] each channel from its newest record holding a calibration; learn-unit records skipped', () => {
    const records = [
      { kind: 'calibrate', ts: 3, after: { '0': cal(WITH_BAD) } },
      { kind: 'remove-point', ts: 5, after: { '0': cal(GOOD) } },
      { kind: 'learn-unit', ts: 9, after: { '0': { unitWeightG: 250 } } },
      { kind: 'calibrate', ts: 4, after: { '1': cal([{ grams: 500, counts: 200_000 }]) } },
      { kind: 'tare', ts: 1, after: { '0': cal([]) } },
    ];
    const lane = lanePoints(records);
    expect(lane.map((c) => [c.channel, c.ts, c.points.map((p) => p.grams)])).toEqual([
      [0, 5, [1000, 3000]],
      [1, 4, [500]],
    ]);
    expect(lane[0]?.points.every((p) => p.residualG === 0 && !p.suspect)).toBe(true);
    expect(lane[1]?.points[0]?.residualG).toBeNull();
  });

  it('[residual] a mistyped mass in the newest record is suspect; residuals are worked out again', () => {
    const [c] = lanePoints([
      {
        kind: 'calibrate',
        ts: 1,
        after: { '0': cal(WITH_BAD.map((p) => ({ ...p, residualG: 123 }))) },
      },
    ]);
    expect(c?.points.map((p) => [p.grams, p.residualG, p.suspect])).toEqual([
      [1000, 0, false],
      [2500, -500, true],
      [3000, 0, false],
    ]);
    expect(pointVerdict(c!.points[1]!)).toMatch(/^Suspect/);
    expect(pointVerdict(c!.points[0]!)).toBe('Agrees with the others');
  });

  it('ignores records without calibrations (older fixtures, odd shapes)', () => {
    expect(lanePoints([{ kind: 'tare', ts: 1, after: {} }])).toEqual([]);
    expect(
      lanePoints([{ kind: 'calibrate', ts: 1, after: { x: cal(GOOD), '2': { points: 'no' } } }]),
    ).toEqual([]);
    const [c] = lanePoints([
      { kind: 'calibrate', ts: 1, after: { '0': { points: [{ grams: 10 }, { grams: 20, counts: 8000 }] } } },
    ]);
    expect(c?.points.map((p) => p.grams)).toEqual([20]);
  });
});

describe('advice and arguments', () => {
  it('[guided] tells the technician what the points say', () => {
    const fitted = (pts: typeof GOOD) =>
      lanePoints([{ kind: 'calibrate', ts: 1, after: { '0': cal(pts) } }])[0]!.points;
    expect(pointsAdvice([])).toMatch(/^No reference points/);
    expect(pointsAdvice(fitted([GOOD[0]!]))).toMatch(/^One point/);
    expect(pointsAdvice(fitted(GOOD))).toBe('Two points agree.');
    expect(pointsAdvice(fitted([GOOD[0]!, { grams: 2500, counts: 1_200_000 }]))).toMatch(/add a third mass/);
    expect(pointsAdvice(fitted(WITH_BAD))).toBe('1 of 3 points is suspect: remove it.');
  });

  it('[remove-point] arguments by the agent schema, naming the channel the point is on', () => {
    expect(removePointArgs('shelf-a', 'L1', 2500, 3)).toEqual({
      shelf: 'shelf-a',
      lane: 'L1',
      grams: 2500,
      channel: 3,
    });
    expect(() => removePointArgs('shelf-a', 'L1', -1, 0)).toThrow();
    expect(() => removePointArgs('shelf-a', 'L1', 1, 8)).toThrow();
    expect(() => removePointArgs('bad shelf', 'L1', 1, 0)).toThrow();
  });
});

describe('curvePlot', () => {
  const fitted = lanePoints([{ kind: 'calibrate', ts: 1, after: { '0': cal(WITH_BAD) } }])[0]!.points;

  it('[fitted curve] runs from zero through every point; the bad point lies outside the band', () => {
    const plot = curvePlot(fitted, 320, 180)!;
    expect(plot.curve.split(' L')).toHaveLength(4); // (0, 0) and three points
    expect(plot.dots.map((d) => d.suspect)).toEqual([false, true, false]);
    const [a, bad, c] = plot.dots;
    // Good points on the zero line; the bad one far below it (residual −500 g), inside the frame.
    expect(a!.y).toBe(plot.zeroY);
    expect(c!.y).toBe(plot.zeroY);
    expect(bad!.y).toBeGreaterThan(plot.zeroY + 40);
    expect(bad!.y).toBeLessThanOrEqual(180 - 24);
    expect(a!.x).toBeLessThan(bad!.x);
    expect(bad!.x).toBeLessThan(c!.x);
    expect(c!.x).toBeLessThanOrEqual(320 - 16);
    expect(plot.xTicks.at(-1)!.grams).toBeGreaterThanOrEqual(3000);
    expect(plot.yTicks.some((t) => t.grams === 0 && t.at === plot.zeroY)).toBe(true);
  });

  it('needs two points with residuals', () => {
    expect(curvePlot(fitted.slice(0, 1).map((p) => ({ ...p, residualG: null })))).toBeNull();
    expect(curvePlot([])).toBeNull();
  });
});
