/**
 * What a simulated shelf is made of: load cells, lanes of items, and the parameters of the physical
 * model. One zod schema per part gives the file format, its defaults and its type; anything left out
 * is drawn from the seed, so `--shelves 16 --seed 7` always builds the same 16 shelves.
 */
import {
  ErrorCodes,
  FIRMWARE_PATTERN,
  formatIssues,
  type Issue,
  MAX_CHANNELS,
  SERIAL_NUMBER_PATTERN,
  ShelfError,
} from '@shelfsense/protocol';
import { z } from 'zod';
import { deriveSeed, Rng } from './rng.js';

/**
 * The shelf's temperature as a function of world time (see docs/simulator.md): a mean, a seasonal
 * and a daily cosine, and a slow random wander; and how strongly the load cells respond to it.
 * Present (even as `{}`) it switches the temperature model on; absent, the shelf behaves as a v1 one.
 */
export const TemperatureParams = z.strictObject({
  /** Yearly mean, °C. */
  meanC: z.number().min(-40).max(85).optional(),
  /** Amplitude of the daily swing, °C (coldest at 05:00 of the simulated day). */
  dailyC: z.number().min(0).max(30).optional(),
  /** Amplitude of the seasonal swing, °C (coldest on the first day of the simulated year). */
  seasonalC: z.number().min(0).max(40).optional(),
  /** Length of a simulated day and year, world milliseconds. */
  dayMs: z.number().min(1000).optional(),
  yearMs: z.number().min(1000).optional(),
  /** World time of the first boot, milliseconds after midnight of the year's coldest day. */
  startMs: z.number().min(0).optional(),
  /** A slow random wander on top (doors, heating), σ in °C ... */
  noiseC: z.number().min(0).max(5).optional(),
  /** ... and how fast it forgets, world milliseconds. */
  noiseTauMs: z.number().positive().optional(),
  /**
   * The cells' thermal time constant, world ms: their metal follows the air (which the sensor
   * reads) this slowly. 0: they are at the air's temperature.
   */
  cellLagMs: z.number().min(0).optional(),
  /** The temperature the cells' offset and scale hold at (their calibration), °C. */
  refC: z.number().min(-55).max(125).optional(),
  /** Rated capacity of a cell, grams: datasheets give the zero's drift in % of rated output. */
  ratedG: z.number().positive().max(1_000_000).optional(),
  /** Largest drift of a cell's zero, % of rated output per 10 °C; each cell draws within ±. */
  zeroPctPer10C: z.number().min(0).max(1).optional(),
  /** Largest drift of a cell's span (sensitivity), % of the reading per 10 °C; drawn within ±. */
  spanPctPer10C: z.number().min(0).max(1).optional(),
});
export type TemperatureInput = z.input<typeof TemperatureParams>;

export const TEMPERATURE_DEFAULTS = {
  meanC: 21,
  dailyC: 1.5,
  seasonalC: 2,
  dayMs: 86_400_000,
  yearMs: 31_557_600_000,
  startMs: 0,
  noiseC: 0.1,
  noiseTauMs: 1_800_000,
  cellLagMs: 0,
  refC: 20,
  ratedG: 5000,
  zeroPctPer10C: 0.05,
  spanPctPer10C: 0.05,
} as const satisfies Required<z.output<typeof TemperatureParams>>;

/** Named temperature climates for the command line (`--temperature`). */
export const TEMPERATURE_PRESETS = {
  /** A heated shop: 21 °C, ±1.5 °C a day, ±2 °C over the year. */
  indoor: { meanC: 21, dailyC: 1.5, seasonalC: 2, noiseC: 0.1 },
  /** An unheated store room: 15 °C, ±3 °C a day and ±15 °C over the year. */
  seasons: { meanC: 15, dailyC: 3, seasonalC: 15, noiseC: 0.3 },
} as const satisfies Record<string, z.input<typeof TemperatureParams>>;
export type TemperaturePreset = keyof typeof TEMPERATURE_PRESETS;
export const TEMPERATURE_PRESET_NAMES = Object.keys(TEMPERATURE_PRESETS) as TemperaturePreset[];

/** The shelf's temperature sensor (a DS18B20 next to the cells); `true` takes every default. */
export const SensorParams = z.strictObject({
  /** This sensor's error, °C; drawn within ±accuracyC when left out. */
  offsetC: z.number().min(-5).max(5).optional(),
  accuracyC: z.number().min(0).max(5).optional(),
  /** Reading step, °C (0.0625 for a DS18B20 at 12 bits; 0 for none). */
  resolutionC: z.number().min(0).max(1).optional(),
  /** How often the firmware reads it, device milliseconds (the protocol allows at most 2 s). */
  periodMs: z.number().int().min(100).max(2000).optional(),
});

export const SENSOR_DEFAULTS = {
  accuracyC: 0.5,
  resolutionC: 0.0625,
  periodMs: 1000,
} as const;

/** Physical model parameters; every one has a realistic default. */
export const ModelParams = z.strictObject({
  /** Gaussian noise, σ in grams at 80 SPS (10 SPS is quieter, see model.ts). */
  noiseG: z.number().nonnegative().max(1000).optional(),
  /** Amplitude of the daily temperature swing of the zero, grams. */
  driftG: z.number().nonnegative().max(1000).optional(),
  /** Period of that swing, device milliseconds. */
  driftPeriodMs: z.number().positive().optional(),
  /** Typical size (standard deviation) of the slow random walk of the zero, grams; bounded at 3×. */
  driftWalkG: z.number().nonnegative().max(1000).optional(),
  /** How fast the random walk forgets, device milliseconds. */
  driftWalkTauMs: z.number().positive().optional(),
  /** After a load change ΔW the reading moves a further creepFraction × ΔW ... */
  creepFraction: z.number().min(0).max(0.1).optional(),
  /** ... with this time constant, device milliseconds. */
  creepTauMs: z.number().positive().optional(),
  /** Chance per channel sample of an HX711 junk value (8388607, -8388608 or -1). */
  junkProbability: z.number().min(0).max(1).optional(),
  /** The temperature model (off when absent). */
  temperature: TemperatureParams.optional(),
  /** Whether the shelf reads a temperature sensor and sends it (default: yes with `temperature`). */
  temperatureSensor: z.union([z.boolean(), SensorParams]).optional(),
});
export type ModelParamsInput = z.input<typeof ModelParams>;
type NumericModelParams = Omit<z.output<typeof ModelParams>, 'temperature' | 'temperatureSensor'>;

export const MODEL_DEFAULTS = {
  noiseG: 1.0,
  driftG: 3,
  driftPeriodMs: 86_400_000,
  driftWalkG: 1,
  driftWalkTauMs: 7_200_000,
  creepFraction: 0.0005,
  creepTauMs: 300_000,
  junkProbability: 1e-4,
} as const satisfies Required<NumericModelParams>;
export type ResolvedModelParams = { -readonly [K in keyof typeof MODEL_DEFAULTS]: number };

/** One load cell (one HX711 channel). */
export const CellSpec = z.strictObject({
  /** Raw counts at zero load. */
  offset: z.number().int().min(-8_388_608).max(8_388_607).optional(),
  /** Counts per gram; negative when the cell is wired the other way round. */
  scale: z
    .number()
    .refine(
      (v) => Math.abs(v) >= 1 && Math.abs(v) <= 100_000,
      'between 1 and 100000 counts per gram (or negative)',
    )
    .optional(),
  /** Dead weight of the tray resting on this cell, grams. */
  trayG: z.number().min(0).max(100_000).optional(),
  /** Zero drift with temperature, grams per °C (drawn from `temperature` when left out). */
  zeroGPerC: z.number().min(-100).max(100).optional(),
  /** Span drift with temperature, ppm of the load per °C (drawn when left out). */
  spanPpmPerC: z.number().min(-10_000).max(10_000).optional(),
});

/** One lane: a row of identical items resting on one or more cells. */
export const LaneSpec = z.strictObject({
  unitWeightG: z.number().positive().max(100_000).optional(),
  items: z.number().int().nonnegative().max(100_000).optional(),
  capacity: z.number().int().positive().max(100_000).optional(),
  /** Cells this lane rests on; its weight is shared equally between them. */
  channels: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(MAX_CHANNELS - 1),
    )
    .min(1)
    .max(MAX_CHANNELS)
    .optional(),
  /** Noise σ of this lane's cells at 80 SPS, grams (overrides model.noiseG). */
  noiseG: z.number().nonnegative().max(1000).optional(),
});

export const ShelfSpec = z.strictObject({
  serial: z.string().regex(SERIAL_NUMBER_PATTERN, 'letters, digits, _ and -, 1–32 characters').optional(),
  firmware: z.string().regex(FIRMWARE_PATTERN, 'letters, digits and . + _ -, 1–24 characters').optional(),
  /** HX711 channels on the board (1–8); defaults to the number the lanes need. */
  channels: z.number().int().min(1).max(MAX_CHANNELS).optional(),
  lanes: z.array(LaneSpec).min(1).max(MAX_CHANNELS).optional(),
  cells: z.array(CellSpec).max(MAX_CHANNELS).optional(),
  model: ModelParams.optional(),
});
export type ShelfSpecInput = z.input<typeof ShelfSpec>;

export interface ResolvedCell {
  offset: number;
  scale: number;
  trayG: number;
}

export interface ResolvedLane {
  unitWeightG: number;
  items: number;
  capacity: number;
  channels: number[];
  noiseG: number;
}

export interface ResolvedSensor {
  offsetC: number;
  resolutionC: number;
  periodMs: number;
}

/** The temperature model of one shelf, with every cell's coefficients. */
export interface ResolvedTemperature extends Required<z.output<typeof TemperatureParams>> {
  /** Per channel: zero drift, grams per °C, and span drift, ppm per °C. */
  zeroGPerC: number[];
  spanPpmPerC: number[];
  /** null: the shelf has no sensor and sends no temperature (v1 frames). */
  sensor: ResolvedSensor | null;
}

export interface ResolvedShelf {
  index: number;
  serial: string;
  firmware: string;
  channels: number;
  lanes: ResolvedLane[];
  cells: ResolvedCell[];
  model: ResolvedModelParams;
  /** The temperature model; absent when off. */
  temperature?: ResolvedTemperature;
  /** Seed of this shelf's random streams. */
  seed: number;
}

export const DEFAULT_FIRMWARE = '1.0.0-sim';
export const DEFAULT_LANES = 4;
export const NOMINAL_SCALE = 420;

export interface ResolveOptions {
  seed: number;
  /** How many shelves; specs beyond the list are drawn from the seed. */
  count: number;
  specs?: readonly z.output<typeof ShelfSpec>[];
  /** Serial numbers given on the command line, in shelf order (take precedence over specs). */
  serials?: readonly string[];
  /** Lanes per generated shelf. */
  lanes?: number;
  /** Model parameters shared by every shelf (a shelf's own `model` wins). */
  model?: z.output<typeof ModelParams>;
  /**
   * Temperature model for every shelf, over the scenario's and each shelf's own (field by field);
   * `false` switches it off everywhere.
   */
  temperature?: z.output<typeof TemperatureParams> | false;
  /** Sensor for every shelf, over the scenario's and each shelf's own. */
  temperatureSensor?: z.output<typeof ModelParams>['temperatureSensor'];
  /** Field path prefix for error messages, e.g. `shelves`. */
  path?: string;
}

function serialFor(seed: number, index: number, attempt: number): string {
  const h = deriveSeed(seed, 'serial', index, attempt);
  return `SIM${h.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** Resolves every shelf in full; throws ShelfError(SHELF_ERR_INVALID) naming the field at fault. */
export function resolveShelves(opts: ResolveOptions): ResolvedShelf[] {
  const prefix = opts.path ?? 'shelves';
  const issues: Issue[] = [];
  const shelves: ResolvedShelf[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < opts.count; i++) {
    const spec = opts.specs?.[i] ?? {};
    const shelfSeed = deriveSeed(opts.seed, 'shelf', i);
    const rng = new Rng(deriveSeed(shelfSeed, 'build'));
    let serial = opts.serials?.[i] ?? spec.serial;
    if (serial === undefined) {
      for (let attempt = 0; serial === undefined || taken.has(serial); attempt++) {
        serial = serialFor(opts.seed, i, attempt);
      }
    } else if (taken.has(serial)) {
      issues.push({ path: `${prefix}.${i}.serial`, message: `serial ${serial} is used by another shelf` });
    }
    taken.add(serial);
    const { temperature: sharedTemp, temperatureSensor: sharedSensor, ...sharedModel } = opts.model ?? {};
    const { temperature: ownTemp, temperatureSensor: ownSensor, ...ownModel } = spec.model ?? {};
    const model: ResolvedModelParams = { ...MODEL_DEFAULTS, ...strip(sharedModel), ...strip(ownModel) };
    const laneSpecs = spec.lanes ?? Array.from({ length: opts.lanes ?? DEFAULT_LANES }, () => ({}));
    const lanes = laneSpecs.map((l, j) => resolveLane(l, j, rng, model));
    const needed = Math.max(...lanes.flatMap((l) => l.channels)) + 1;
    const channels = spec.channels ?? Math.max(needed, spec.cells?.length ?? 0);
    const owner = new Map<number, number>();
    lanes.forEach((lane, j) => {
      for (const ch of lane.channels) {
        const path = `${prefix}.${i}.lanes.${j}.channels`;
        if (ch >= channels)
          issues.push({ path, message: `channel ${ch} does not exist (${channels} channels)` });
        else if (owner.has(ch))
          issues.push({ path, message: `channel ${ch} already carries lane ${owner.get(ch)}` });
        else owner.set(ch, j);
      }
    });
    if ((spec.cells?.length ?? 0) > channels) {
      issues.push({ path: `${prefix}.${i}.cells`, message: `more cells than the ${channels} channels` });
    }
    const cells = Array.from({ length: channels }, (_, c) => resolveCell(spec.cells?.[c] ?? {}, rng));
    const temperature =
      opts.temperature === false
        ? undefined
        : resolveTemperature(
            [sharedTemp, ownTemp, opts.temperature],
            opts.temperatureSensor ?? ownSensor ?? sharedSensor,
            spec.cells ?? [],
            channels,
            // A stream of its own: shelves without temperature draw exactly what they always did.
            new Rng(deriveSeed(shelfSeed, 'thermal')),
          );
    shelves.push({
      index: i,
      serial,
      firmware: spec.firmware ?? DEFAULT_FIRMWARE,
      channels,
      lanes,
      cells,
      model,
      ...(temperature ? { temperature } : {}),
      seed: shelfSeed,
    });
  }
  if (issues.length > 0) {
    throw new ShelfError(ErrorCodes.INVALID, `invalid shelves: ${formatIssues(issues)}`, issues);
  }
  return shelves;
}

function strip<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function resolveLane(
  l: z.output<typeof LaneSpec>,
  index: number,
  rng: Rng,
  model: ResolvedModelParams,
): ResolvedLane {
  // Always draw, so a lane's defaults do not depend on which other fields were given.
  const drawnUnit = Math.round(Math.exp(rng.uniform(Math.log(10), Math.log(1000))) * 10) / 10;
  const fillDraw = rng.uniform(0.4, 1);
  const unitWeightG = l.unitWeightG ?? drawnUnit;
  const capacity = l.capacity ?? Math.max(4, Math.min(60, Math.floor(8000 / unitWeightG)));
  return {
    unitWeightG,
    capacity,
    items: l.items ?? Math.round(capacity * fillDraw),
    channels: l.channels ? [...new Set(l.channels)] : [index],
    noiseG: l.noiseG ?? model.noiseG,
  };
}

function resolveCell(c: z.output<typeof CellSpec>, rng: Rng): ResolvedCell {
  const offset = rng.int(50_000, 200_000);
  const scale = Math.round(NOMINAL_SCALE * rng.uniform(0.9, 1.1) * 1000) / 1000;
  const trayG = Math.round(rng.uniform(200, 600));
  return { offset: c.offset ?? offset, scale: c.scale ?? scale, trayG: c.trayG ?? trayG };
}

/**
 * HX711 "temperature drift" at gain 128 (datasheet): input offset ±6 nV/°C and gain ±5 ppm/°C.
 * At ~4.3 V excitation one gram is ~420 counts and 6 nV ~3 counts, so the offset term is ~0.007 g/°C.
 */
const HX711_ZERO_G_PER_C = 0.007;
const HX711_GAIN_PPM_PER_C = 5;

function resolveTemperature(
  layers: readonly (z.output<typeof TemperatureParams> | undefined)[],
  sensorSpec: z.output<typeof ModelParams>['temperatureSensor'],
  cellSpecs: readonly z.output<typeof CellSpec>[],
  channels: number,
  rng: Rng,
): ResolvedTemperature | undefined {
  if (layers.every((l) => l === undefined)) return undefined;
  const p = { ...TEMPERATURE_DEFAULTS } as Required<z.output<typeof TemperatureParams>>;
  for (const l of layers) Object.assign(p, strip(l));
  const zeroMaxG = (p.zeroPctPer10C / 100 / 10) * p.ratedG;
  const spanMaxPpm = (p.spanPctPer10C / 100 / 10) * 1e6;
  const zeroGPerC: number[] = [];
  const spanPpmPerC: number[] = [];
  for (let c = 0; c < channels; c++) {
    // Always draw, so one cell's override does not change another cell's coefficients.
    const zero = rng.uniform(-1, 1) * zeroMaxG + rng.uniform(-1, 1) * HX711_ZERO_G_PER_C;
    const span = rng.uniform(-1, 1) * spanMaxPpm + rng.uniform(-1, 1) * HX711_GAIN_PPM_PER_C;
    zeroGPerC.push(round6(cellSpecs[c]?.zeroGPerC ?? zero));
    spanPpmPerC.push(round6(cellSpecs[c]?.spanPpmPerC ?? span));
  }
  const drawnOffset = rng.uniform(-1, 1);
  let sensor: ResolvedSensor | null = null;
  if (sensorSpec !== false) {
    const s = typeof sensorSpec === 'object' ? sensorSpec : {};
    const accuracy = s.accuracyC ?? SENSOR_DEFAULTS.accuracyC;
    sensor = {
      offsetC: s.offsetC ?? round6(drawnOffset * accuracy),
      resolutionC: s.resolutionC ?? SENSOR_DEFAULTS.resolutionC,
      periodMs: s.periodMs ?? SENSOR_DEFAULTS.periodMs,
    };
  }
  return { ...p, zeroGPerC, spanPpmPerC, sensor };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
