/**
 * Calibration: raw → grams (linear and piecewise-linear), the technician operations as pure
 * functions, and the same operations run through the pipeline on a settled lane.
 */
import { isPipelineError, PipelineErrorCodes, ShelfPipeline } from '@shelfsense/agent';
import {
  CalibrationMap,
  calibrateChannels,
  calibrateWithMass,
  learnUnitWeight,
  tare,
} from '@shelfsense/agent/testing';
import { ErrorCodes, isShelfError, type SampleFrame } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { ShelfModel, setLaneExtra } from './shelf-model.js';

function codeOf(fn: () => unknown): { code: string; paths: string[] } {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return { code: err.code, paths: err.issues.map((i) => i.path) };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('calibration maps', () => {
  it('[cal-linear] grams = (raw − offset) / scale, either sign of cell', () => {
    const m = CalibrationMap.of({ offset: 100_000, scale: 420, points: [] });
    expect(m.toGrams(4200)).toBeCloseTo(10, 9);
    expect(m.toCounts(10)).toBeCloseTo(4200, 9);
    const neg = CalibrationMap.of({ offset: 0, scale: -400, points: [{ grams: 100, counts: -40_000 }] });
    expect(neg.toGrams(-80_000)).toBeCloseTo(200, 9);
    expect(neg.minSlope).toBe(400);
  });

  it('[cal-piecewise] with two or more points, piecewise-linear through (0, 0) and every point', () => {
    const m = CalibrationMap.of({
      offset: 0,
      scale: 430,
      points: [
        { grams: 5000, counts: 2_150_000 },
        { grams: 1000, counts: 420_000 },
      ],
    });
    expect(m.toGrams(420_000)).toBeCloseTo(1000, 9);
    expect(m.toGrams(2_150_000)).toBeCloseTo(5000, 9);
    expect(m.toGrams(210_000)).toBeCloseTo(500, 9);
    expect(m.toGrams(1_285_000)).toBeCloseTo(3000, 9);
    // Beyond the ends: the end segments go on.
    expect(m.toGrams(-42_000)).toBeCloseTo(-100, 9);
    expect(m.toGrams(2_150_000 + 432_500)).toBeCloseTo(6000, 9);
    for (const g of [-50, 0, 700, 2500, 4999, 8000]) expect(m.toGrams(m.toCounts(g))).toBeCloseTo(g, 6);
    expect(m.minSlope).toBe(420);
  });

  it('[cal-piecewise] points that would make the table non-monotonic are left out', () => {
    const m = CalibrationMap.of({
      offset: 0,
      scale: 420,
      points: [
        { grams: 1000, counts: 420_000 },
        { grams: 2000, counts: 400_000 },
        { grams: 3000, counts: 1_260_000 },
      ],
    });
    expect(m.toGrams(840_000)).toBeCloseTo(2000, 9);
  });
});

describe('technician operations (pure)', () => {
  const cal = { offset: 100_000, scale: 400, points: [] };

  it('[tare] the settled raw becomes the offset; the residual is what the old calibration read', () => {
    const r = tare(cal, 104_000, 400);
    expect(r.after).toEqual({ offset: 104_000, scale: 400, points: [] });
    expect(r.before).toEqual(cal);
    expect(r.residualG).toBeCloseTo(9, 9); // (104000 − 100000 − 400) / 400
  });

  it('[calibrate] scale from (raw − offset) / mass; a second mass makes a piecewise table; a near one replaces', () => {
    const first = calibrateWithMass(cal, 100_000 + 840_000, 2000);
    expect(first.after.scale).toBe(420);
    expect(first.after.points).toEqual([{ grams: 2000, counts: 840_000 }]);
    expect(first.residualG).toBeCloseTo(100, 9); // the old scale read 2100 g
    const second = calibrateWithMass(first.after, 100_000 + 3_400_000, 8000);
    expect(second.after.points.map((p) => p.grams)).toEqual([2000, 8000]);
    expect(second.after.scale).toBe(425);
    const third = calibrateWithMass(second.after, 100_000 + 845_000, 2010);
    expect(third.after.points.map((p) => p.grams)).toEqual([2010, 8000]);
    // Zero-tracking's correction is folded into the offset.
    const folded = calibrateWithMass(cal, 100_000 + 4000 + 420_000, 1000, 4000);
    expect(folded.after.offset).toBe(104_000);
    expect(folded.after.scale).toBe(420);
  });

  it('[calibrate] refuses a non-positive mass and a cell that does not respond, naming the field', () => {
    expect(codeOf(() => calibrateWithMass(cal, 200_000, 0))).toEqual({
      code: PipelineErrorCodes.CALIBRATION,
      paths: ['massG'],
    });
    expect(codeOf(() => calibrateWithMass(cal, 100_000, 500)).code).toBe(PipelineErrorCodes.CALIBRATION);
  });

  it('[learn-unit] unit = net / N; residual = net − N × old unit', () => {
    expect(learnUnitWeight(450, 12, 40)).toEqual({ before: 40, after: 37.5, residualG: -30 });
    expect(codeOf(() => learnUnitWeight(450, 0, 40)).paths).toEqual(['count']);
    expect(codeOf(() => learnUnitWeight(-3, 2, 40)).paths).toEqual(['netG']);
  });

  it('[calibrate-lane] a mass over several cells is shared as each cell read it; a cell under 5 % keeps its calibration', () => {
    const cals = [
      { offset: 0, scale: 400, points: [] },
      { offset: 0, scale: 500, points: [] },
      { offset: 0, scale: 450, points: [] },
    ];
    // The old calibrations read 600 g, 390 g and 9 g: 999 g for a 1000 g mass.
    const { changes, residualG } = calibrateChannels(cals, [240_000, 195_000, 4_050], [0, 0, 0], 1000);
    expect(residualG).toBeCloseTo(-1, 9);
    expect(changes[2]).toBeNull();
    const g0 = (changes[0]?.after.points[0]?.grams ?? 0) + (changes[1]?.after.points[0]?.grams ?? 0);
    expect(g0).toBeCloseTo(1000 * (990 / 999), 6);
  });
});

describe('technician operations through the pipeline', () => {
  /** One lane on one slightly non-linear cell (3 % more counts per gram at 10 kg). */
  function rig() {
    const model = new ShelfModel({
      seed: 17,
      channels: 1,
      bend: 0.03,
      driftAmplitudeG: 0,
      driftWalkG: 0,
      lanes: [{ lane: 'a', channels: [0], unitWeightG: 40, items: 0 }],
    });
    const truth = model.calibrations()[0] as { offset: number; scale: number };
    const events: string[] = [];
    // A rough factory calibration: zero 30 g off, scale 5 % off.
    const pipeline = new ShelfPipeline({
      channels: 1,
      calibrations: [{ offset: truth.offset + 30 * truth.scale, scale: truth.scale * 1.05, points: [] }],
      lanes: model.laneSettings(),
      onEvent: (e) => events.push(`${e.kind}${e.delta}`),
    });
    const run = (ms: number) => {
      for (let i = 0; i < ms / model.period; i++) pipeline.push(model.next() as SampleFrame);
    };
    const place = (grams: number) => {
      setLaneExtra(model, model.lane('a'), grams);
      run(1_500);
    };
    return { model, pipeline, events, run, place };
  }

  it('[cal-pipeline] tare, then calibrate with 2 kg, 5 kg and 8 kg: piecewise readings track the bent cell', () => {
    const { pipeline, run, place } = rig();
    run(1_500);
    const t = pipeline.tareLane('a');
    // The factory zero sat 30 g too high, read through a scale 5 % too steep.
    expect(t.residualG).toBeLessThan(-25);
    expect(t.residualG).toBeGreaterThan(-32);
    run(1_000);
    expect(Math.abs(pipeline.channel(0).settledGrams)).toBeLessThan(0.5);
    place(2000);
    const c1 = pipeline.calibrateLane('a', 2000);
    expect(c1.residualG).toBeLessThan(-70); // the factory scale read about 4 % low (5 % less the bend)
    expect(c1.changes[0]?.after.points).toHaveLength(1);
    place(5000);
    pipeline.calibrateLane('a', 5000);
    place(8000);
    const c3 = pipeline.calibrateLane('a', 8000);
    expect(c3.changes[0]?.after.points.map((p) => p.grams)).toEqual([2000, 5000, 8000]);
    run(1_000);
    place(6500);
    const piecewise = pipeline.channel(0).settledGrams - 6500;
    // A single-point (linear) calibration at 8 kg would be off by about 28 g here.
    const linear = CalibrationMap.of({ ...pipeline.calibration(0), points: [] });
    const linearErr = linear.toGrams(pipeline.channel(0).settledRaw - pipeline.calibration(0).offset) - 6500;
    expect(Math.abs(piecewise)).toBeLessThan(10);
    expect(Math.abs(linearErr)).toBeGreaterThan(20);
  });

  it('[learn-unit-pipeline] learns the unit weight from N items and recounts with it (an adjust)', () => {
    const { model, pipeline, run, events } = rig();
    run(1_500);
    pipeline.tareLane('a');
    run(1_500);
    model.lane('a').unitWeightG = 37.5; // the real items weigh 37.5 g; the lane setting says 40
    model.lane('a').items = 12;
    run(1_500);
    const { change } = pipeline.learnUnit('a', 12);
    expect(change.before).toBe(40);
    expect(Math.abs(change.after * 1.05 - 37.5)).toBeLessThan(0.5); // still on the 5 %-off scale
    run(1_500);
    expect(pipeline.lane('a')?.unitWeightG).toBe(change.after);
    expect(pipeline.lane('a')?.units).toBe(12);
    expect(events.at(-1)).toMatch(/^adjust/);
  });

  it('[cal-errors] operations need a known, settled, healthy lane; settings are validated field by field', () => {
    const { model, pipeline, run } = rig();
    // Before the first frame the lane is not settled yet (a command waits), not faulty.
    expect(codeOf(() => pipeline.tareLane('a')).code).toBe(PipelineErrorCodes.NOT_STABLE);
    run(1_500);
    expect(codeOf(() => pipeline.tareLane('zz')).code).toBe(PipelineErrorCodes.UNKNOWN_LANE);
    setLaneExtra(model, model.lane('a'), 500);
    for (let i = 0; i < 10; i++) pipeline.push(model.next());
    const err = codeOf(() => pipeline.calibrateLane('a', 500));
    expect(err.code).toBe(PipelineErrorCodes.NOT_STABLE);
    model.fault[0] = 'rail';
    run(1_000);
    let thrown: unknown;
    try {
      pipeline.tareLane('a');
    } catch (e) {
      thrown = e;
    }
    expect(isPipelineError(thrown, PipelineErrorCodes.LANE_FAULT)).toBe(true);
    expect(codeOf(() => pipeline.setCalibration(0, { offset: 0, scale: 0 }))).toEqual({
      code: ErrorCodes.INVALID,
      paths: ['scale'],
    });
    const bad = codeOf(
      () =>
        new ShelfPipeline({
          channels: 2,
          calibrations: [{ offset: 0, scale: 1 }],
          lanes: [
            { lane: 'a', channels: [0, 2], unitWeightG: 10 },
            { lane: 'b', channels: [0], unitWeightG: -1 },
          ],
        }),
    );
    expect(bad.code).toBe(ErrorCodes.INVALID);
    expect(bad.paths).toEqual(expect.arrayContaining(['lanes.1.unitWeightG']));
    const bad2 = codeOf(
      () =>
        new ShelfPipeline({
          channels: 2,
          calibrations: [{ offset: 0, scale: 1 }],
          lanes: [
            { lane: 'a', channels: [0, 2], unitWeightG: 10 },
            { lane: 'b', channels: [0], unitWeightG: 5 },
          ],
        }),
    );
    expect(bad2.paths).toEqual(
      expect.arrayContaining(['calibrations', 'lanes.0.channels.1', 'lanes.1.channels.0']),
    );
    expect(codeOf(() => pipeline.setLanes([{ lane: 'a', channels: [3], unitWeightG: 1 }])).paths).toEqual([
      '0.channels.0',
    ]);
  });
});
