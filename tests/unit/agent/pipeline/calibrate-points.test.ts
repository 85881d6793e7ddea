/**
 * Multi-point calibration: each point's residual against the median line (a wrong mass stands out,
 * good points stay near zero), removing a bad point (pure, and as the agent's `remove-point`
 * command on a live pipeline, with every class of bad argument answered naming the field), and the
 * calibration records keeping every point with its residual.
 */
import { ShelfPipeline } from '@shelfsense/agent';
import {
  CalibrationMap,
  CommandHandler,
  removePoint,
  removePointOnLane,
  type ShelfRuntime,
  withResiduals,
} from '@shelfsense/agent/testing';
import {
  type CalibrationRecord,
  type CommandName,
  type CommandResponse,
  fitPoints,
  isShelfError,
  medianSensitivity,
  nearestPoint,
  type SampleFrame,
} from '@shelfsense/protocol';
import type { IPublishPacket } from 'mqtt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ShelfModel, setLaneExtra } from './shelf-model.js';

function pathsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err.issues.map((i) => i.path);
    throw err;
  }
  throw new Error('expected a rejection');
}

/** 400 counts per gram; the technician typed 2500 g for the 2000 g mass. */
const WRONG = [
  { grams: 1000, counts: 400_000 },
  { grams: 2500, counts: 800_000 },
  { grams: 3000, counts: 1_200_000 },
];

describe('point residuals (calibration-fit)', () => {
  it('[residual] a mistyped mass stands out by its whole error; the good points read zero', () => {
    const fitted = fitPoints(WRONG);
    expect(fitted.map((p) => p.grams)).toEqual([1000, 2500, 3000]);
    expect(fitted.map((p) => p.residualG)).toEqual([0, -500, 0]);
    expect(fitted.map((p) => p.suspect)).toEqual([false, true, false]);
  });

  it('[residual] a bent cell (0.05 % at full load) and reading noise are not suspect', () => {
    const pts = [500, 1000, 2000, 5000, 10_000].map((g) => ({
      grams: g,
      counts: 400 * g * (1 + (0.0005 * g) / 10_000) + (g % 3) * 40,
    }));
    const fitted = fitPoints(pts);
    expect(fitted.every((p) => !p.suspect)).toBe(true);
    expect(Math.max(...fitted.map((p) => Math.abs(p.residualG ?? 0)))).toBeLessThan(3);
  });

  it('[residual] one point has no residual; two wrong-by-one points read the same size', () => {
    expect(fitPoints([{ grams: 1000, counts: 400_000 }])).toEqual([
      { grams: 1000, counts: 400_000, residualG: null, suspect: false },
    ]);
    const two = fitPoints(WRONG.slice(0, 2));
    expect(Math.abs(two[0]?.residualG ?? 0)).toBeCloseTo(Math.abs((two[1]?.residualG ?? 0) * 0.4), 6);
    expect(medianSensitivity([])).toBeNull();
  });

  it('[residual] either sign of cell; unusable points (zero mass or counts) are left out', () => {
    const neg = fitPoints([
      { grams: 1000, counts: -400_000 },
      { grams: 2000, counts: -800_000 },
      { grams: 0, counts: 5 },
      { grams: 3000, counts: -1_300_000 },
    ]);
    expect(neg.map((p) => p.grams)).toEqual([1000, 2000, 3000]);
    expect(neg.map((p) => p.suspect)).toEqual([false, false, true]);
    expect(neg[2]?.residualG).toBeCloseTo(250, 9);
  });

  it('[nearest] the point nearest a mass within 2 % (or half a gram)', () => {
    expect(nearestPoint(WRONG, 2480)?.grams).toBe(2500);
    expect(nearestPoint(WRONG, 2000)).toBeNull();
    expect(nearestPoint([{ grams: 10, counts: 4000 }], 10.4)?.grams).toBe(10);
    expect(nearestPoint([], 10)).toBeNull();
  });
});

describe('removing a point (pure)', () => {
  const cal = { offset: 50_000, scale: 400, points: WRONG.map((p) => ({ ...p })) };

  it('[remove-point] the nearest point leaves; the curve without it reads the true mass there', () => {
    const r = removePoint(cal, 2500);
    expect(r.removed).toEqual({ grams: 2500, counts: 800_000 });
    expect(r.after.points.map((p) => p.grams)).toEqual([1000, 3000]);
    expect(r.after.offset).toBe(50_000);
    expect(r.after.scale).toBe(400); // the heaviest point left
    expect(r.residualG).toBeCloseTo(-500, 9);
    expect(CalibrationMap.of(r.after).toGrams(800_000)).toBeCloseTo(2000, 9);
    expect(r.before).toEqual(cal);
    // Down to one point: the line through it.
    const one = removePoint(r.after, 1000);
    expect(one.after.points).toEqual([{ grams: 3000, counts: 1_200_000 }]);
    expect(CalibrationMap.of(one.after).linear).toBe(true);
  });

  it('[remove-point] refuses, naming the field: no such point, no points, the last point, a bad mass', () => {
    expect(pathsOf(() => removePoint(cal, 2000))).toEqual(['grams']);
    expect(() => removePoint(cal, 2000)).toThrow(
      /^grams: no reference point near 2000 g \(the points are 1000 g, 2500 g, 3000 g\)/,
    );
    expect(pathsOf(() => removePoint({ offset: 0, scale: 400, points: [] }, 1000))).toEqual(['grams']);
    expect(() =>
      removePoint({ offset: 0, scale: 400, points: [{ grams: 1000, counts: 4e5 }] }, 1000),
    ).toThrow(/at least one reference point/);
    expect(pathsOf(() => removePoint(cal, Number.NaN))).toEqual(['grams']);
  });

  it('[remove-point] on a lane of several channels the channel is required and must be on the lane', () => {
    const cals = [
      cal,
      {
        ...cal,
        points: [
          { grams: 500, counts: 200_000 },
          { grams: 900, counts: 360_000 },
        ],
      },
    ];
    expect(pathsOf(() => removePointOnLane([2, 3], cals, 500))).toEqual(['channel']);
    expect(pathsOf(() => removePointOnLane([2, 3], cals, 500, 1))).toEqual(['channel']);
    const r = removePointOnLane([2, 3], cals, 500, 3);
    expect(r.changes[0]).toBeNull();
    expect(r.changes[1]?.after.points).toEqual([{ grams: 900, counts: 360_000 }]);
    expect(removePointOnLane([0], [cal], 2500).removed.grams).toBe(2500);
  });

  it('[record] a calibration as recorded keeps every point with its residual', () => {
    expect(withResiduals(cal).points).toEqual([
      { grams: 1000, counts: 400_000, residualG: 0, suspect: false },
      { grams: 2500, counts: 800_000, residualG: -500, suspect: true },
      { grams: 3000, counts: 1_200_000, residualG: 0, suspect: false },
    ]);
  });
});

describe('the remove-point command on a live pipeline', () => {
  /** One linear cell, a real pipeline fed by the model, and the command handler over it. */
  function rig() {
    const model = new ShelfModel({
      seed: 23,
      channels: 2,
      driftAmplitudeG: 0,
      driftWalkG: 0,
      lanes: [
        { lane: 'a', channels: [0], unitWeightG: 250, items: 0 },
        { lane: 'b', channels: [1], unitWeightG: 100, items: 0 },
      ],
    });
    const pipeline = new ShelfPipeline({
      channels: 2,
      calibrations: model.calibrations(),
      lanes: model.laneSettings(),
    });
    const run = (ms: number) => {
      for (let i = 0; i < ms / model.period; i++) pipeline.push(model.next() as SampleFrame);
    };
    const place = (grams: number) => {
      setLaneExtra(model, model.lane('a'), grams);
      run(1_500);
    };
    const shelf = {
      shelfId: 'shelf-1',
      serial: 'SH-1',
      pipeline,
      nextFrame: async () => run(100),
    } as unknown as ShelfRuntime;
    const records: Omit<CalibrationRecord, 'seq'>[] = [];
    const replies: CommandResponse[] = [];
    const handler = new CommandHandler(
      {
        site: 'store-1',
        agent: 'pi-1',
        settleTimeoutMs: 2_000,
        verifyMs: 200,
        shelves: () => [shelf],
        respond: (_t, body) => replies.push(body),
        stream: () => undefined,
        persist: (_s, rec) => records.push(rec),
        identify: () => ({}),
      },
      pino({ level: 'silent' }),
    );
    const send = async (command: CommandName, args: Record<string, unknown>) => {
      const payload = Buffer.from(JSON.stringify({ transaction: `t${replies.length}`, args }));
      await handler.handle(command, payload, { properties: {} } as IPublishPacket);
      return replies.at(-1) as CommandResponse;
    };
    run(1_500);
    return { pipeline, place, run, send, records };
  }

  it('[remove-point] tare, three masses (one mistyped), remove it: the lane reads true and the record says so', async () => {
    const { pipeline, place, run, send, records } = rig();
    expect((await send('tare', { shelf: 'shelf-1', lane: 'a' })).status).toBe('ok');
    for (const [placed, typed] of [
      [1000, 1000],
      [2000, 2500],
      [3000, 3000],
    ] as const) {
      place(placed);
      expect((await send('calibrate', { shelf: 'shelf-1', lane: 'a', massG: typed })).status).toBe('ok');
    }
    const cal = records.at(-1) as CalibrationRecord;
    const pts = (cal.after['0'] as { points: { grams: number; residualG: number; suspect: boolean }[] })
      .points;
    expect(pts.map((p) => p.grams)).toEqual([1000, 2500, 3000]);
    expect(pts.map((p) => p.suspect)).toEqual([false, true, false]);
    expect(pts[1]?.residualG).toBeLessThan(-490);
    place(2000);
    expect(Math.abs(pipeline.channel(0).settledGrams - 2000)).toBeGreaterThan(400); // the bad point bends it

    const reply = await send('remove-point', { shelf: 'shelf-1', lane: 'a', grams: 2500 });
    expect(reply.status).toBe('ok');
    const rec = reply.data as CalibrationRecord;
    expect(rec.kind).toBe('remove-point');
    expect(rec.referenceG).toBe(2500);
    expect(rec.correctionG).toBeLessThan(-490);
    expect((rec.after['0'] as { points: { grams: number }[] }).points.map((p) => p.grams)).toEqual([
      1000, 3000,
    ]);
    expect(records.at(-1)).toEqual(rec);
    run(1_500);
    expect(Math.abs(pipeline.channel(0).settledGrams - 2000)).toBeLessThan(2);
  }, 20_000);

  it('[remove-point] bad arguments and impossible removals are refused, naming the field, changing nothing', async () => {
    const { pipeline, send, records } = rig();
    const before = JSON.stringify(pipeline.calibration(0));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ shelf: 'shelf-1', lane: 'a' }, 'SHELF_ERR_INVALID', /grams/],
      [{ shelf: 'shelf-1', lane: 'a', grams: -5 }, 'SHELF_ERR_INVALID', /grams/],
      [{ shelf: 'shelf-1', lane: 'a', grams: '500' }, 'SHELF_ERR_INVALID', /grams/],
      [{ shelf: 'shelf-1', lane: 'a', grams: 500, channel: 9 }, 'SHELF_ERR_INVALID', /channel/],
      [{ shelf: 'shelf-1', lane: 'zz', grams: 500 }, 'SHELF_ERR_UNKNOWN_LANE', /lane "zz"/],
      [{ shelf: 'ghost', lane: 'a', grams: 500 }, 'SHELF_ERR_UNKNOWN_SHELF', /shelf "ghost"/],
      [
        { shelf: 'shelf-1', lane: 'a', grams: 500 },
        'SHELF_ERR_CALIBRATION',
        /^grams: this channel has no reference points/,
      ],
      [
        { shelf: 'shelf-1', lane: 'a', grams: 500, channel: 1 },
        'SHELF_ERR_CALIBRATION',
        /^channel: channel 1 is not on this lane/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await send('remove-point', args);
      expect(r.status, JSON.stringify(args)).toBe('error');
      expect(r.error?.code, JSON.stringify(args)).toBe(code);
      expect(r.error?.message, JSON.stringify(args)).toMatch(message);
    }
    expect(JSON.stringify(pipeline.calibration(0))).toBe(before);
    expect(records).toEqual([]);
  });
});
