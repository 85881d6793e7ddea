/**
 * The simulator's temperature model: the shelf's temperature against world time, the cells' zero
 * and span following it, the sensor and the v1.1 `T` field, powering off for a while, and the
 * guarantee that a shelf without a temperature model still sends exactly the bytes it always did.
 */
import { createHash } from 'node:crypto';
import {
  type EngineOptions,
  eventsForShelf,
  loadScenario,
  resolveShelves,
  ShelfEngine,
  ShelfSpec,
  type ShelfSpecInput,
  startSimulator,
  TEMPERATURE_DEFAULTS,
  type TruthRecord,
  type TruthState,
} from '@shelfsense/firmware-sim';
import { simSpec, temperatureFlags } from '@shelfsense/firmware-sim/cli';
import { decodeDeviceLine, isShelfError, type SampleFrame } from '@shelfsense/protocol';
import { parseFlags } from '@shelfsense/protocol/cli';
import { describe, expect, it } from 'vitest';

const QUIET = { noiseG: 0, driftWalkG: 0, junkProbability: 0, creepFraction: 0, driftG: 0 };
const YEAR_MS = TEMPERATURE_DEFAULTS.yearMs;

function engine(spec: ShelfSpecInput = {}, opts: Partial<EngineOptions> = {}, seed = 1) {
  const [shelf] = resolveShelves({ seed, count: 1, specs: [ShelfSpec.parse(spec)] });
  const records: TruthRecord[] = [];
  const e = new ShelfEngine({ shelf: shelf!, hooks: { truth: (r) => records.push(r) }, ...opts });
  return { e, records };
}

function lines(e: ShelfEngine, n: number): string[] {
  let text = '';
  for (let i = 0; i < n; i++) text += e.next();
  return text.split('\n').slice(0, -1);
}

function samples(ls: string[]): SampleFrame[] {
  return ls.map((l) => decodeDeviceLine(l)).filter((f): f is SampleFrame => f.type === 'sample');
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** A hash of everything a shelf sends and records over n ticks, with two rate changes. */
function streamHash(seed: number, spec: object, n: number, scenario?: string): string {
  const [shelf] = resolveShelves({ seed, count: 1, specs: [ShelfSpec.parse(spec)] });
  const h = createHash('sha256');
  const events = scenario ? eventsForShelf(loadScenario(scenario).events, 0, shelf!.serial) : [];
  const e = new ShelfEngine({ shelf: shelf!, events, hooks: { truth: (r) => h.update(JSON.stringify(r)) } });
  for (let i = 0; i < n; i++) {
    h.update(e.next());
    if (i === 5000) h.update(e.handleCommand('RATE,10*E9B7'));
    if (i === 9000) h.update(e.handleCommand('RATE,80*532F'));
  }
  return h.digest('hex').slice(0, 16);
}

describe('simulator temperature model', () => {
  it('[sim-temp] without a temperature model every shelf sends the same bytes as before it existed', () => {
    // Hashes taken from the simulator before the temperature model was added.
    expect(streamHash(1, {}, 20_000)).toBe('178dc258808d867d');
    expect(streamHash(7, { lanes: [{}, {}, {}, {}, {}, {}, {}, {}] }, 20_000)).toBe('81d441f69a1798a2');
    expect(streamHash(3, {}, 100_000, 'faults')).toBe('f84ccda24e242ae6');
    expect(streamHash(9, {}, 100_000, 'demo')).toBe('44b85b443d32a94e');
  });

  it('[sim-temp] draws nothing from the existing streams: zero coefficients and no sensor give the v1 bytes', () => {
    const base = { lanes: [{}, {}, {}], model: { driftG: 0 } };
    const cold = {
      ...base,
      cells: [0, 1, 2].map(() => ({ zeroGPerC: 0, spanPpmPerC: 0 })),
      model: { driftG: 0, temperature: { seasonalC: 15 }, temperatureSensor: false },
    };
    expect(lines(engine(cold).e, 3000)).toEqual(lines(engine(base).e, 3000));
  });

  it('[sim-temp] the temperature follows the seasons and the day as a function of world time', () => {
    const t = { meanC: 15, seasonalC: 15, dailyC: 3, noiseC: 0 };
    const { e } = engine({ model: { ...QUIET, temperature: t } });
    const day = 86_400_000;
    // Coldest at midnight of the year's first day, and at 05:00 of every day.
    const T = (w: number) =>
      15 -
      15 * Math.cos((2 * Math.PI * w) / YEAR_MS) -
      3 * Math.cos((2 * Math.PI * (w - day * (5 / 24))) / day);
    expect(e.temperatureC).toBeCloseTo(T(0), 6);
    e.powerOff(182 * day + day / 2); // midsummer, at noon
    e.tick();
    expect(e.worldMs).toBeCloseTo(182 * day + day / 2 + 12.5, 3);
    expect(e.temperatureC).toBeCloseTo(T(182 * day + day / 2), 4);
    expect(e.temperatureC).toBeGreaterThan(30);
    e.powerOff(day / 2 - 12.5 + 5 * 3_600_000); // 05:00 the next day: the day's coldest
    e.tick();
    expect(e.temperatureC).toBeCloseTo(T(183 * day + 5 * 3_600_000), 4);
    expect(e.temperatureC).toBeLessThan(27.1);
  });

  it('[sim-temp] each cell’s zero and span move with temperature by its own coefficients', () => {
    const cells = [
      { offset: 100_000, scale: 400, trayG: 1000, zeroGPerC: 0.2, spanPpmPerC: 50 },
      { offset: 100_000, scale: 400, trayG: 1000, zeroGPerC: -0.1, spanPpmPerC: -30 },
    ];
    const t = { meanC: 20, seasonalC: 10, dailyC: 0, noiseC: 0, refC: 10 };
    const { e } = engine({
      model: { ...QUIET, temperature: t, temperatureSensor: false },
      cells,
      lanes: [
        { unitWeightG: 100, items: 40 },
        { unitWeightG: 100, items: 40 },
      ],
    });
    expect(e.thermalCoefficients).toEqual({
      refC: 10,
      zeroGPerC: [0.2, -0.1],
      spanPpmPerC: [50, -30],
      sensorOffsetC: null,
    });
    // World 0 is the coldest moment: 10 °C, the cells' own calibration temperature.
    const cold = samples(lines(e, 10));
    expect(cold.map((f) => f.raw)).toEqual(cold.map(() => [100_000 + 400 * 5000, 100_000 + 400 * 5000]));
    e.powerOff(YEAR_MS / 2); // midsummer: 30 °C, 20 °C above the reference
    const warm = samples(lines(e, 200).slice(1));
    expect(e.temperatureC).toBeCloseTo(30, 3);
    const expected = (c: (typeof cells)[number]) =>
      Math.round(c.offset + c.scale * (5000 * (1 + c.spanPpmPerC * 1e-6 * 20) + c.zeroGPerC * 20));
    expect(warm[0]?.raw).toEqual([expected(cells[0]!), expected(cells[1]!)]);
    // Without a sensor the frames stay v1.
    expect(warm.every((f) => f.tempC === undefined)).toBe(true);
  });

  it('[sim-temp] coefficients are drawn per cell within the datasheet figures, from the seed', () => {
    const spec = { model: { temperature: {} }, lanes: [{}, {}, {}, {}, {}, {}, {}, {}] };
    const a = engine(spec, {}, 5).e.thermalCoefficients!;
    const b = engine(spec, {}, 5).e.thermalCoefficients!;
    const c = engine(spec, {}, 6).e.thermalCoefficients!;
    expect(a).toEqual(b);
    expect(a.zeroGPerC).not.toEqual(c.zeroGPerC);
    // 0.05 %RO/10 °C of a 5 kg cell is 0.25 g/°C; 0.05 %/10 °C of span is 50 ppm/°C (+ the HX711's).
    for (const z of a.zeroGPerC) expect(Math.abs(z)).toBeLessThanOrEqual(0.25 + 0.007);
    for (const s of a.spanPpmPerC) expect(Math.abs(s)).toBeLessThanOrEqual(55);
    expect(new Set(a.spanPpmPerC).size).toBe(8);
    expect(Math.abs(a.sensorOffsetC!)).toBeLessThanOrEqual(0.5);
  });

  it('[sim-temp] the sensor reading goes out about once a second as the v1.1 T field', () => {
    const { e } = engine({ model: { temperature: { noiseC: 0.3 } } }, {}, 3);
    const ls = lines(e, 80 * 10);
    const frames = samples(ls);
    const withT = frames.filter((f) => f.tempC !== undefined);
    // First reading 750 ms after boot (a DS18B20's conversion time), then one per second.
    expect(withT.map((f) => f.deviceMs)).toEqual([750, 1750, 2750, 3750, 4750, 5750, 6750, 7750, 8750, 9750]);
    expect(ls.filter((l) => l.includes(',T'))).toHaveLength(10);
    const offset = e.thermalCoefficients!.sensorOffsetC!;
    for (const f of withT) {
      // 0.0625 °C steps, sent rounded to 0.01 °C.
      const steps = (f.tempC as number) / 0.0625;
      expect(Math.abs(steps - Math.round(steps)) * 0.0625).toBeLessThanOrEqual(0.005 + 1e-9);
    }
    expect(e.sensorC).toBeDefined();
    expect(Math.abs((e.sensorC as number) - (e.temperatureC as number) - offset)).toBeLessThanOrEqual(0.04);
    expect(Math.abs(withT.at(-1)!.tempC! - (e.sensorC as number))).toBeLessThanOrEqual(0.005);
  });

  it('[sim-temp] with cellLagMs the cells follow the air late and damped; the sensor reads the air', () => {
    const t = { meanC: 20, seasonalC: 0, dailyC: 5, dayMs: 600_000, noiseC: 0, cellLagMs: 120_000 };
    const { e } = engine({ model: { ...QUIET, temperature: t } });
    const air: number[] = [];
    const cell: number[] = [];
    for (let i = 0; i < 80 * 1200; i++) {
      e.tick();
      if (i % 80 === 0 && i >= 80 * 600) {
        air.push(e.temperatureC as number);
        cell.push(e.cellTemperatureC as number);
      }
    }
    const span = (v: number[]) => Math.max(...v) - Math.min(...v);
    expect(span(air)).toBeGreaterThan(9.9);
    expect(span(cell)).toBeLessThan(span(air) * 0.7);
    expect(Math.max(...air.map((a, i) => Math.abs(a - (cell[i] as number))))).toBeGreaterThan(2);
    expect(Math.abs((e.sensorC as number) - (e.temperatureC as number))).toBeLessThanOrEqual(0.6);
    // Switched off for hours, the cells catch up with the air.
    e.powerOff(3_600_000);
    expect(e.cellTemperatureC).toBeCloseTo(e.temperatureC as number, 3);
  });

  it('[sim-temp] a failed sensor sends no temperature until it works again', () => {
    const { e } = engine({ model: { temperature: {} } }, {}, 2);
    lines(e, 80 * 2);
    e.sensorOk = false;
    const gone = samples(lines(e, 80 * 3));
    expect(gone.filter((f) => f.tempC !== undefined)).toEqual([]);
    expect(e.sensorC).toBeUndefined();
    e.sensorOk = true;
    expect(samples(lines(e, 80 * 2)).filter((f) => f.tempC !== undefined)).toHaveLength(2);
  });

  it('[sim-temp] the truth records carry the true temperature', () => {
    const { e, records } = engine({ model: { temperature: { seasonalC: 15, noiseC: 0 } } });
    lines(e, 10);
    const r = e.apply({ action: 'remove', lane: 0, count: 1 });
    expect(r.truth.tempC).toBeCloseTo(e.temperatureC as number, 3);
    expect((records[0] as TruthState).tempC).toBeTypeOf('number');
    // A v1 shelf's truth has no such key.
    expect('tempC' in engine().e.truth()).toBe(false);
  });

  it('[sim-temp] powerOff lets world time pass without frames; the shelf reboots like a power cycle', () => {
    const { e, records } = engine({ model: { temperature: { noiseC: 0.2 } } }, {}, 4);
    lines(e, 1000);
    const frames = e.stats.frames;
    const seasonBefore = e.worldMs;
    e.powerOff(90 * 86_400_000);
    expect(e.stats.frames).toBe(frames);
    expect(e.nextSeq).toBe(0);
    expect(e.nextDeviceMs).toBe(0);
    expect(e.boots).toBe(2);
    expect(e.worldMs).toBeCloseTo(seasonBefore + 90 * 86_400_000, 6);
    const reboot = records.at(-1) as TruthState;
    expect(reboot).toMatchObject({ kind: 'state', cause: 'reboot', source: 'device', seq: 0, deviceMs: 0 });
    const ls = lines(e, 100);
    expect(decodeDeviceLine(ls[0]!)).toMatchObject({ type: 'identity', serial: e.serial });
    expect(decodeDeviceLine(ls[1]!)).toMatchObject({ type: 'sample', seq: 0, deviceMs: 0 });
    expect(samples(ls).find((f) => f.tempC !== undefined)?.deviceMs).toBe(750);
    expect(ls.filter((l) => l.startsWith('ID,'))).toHaveLength(1);
    expect(() => e.powerOff(-1)).toThrow(/powerOff: ms/);
    expect(() => e.powerOff(Number.NaN)).toThrow(/powerOff: ms/);
  });

  it('[sim-temp] a year simulated in pieces is reproducible from the seed', () => {
    const run = () => {
      const { e } = engine({ model: { temperature: { seasonalC: 15, dailyC: 3, noiseC: 0.3 } } }, {}, 11);
      const temps: number[] = [];
      const raws: number[] = [];
      for (let week = 0; week < 52; week++) {
        for (let i = 0; i < 400; i++) e.tick();
        temps.push(e.temperatureC as number);
        raws.push(e.tick().raw[0] as number);
        e.powerOff(7 * 86_400_000);
      }
      return { temps, raws };
    };
    const a = run();
    expect(run()).toEqual(a);
    // Winter at both ends, summer in the middle.
    expect(mean(a.temps.slice(22, 30))).toBeGreaterThan(mean(a.temps.slice(0, 4)) + 20);
    expect(mean(a.temps.slice(48))).toBeLessThan(mean(a.temps.slice(22, 30)) - 20);
  });

  it('[sim-temp] scenario events run on powered time and resume after a power cycle', () => {
    const events = loadScenario({
      events: [{ at: '2s', action: 'remove', lane: 0, count: 1 }],
    }).events;
    const { e } = engine({ lanes: [{ items: 10 }], model: { temperature: {} } }, { events });
    for (let i = 0; i < 80; i++) e.tick(); // 1 s powered
    e.powerOff(3_600_000);
    expect(e.truth().lanes[0]?.items).toBe(10);
    for (let i = 0; i < 81; i++) e.tick(); // 1 s more: 2 s powered in all
    expect(e.truth().lanes[0]?.items).toBe(9);
  });
});

describe('temperature configuration', () => {
  function invalid(fn: () => unknown): { path: string; message: string }[] {
    try {
      fn();
    } catch (err) {
      if (isShelfError(err)) return err.issues.map((i) => ({ path: i.path, message: i.message }));
      throw err;
    }
    throw new Error('expected an error');
  }

  it.each([
    [{ model: { temperature: { meanC: 200 } } }, 'shelves.0.model.temperature.meanC'],
    [{ model: { temperature: { dailyC: -1 } } }, 'shelves.0.model.temperature.dailyC'],
    [{ model: { temperature: { hot: true } } }, 'shelves.0.model.temperature'],
    [{ model: { temperatureSensor: { periodMs: 5000 } } }, 'shelves.0.model.temperatureSensor.periodMs'],
    [{ model: { temperatureSensor: 'yes' } }, 'shelves.0.model.temperatureSensor'],
    [{ cells: [{ spanPpmPerC: 20_000 }] }, 'shelves.0.cells.0.spanPpmPerC'],
    [{ cells: [{ zeroGPerC: 'a lot' }] }, 'shelves.0.cells.0.zeroGPerC'],
  ])('a scenario with %j is refused naming %s', (shelf, path) => {
    const issues = invalid(() => loadScenario({ shelves: [shelf as ShelfSpecInput] }));
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('a scenario-wide temperature applies to every shelf; a shelf’s own fields win', () => {
    const sc = loadScenario({
      model: { temperature: { meanC: 10, seasonalC: 5 } },
      shelves: [{}, { model: { temperature: { meanC: 30 }, temperatureSensor: false } }],
    });
    const [a, b] = resolveShelves({ seed: 1, count: 2, specs: sc.shelves ?? [], model: sc.model! });
    expect(a?.temperature).toMatchObject({ meanC: 10, seasonalC: 5, dailyC: 1.5 });
    expect(a?.temperature?.sensor).toMatchObject({ resolutionC: 0.0625, periodMs: 1000 });
    expect(b?.temperature).toMatchObject({ meanC: 30, seasonalC: 5, sensor: null });
    expect(a?.model).not.toHaveProperty('temperature');
  });

  it('command-line flags: presets, the sensor switch and the world start, with errors naming the flag', () => {
    const parse = (argv: string[]) => {
      const p = parseFlags(simSpec, argv);
      if (p.help || !('flags' in p) || !p.flags) throw new Error('no flags');
      return temperatureFlags(p.flags);
    };
    expect(parse([])).toEqual({});
    expect(parse(['--temperature', 'off'])).toEqual({ temperature: false });
    expect(parse(['--temperature', 'seasons', '--world-start', '182d'])).toEqual({
      temperature: { meanC: 15, dailyC: 3, seasonalC: 15, noiseC: 0.3, startMs: 182 * 86_400_000 },
    });
    expect(parse(['--temperature', 'indoor', '--temperature-sensor', 'off'])).toMatchObject({
      temperature: { meanC: 21 },
      temperatureSensor: false,
    });
    expect(invalid(() => parse(['--temperature', 'hot']))).toEqual([
      { path: '--temperature', message: 'indoor, seasons or off' },
    ]);
    expect(invalid(() => parse(['--temperature', 'indoor', '--temperature-sensor', 'maybe']))[0]?.path).toBe(
      '--temperature-sensor',
    );
    expect(invalid(() => parse(['--temperature', 'indoor', '--world-start', 'soon']))[0]?.path).toBe(
      '--world-start',
    );
    expect(invalid(() => parse(['--world-start', '10d']))).toEqual([
      { path: '--world-start', message: 'needs --temperature indoor or seasons' },
    ]);
    expect(invalid(() => parse(['--temperature-sensor', 'on']))[0]?.path).toBe('--temperature-sensor');
  });
});

describe('startSimulator with a temperature model', () => {
  it('a preset puts the T field on the frames of every shelf; the control view shows the temperature', async () => {
    const sim = await startSimulator({
      seed: 3,
      shelves: 2,
      transport: 'none',
      control: false,
      temperature: 'seasons',
    });
    try {
      for (const s of sim.shelves) {
        const ls = lines(s.engine, 200);
        expect(
          samples(ls)
            .filter((f) => f.tempC !== undefined)
            .map((f) => f.deviceMs),
        ).toEqual([750, 1750]);
        // The seasons preset at world time 0: midwinter, about 0 °C.
        expect(s.engine.temperatureC).toBeLessThan(6);
        expect(sim.truth(s.serial).tempC).toBeCloseTo(s.engine.temperatureC as number, 2);
      }
    } finally {
      await sim.stop();
    }
  });

  it('temperature: false switches a scenario’s model off; the sensor can be switched off alone', async () => {
    const scenario = { model: { temperature: { seasonalC: 15 } } };
    const off = await startSimulator({ transport: 'none', control: false, scenario, temperature: false });
    const quiet = await startSimulator({
      transport: 'none',
      control: false,
      scenario,
      temperatureSensor: false,
    });
    try {
      expect(off.shelves[0]?.engine.temperatureC).toBeUndefined();
      expect(quiet.shelves[0]?.engine.temperatureC).toBeTypeOf('number');
      expect(lines(quiet.shelves[0]!.engine, 200).some((l) => l.includes(',T'))).toBe(false);
    } finally {
      await off.stop();
      await quiet.stop();
    }
  });

  it.each([
    [{ temperature: 'hot' as never }, 'temperature'],
    [{ temperature: { meanC: 'warm' } as never }, 'meanC'],
    [{ temperatureSensor: { resolutionC: 5 } }, 'resolutionC'],
  ])('refuses %j naming the field', async (opts, path) => {
    const err = await startSimulator({ transport: 'none', control: false, ...opts }).catch((e: unknown) => e);
    expect(isShelfError(err)).toBe(true);
    if (isShelfError(err)) expect(err.issues.map((i) => i.path)).toContain(path);
  });
});
