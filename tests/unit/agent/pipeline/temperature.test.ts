/**
 * Temperature compensation in the pipeline, on a small seeded shelf whose cells follow the
 * simulator's thermal model: raw = offset + scale × ((load + tray) × (1 + span·ΔT) + zero·ΔT + noise),
 * ΔT = T − 20 °C, frames carrying the temperature (0.0625 °C steps) once a second.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, ShelfPipeline, type ShelfPipelineOptions } from '@shelfsense/agent';
import { LaneCountStore, ShelfRuntime } from '@shelfsense/agent/testing';
import {
  AgentConfig,
  type HealthPayload,
  isShelfError,
  parseWith,
  type SampleFrame,
  SignalConfig,
} from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { gaussian, rng } from './shelf-model.js';

interface Cell {
  zeroGPerC: number;
  spanPpmPerC: number;
}

/** One lane per cell; the temperature is set by the test. */
class ThermalShelf {
  readonly rate: 10 | 80;
  t = 1_000;
  seq = 0;
  tempC = 20;
  /** Send the temperature on frames (once a second). */
  sensor = true;
  readonly items: number[];
  readonly extra: number[];
  readonly offset: number[];
  readonly scale: number[];
  private readonly gauss: () => number;
  private nextTempT = 0;

  constructor(
    readonly cells: Cell[],
    readonly unitG: number[],
    items: number[],
    rate: 10 | 80 = 10,
    readonly trayG = 400,
    seed = 5,
  ) {
    this.rate = rate;
    this.items = [...items];
    this.extra = cells.map(() => 0);
    const rand = rng(seed);
    this.gauss = gaussian(rand);
    this.offset = cells.map(() => Math.round(80_000 + rand() * 100_000));
    this.scale = cells.map(() => 420 * (0.9 + rand() * 0.2));
  }

  /** What a tare at `tempC` (and a perfect scale at 20 °C) gives, with no coefficients. */
  calibrations(tempC = this.tempC) {
    return this.cells.map((c, i) => {
      const dT = tempC - 20;
      const s = this.scale[i] as number;
      return {
        offset:
          (this.offset[i] as number) + s * (this.trayG * (1 + c.spanPpmPerC * 1e-6 * dT) + c.zeroGPerC * dT),
        scale: s,
        points: [],
      };
    });
  }

  lanes() {
    return this.cells.map((_, i) => ({
      lane: `L${i}`,
      channels: [i],
      sku: null,
      unitWeightG: this.unitG[i] as number,
      capacity: null,
    }));
  }

  next(): SampleFrame {
    const dT = this.tempC - 20;
    const raw = this.cells.map((c, i) => {
      const load =
        this.trayG + (this.items[i] as number) * (this.unitG[i] as number) + (this.extra[i] as number);
      const g = load * (1 + c.spanPpmPerC * 1e-6 * dT) + c.zeroGPerC * dT + 0.5 * this.gauss();
      return Math.round((this.offset[i] as number) + (this.scale[i] as number) * g);
    });
    const frame: SampleFrame = { type: 'sample', seq: this.seq, deviceMs: Math.floor(this.t), raw };
    if (this.sensor && this.t >= this.nextTempT) {
      frame.tempC = Math.round(this.tempC * 16) / 16;
      this.nextTempT = this.t + 1000;
    }
    this.seq++;
    this.t += 1000 / this.rate;
    return frame;
  }

  /** The shelf reboots: its clock and sequence start again. */
  reboot(): void {
    this.t = 0;
    this.seq = 0;
    this.nextTempT = 0;
  }

  /** Runs `ms` while the temperature moves linearly to `toC`; `each` after every frame. */
  run(feed: (f: SampleFrame) => void, ms: number, toC = this.tempC, each?: () => void): void {
    const n = Math.round((ms * this.rate) / 1000);
    const from = this.tempC;
    for (let i = 0; i < n; i++) {
      this.tempC = from + ((toC - from) * (i + 1)) / n;
      feed(this.next());
      each?.();
    }
  }
}

const HOUR = 3_600_000;
const CELLS: Cell[] = [
  { zeroGPerC: 0.25, spanPpmPerC: 50 },
  { zeroGPerC: -0.2, spanPpmPerC: -40 },
];

function pipelineFor(shelf: ThermalShelf, extra: Partial<ShelfPipelineOptions> = {}): ShelfPipeline {
  return new ShelfPipeline({
    channels: shelf.cells.length,
    rate: shelf.rate,
    calibrations: shelf.calibrations(),
    lanes: shelf.lanes(),
    ...extra,
  });
}

function thermalOf(shelf: ThermalShelf, tempC = 20) {
  return shelf.calibrations(tempC).map((cal, i) => ({
    ...cal,
    tempC,
    thermal: {
      refC: 20,
      zeroGPerC: (CELLS[i] as Cell).zeroGPerC + (CELLS[i] as Cell).spanPpmPerC * 1e-6 * shelf.trayG,
      spanPpmPerC: (CELLS[i] as Cell).spanPpmPerC,
      source: 'calibration' as const,
    },
  }));
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err.issues.map((i) => i.path);
    throw err;
  }
  return [];
}

describe('temperature compensation', () => {
  it('[temp-config] refuses bad temperature settings and coefficients, naming the field', () => {
    expect(() => SignalConfig.parse({ temperature: { holdMs: 10 } })).toThrow();
    const bad = SignalConfig.safeParse({ temperature: { learnMinSpanC: -1, bogus: 1 } });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('temperature.learnMinSpanC');
    expect(paths?.some((p) => p.startsWith('temperature'))).toBe(true);
    expect(SignalConfig.parse({}).temperature).toMatchObject({
      compensate: true,
      holdMs: 10_000,
      learn: true,
    });
    expect(SignalConfig.parse({ temperature: { holdMs: '30s' } }).temperature.holdMs).toBe(30_000);
    const agent = AgentConfig.safeParse({
      agent: { id: 'a', site: 's' },
      sources: [{ path: '/dev/x' }],
      broker: { url: 'mqtt://x:1883' },
      signal: { temperature: { maxSpanPpmPerC: 0 } },
    });
    expect(agent.error?.issues.map((i) => i.path.join('.'))).toContain('signal.temperature.maxSpanPpmPerC');
    const shelf = new ThermalShelf(CELLS, [10, 50], [10, 10]);
    const cals = thermalOf(shelf);
    const withBad = (patch: object) =>
      issuesOf(() => pipelineFor(shelf, { calibrations: [{ ...cals[0], ...patch }, cals[1]] as never }));
    expect(withBad({ tempC: 200 })).toContain('calibrations.0.tempC');
    expect(withBad({ thermal: { ...cals[0]?.thermal, zeroGPerC: 80 } })).toContain(
      'calibrations.0.thermal.zeroGPerC',
    );
    expect(withBad({ thermal: { ...cals[0]?.thermal, source: 'guess' } })).toContain(
      'calibrations.0.thermal.source',
    );
    expect(withBad({ thermal: { zeroGPerC: 0.1, spanPpmPerC: 0, source: 'learned' } })).toContain(
      'calibrations.0.thermal.refC',
    );
    expect(withBad({ points: [{ grams: 10, counts: 4200, tempC: -80 }] })).toContain(
      'calibrations.0.points.0.tempC',
    );
  });

  it('[temp-compensate] a 15 °C swing: the corrected reading stays on the load; uncorrected it drifts by zero + span', () => {
    const shelf = new ThermalShelf(CELLS, [10, 120], [40, 30]);
    const comp = pipelineFor(shelf, { calibrations: thermalOf(shelf) });
    const plain = pipelineFor(shelf);
    // Mean error of each quarter hour of the ramp (the noise averages out), grams.
    const err = { comp: [] as number[], plain: [] as number[] };
    let sum = 0;
    let sumPlain = 0;
    let n = 0;
    shelf.run(
      (f) => {
        comp.push(f);
        plain.push({ ...f, tempC: undefined });
      },
      2 * HOUR,
      35,
      () => {
        if (!comp.channel(0).stable || !plain.channel(0).stable) return;
        sum += comp.channel(0).settledGrams - 400;
        sumPlain += plain.channel(0).settledGrams - 400;
        if (++n < 9_000) return;
        err.comp.push(sum / n);
        err.plain.push(sumPlain / n);
        sum = sumPlain = n = 0;
      },
    );
    expect(Math.max(...err.comp.map(Math.abs))).toBeLessThan(0.1);
    // Zero 0.25 g/°C plus 50 ppm/°C of 800 g: about 4.3 g at the end of the ramp to 35 °C (plain
    // zero-tracking does not run on a loaded lane).
    expect(err.plain.at(-1)).toBeGreaterThan(3);
    expect(comp.temperatureC).toBeCloseTo(35, 1);
    expect(comp.health().tempC).toBeCloseTo(35, 1);
    expect(comp.health().channels[0]?.thermal?.spanPpmPerC).toBe(50);
    expect(comp.lane('L0')?.units).toBe(40);
    expect(comp.lane('L1')?.units).toBe(30);
  });

  it('[temp-none] without temperature on the frames nothing changes: same grams as a calibration without coefficients', () => {
    const shelf = new ThermalShelf(CELLS, [10, 120], [20, 10]);
    shelf.sensor = false;
    const withCoeffs = pipelineFor(shelf, { calibrations: thermalOf(shelf) });
    const without = pipelineFor(shelf);
    const counts: (number | null)[][] = [[], []];
    shelf.run(
      (f) => {
        withCoeffs.push(f);
        without.push(f);
      },
      60_000,
      25,
      () => {
        counts[0]?.push(withCoeffs.lane('L0')?.units ?? null);
        counts[1]?.push(without.lane('L0')?.units ?? null);
      },
    );
    // After the wait for a temperature (holdMs), the two read exactly the same.
    expect(withCoeffs.channel(0).settledGrams).toBe(without.channel(0).settledGrams);
    expect(withCoeffs.temperatureC).toBeNull();
    expect(withCoeffs.health().tempC).toBeUndefined();
    expect(counts[0]?.at(-1)).toBe(20);
    expect(counts[0]?.slice(150)).toEqual(counts[1]?.slice(150));
  });

  it('[temp-hold] the temperature holds for holdMs, then is unknown; the reading stays continuous and counts stay right', () => {
    const shelf = new ThermalShelf(CELLS, [10, 120], [30, 10]);
    const p = pipelineFor(shelf, { calibrations: thermalOf(shelf) });
    const events: string[] = [];
    const feed = (f: SampleFrame) => p.push(f);
    shelf.run(feed, 60_000, 30);
    expect(p.temperatureC).toBeCloseTo(30, 0);
    const before = p.channel(0).settledGrams;
    shelf.sensor = false;
    shelf.run(feed, 5_000);
    expect(p.temperatureC).toBeCloseTo(30, 0); // held
    shelf.run(feed, 10_000);
    expect(p.temperatureC).toBeNull();
    expect(Math.abs(p.channel(0).settledGrams - before)).toBeLessThan(0.3);
    // Back: continuous again, and counting on.
    shelf.sensor = true;
    const unknown = p.channel(0).settledGrams;
    shelf.run(feed, 5_000);
    expect(p.temperatureC).toBe(30);
    expect(Math.abs(p.channel(0).settledGrams - unknown)).toBeLessThan(0.3);
    expect(events).toEqual([]);
    expect(p.lane('L0')?.units).toBe(30);
  });

  it('[temp-restart] after a shelf restart a lane waits for the temperature before counting, then counts right across 20 °C', () => {
    const shelf = new ThermalShelf(CELLS, [10, 120], [30, 10]);
    const events: string[] = [];
    const p = pipelineFor(shelf, {
      calibrations: thermalOf(shelf),
      onEvent: (e) => events.push(`${e.lane}:${e.kind}${e.delta}`),
    });
    const feed = (f: SampleFrame) => p.push(f);
    shelf.run(feed, 30_000);
    expect(p.lane('L0')?.units).toBe(30);
    expect(events).toEqual(['L0:adjust30', 'L1:adjust10']);
    events.length = 0;
    // Off for a season: 20 °C colder; the first frames come before the sensor's first reading.
    shelf.tempC = 0;
    shelf.reboot();
    shelf.sensor = false;
    let stableBeforeTemp = false;
    shelf.run(feed, 3_000, 0, () => {
      if (p.lane('L0')?.stable) stableBeforeTemp = true;
    });
    expect(stableBeforeTemp).toBe(false);
    shelf.sensor = true;
    shelf.run(feed, 10_000);
    expect(p.lane('L0')?.state).toBe('ok');
    expect(p.lane('L0')?.units).toBe(30);
    expect(p.lane('L1')?.units).toBe(10);
    expect(events).toEqual([]);
  });

  it('[temp-learn] learns zero and span at rest from daily swings, through picks and a hand, and uses them', () => {
    // Two lanes: one empty (zero alone), one loaded; 10 SPS, a day of slow swings.
    const shelf = new ThermalShelf(CELLS, [10, 250], [0, 12]);
    const learned: { channel: number; zero: number; span: number }[] = [];
    const p = pipelineFor(shelf, {
      signal: { temperature: { learnSettleMs: 120_000, learnMinEvidence: 40 } },
      onCalibrationLearned: (channel, cal) =>
        learned.push({
          channel,
          zero: cal.thermal?.zeroGPerC ?? Number.NaN,
          span: cal.thermal?.spanPpmPerC ?? Number.NaN,
        }),
    });
    const feed = (f: SampleFrame) => p.push(f);
    // Rests of 2 h over ±4 °C, a restock and a pick between them, and a hand now and then.
    const temps = [24, 16, 22, 14, 20, 26];
    const loads = [12, 20, 6, 16, 9, 14];
    temps.forEach((T, i) => {
      shelf.items[1] = loads[i] as number;
      shelf.run(feed, 2 * HOUR, T);
      shelf.extra[1] = 35;
      shelf.run(feed, 4_000);
      shelf.extra[1] = 0;
    });
    const last0 = learned.filter((l) => l.channel === 0).at(-1);
    const last1 = learned.filter((l) => l.channel === 1).at(-1);
    // Channel 0's lane is empty: its zero (with the tray's span) is learned; the span has no load to show in.
    expect(last0?.zero).toBeCloseTo(0.25 + 50e-6 * 400, 1);
    expect(last1?.zero).toBeCloseTo(-0.2 - 40e-6 * 400, 1);
    expect(last1?.span).toBeGreaterThan(-80);
    expect(last1?.span).toBeLessThan(0);
    expect(p.calibration(1).thermal?.source).toBe('learned');
    expect(p.health().channels[1]?.thermal?.source).toBe('learned');
    // In force: 15 °C later the loaded lane reads within 1 g of its load.
    shelf.run(feed, HOUR, 35);
    expect(Math.abs(p.channel(1).settledGrams - 14 * 250)).toBeLessThan(1.5);
    expect(p.lane('L1')?.units).toBe(14);
  });

  it('[temp-calibrate] a tare and a reference mass at two temperatures give the zero and span coefficients', () => {
    const shelf = new ThermalShelf([{ zeroGPerC: 0.3, spanPpmPerC: 60 }], [100], [0]);
    shelf.tempC = 10;
    const p = pipelineFor(shelf);
    const feed = (f: SampleFrame) => p.push(f);
    shelf.run(feed, 5_000);
    const tare1 = p.tareLane('L0');
    expect(tare1.changes[0]?.after.tempC).toBe(10);
    shelf.items[0] = 20; // 2000 g reference
    shelf.run(feed, 5_000);
    p.calibrateLane('L0', 2000);
    expect(p.calibration(0).points[0]?.tempC).toBe(10);
    shelf.items[0] = 0;
    shelf.run(feed, 5_000, 30);
    shelf.run(feed, 5_000);
    const tare2 = p.tareLane('L0');
    const zero = tare2.changes[0]?.after.thermal?.zeroGPerC ?? 0;
    expect(zero).toBeCloseTo(0.3 + 60e-6 * 400, 1);
    expect(tare2.changes[0]?.after.thermal?.source).toBe('calibration');
    shelf.items[0] = 20;
    shelf.run(feed, 5_000);
    p.calibrateLane('L0', 2000);
    const th = p.calibration(0).thermal;
    expect(th?.refC).toBe(30);
    expect(th?.spanPpmPerC).toBeGreaterThan(45);
    expect(th?.spanPpmPerC).toBeLessThan(75);
    // Both in force: back at 0 °C the 2000 g read within 1 g.
    shelf.run(feed, 10_000, 0);
    shelf.run(feed, 5_000);
    expect(Math.abs(p.channel(0).settledGrams - 2000)).toBeLessThan(1);
  });

  it('[temp-persist] learned coefficients are saved per serial and channel, survive an agent restart and show in health', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'agent-thermal-'));
    try {
      const log = createLogger('silent');
      const config = learningConfig(stateDir);
      const shelf = new ThermalShelf([{ zeroGPerC: 0.3, spanPpmPerC: 0 }], [50], [10]);
      const health: HealthPayload[] = [];
      const runtime = () =>
        new ShelfRuntime(
          {
            identity: { type: 'identity', serial: 'SN-T', firmware: '1.1.0', channels: 1, rate: 10 },
            shelfId: 'shelf-t',
            lanes: shelf.lanes(),
            calibrations: shelf.calibrations(),
            counts: new LaneCountStore(stateDir, log),
          },
          config,
          { record: () => undefined, health: (_t, p) => health.push(p) },
          log,
        );
      const first = runtime();
      shelf.run((f) => first.push(f), 40 * 60_000, 26);
      shelf.items[0] = 9; // a pick ends the rest: it teaches
      shelf.run((f) => first.push(f), 10_000);
      const file = JSON.parse(readFileSync(join(stateDir, 'calibration', 'SN-T.json'), 'utf8'));
      expect(file.thermal['0'].source).toBe('learned');
      // One load only: zero and span share the slope at that load (500 g), which is what counts there.
      const { zeroGPerC, spanPpmPerC } = file.thermal['0'];
      expect(zeroGPerC + spanPpmPerC * 1e-6 * 500).toBeCloseTo(0.3, 1);
      first.publishHealth(true);
      expect(health.at(-1)?.channels[0]).toMatchObject({ thermal: { source: 'learned' } });
      expect((health.at(-1) as { tempC?: number }).tempC).toBeCloseTo(26, 0);
      // The agent restarts: the shelf's calibration comes back with the coefficients in force.
      const second = runtime();
      expect(second.pipeline.calibration(0).thermal?.zeroGPerC).toBe(file.thermal['0'].zeroGPerC);
      // A two-temperature calibration stored for the channel wins over what was learned.
      file.channels = {
        '0': {
          ...shelf.calibrations()[0],
          thermal: { refC: 20, zeroGPerC: 0.31, spanPpmPerC: 0, source: 'calibration' },
        },
      };
      writeFileSync(join(stateDir, 'calibration', 'SN-T.json'), JSON.stringify(file));
      const stored = file.channels['0'];
      const third = new ShelfRuntime(
        {
          identity: { type: 'identity', serial: 'SN-T', firmware: '1.1.0', channels: 1, rate: 10 },
          shelfId: 'shelf-t',
          lanes: shelf.lanes(),
          calibrations: [stored],
          counts: new LaneCountStore(stateDir, log),
        },
        config,
        { record: () => undefined, health: () => undefined },
        log,
      );
      expect(third.pipeline.calibration(0).thermal?.source).toBe('calibration');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('[temp-persist-shared] two stores of one state directory do not undo each other’s coefficients', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'agent-thermal-'));
    try {
      const log = createLogger('silent');
      const config = learningConfig(stateDir);
      const shelf = new ThermalShelf(CELLS, [50, 50], [10, 10]);
      // Each runtime (and its own store) has one of the shelf's lanes.
      const runtime = (lane: number) =>
        new ShelfRuntime(
          {
            identity: { type: 'identity', serial: 'SN-U', firmware: '1.1.0', channels: 2, rate: 10 },
            shelfId: 'shelf-u',
            lanes: [shelf.lanes()[lane] as ReturnType<ThermalShelf['lanes']>[number]],
            calibrations: shelf.calibrations(),
            counts: new LaneCountStore(stateDir, log),
          },
          config,
          { record: () => undefined, health: () => undefined },
          log,
        );
      const a = runtime(0);
      const b = runtime(1);
      const feed = (f: SampleFrame) => {
        a.push(f);
        b.push(f);
      };
      shelf.run(feed, 40 * 60_000, 26);
      shelf.items[0] = 9;
      shelf.run(feed, 10_000);
      shelf.items[1] = 9;
      shelf.run(feed, 10_000);
      const file = JSON.parse(readFileSync(join(stateDir, 'calibration', 'SN-U.json'), 'utf8'));
      expect(Object.keys(file.thermal).sort()).toEqual(['0', '1']);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

/** An agent config whose channels learn quickly, keeping its state in `stateDir`. */
function learningConfig(stateDir: string) {
  return parseWith(
    AgentConfig,
    {
      agent: { id: 'pi-1', site: 's1' },
      sources: [{ url: 'tcp://127.0.0.1:1' }],
      broker: { url: 'mqtt://127.0.0.1:1' },
      stateDir,
      signal: { temperature: { learnSettleMs: 60_000, learnMinEvidence: 5 } },
    },
    'config',
  );
}
