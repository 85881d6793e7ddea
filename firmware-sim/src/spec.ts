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
});
export type ModelParamsInput = z.input<typeof ModelParams>;

export const MODEL_DEFAULTS = {
  noiseG: 1.0,
  driftG: 3,
  driftPeriodMs: 86_400_000,
  driftWalkG: 1,
  driftWalkTauMs: 7_200_000,
  creepFraction: 0.0005,
  creepTauMs: 300_000,
  junkProbability: 1e-4,
} as const satisfies Required<z.output<typeof ModelParams>>;
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

export interface ResolvedShelf {
  index: number;
  serial: string;
  firmware: string;
  channels: number;
  lanes: ResolvedLane[];
  cells: ResolvedCell[];
  model: ResolvedModelParams;
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
    const model: ResolvedModelParams = { ...MODEL_DEFAULTS, ...strip(opts.model), ...strip(spec.model) };
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
    shelves.push({
      index: i,
      serial,
      firmware: spec.firmware ?? DEFAULT_FIRMWARE,
      channels,
      lanes,
      cells,
      model,
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
