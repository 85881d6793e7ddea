/**
 * A generated store week for soak runs: shelves stocked from a small catalogue, customers picking
 * through the opening hours (busier at lunch and in the evening, busier on Saturday), quiet nights —
 * and a timeline that compresses it. Every simulated hour gets a fixed slice of device time: a long
 * one while the store is open (each pick needs a second or two of 80 SPS samples to settle), a short
 * one while it is closed (nothing moves, the cells still sample). Now and then a hand leans on a
 * lane for a moment: weight that is not stock, which must never order. The sample rate stays real in
 * device time; only the gaps between events shrink, so a week runs in minutes of device time.
 *
 * Restocks are not scripted: in a soak they follow the orders the central side raises.
 */

import { deriveSeed, Rng } from './rng.js';
import type { ScenarioFileInput } from './scenario.js';
import type { TruthState } from './truth.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface SoakSku {
  id: string;
  unitWeightG: number;
  supplier: string;
  /** Items a lane of this SKU holds. */
  capacity: number;
  /** Order when the count is at or below this. */
  reorderPoint: number;
}

/** A small shop's range from two suppliers; unit weights well apart from each other's multiples. */
export const SOAK_CATALOGUE: readonly SoakSku[] = [
  { id: 'cola-330', unitWeightG: 352, supplier: 'acme', capacity: 24, reorderPoint: 6 },
  { id: 'water-500', unitWeightG: 521, supplier: 'acme', capacity: 18, reorderPoint: 5 },
  { id: 'juice-1l', unitWeightG: 1080, supplier: 'acme', capacity: 8, reorderPoint: 2 },
  { id: 'gum-mint', unitWeightG: 28, supplier: 'acme', capacity: 60, reorderPoint: 15 },
  { id: 'tea-box', unitWeightG: 96, supplier: 'acme', capacity: 40, reorderPoint: 10 },
  { id: 'chips-salt', unitWeightG: 168, supplier: 'crunchy', capacity: 20, reorderPoint: 5 },
  { id: 'nuts-mix', unitWeightG: 214, supplier: 'crunchy', capacity: 20, reorderPoint: 5 },
  { id: 'bar-choc', unitWeightG: 52, supplier: 'crunchy', capacity: 40, reorderPoint: 10 },
  { id: 'crackers', unitWeightG: 250, supplier: 'crunchy', capacity: 16, reorderPoint: 4 },
  { id: 'cookies', unitWeightG: 305, supplier: 'crunchy', capacity: 16, reorderPoint: 4 },
];

export interface SoakWeekOptions {
  seed: number;
  shelves: number;
  /** Simulated days (default 7, starting on a Monday at midnight). */
  days?: number;
  lanes?: number;
  /** Device milliseconds one simulated hour takes while the store is open (default 20 s). */
  openHourMs?: number;
  /** ... and while it is closed (default 2 s). */
  closedHourMs?: number;
  /** Opening hours by weekday, Monday first: [open, close) hour of day, or null when closed. */
  hours?: readonly (readonly [number, number] | null)[];
  /** Mean items picked per lane per open hour on an average hour (default 0.5). */
  picksPerLaneHour?: number;
  /** Mean times per open hour a hand leans on some lane of a shelf, 150–600 g (default 0.25). */
  leansPerShelfHour?: number;
  /** Least device time between two events on one shelf, so each count settles (default 2.5 s). */
  minGapMs?: number;
  catalogue?: readonly SoakSku[];
}

export interface SoakLane {
  lane: number;
  sku: SoakSku;
  items: number;
}

export interface SoakShelf {
  index: number;
  serial: string;
  lanes: SoakLane[];
}

export interface SoakWeek {
  /** Shelves and their picks in device time (play it at speed 1). */
  scenario: ScenarioFileInput;
  shelves: SoakShelf[];
  timeline: Timeline;
  /** Picks scheduled, all shelves. */
  picks: number;
  /** Hands leaning on a lane for a moment (never a change of stock), all shelves. */
  leans: number;
}

/** Monday–Saturday 8–20, Sunday 10–16. */
export const DEFAULT_HOURS: readonly (readonly [number, number] | null)[] = [
  [8, 20],
  [8, 20],
  [8, 20],
  [8, 20],
  [8, 20],
  [8, 20],
  [10, 16],
];

/** Simulated time ↔ device time, piecewise linear with one piece per simulated hour. */
export class Timeline {
  /** Device time at the start of each simulated hour; one more entry than hours (the end). */
  private readonly starts: number[];

  constructor(readonly hourDeviceMs: readonly number[]) {
    if (hourDeviceMs.length === 0 || hourDeviceMs.some((d) => !(d > 0))) {
      throw new RangeError('every simulated hour needs more than 0 ms of device time');
    }
    this.starts = [0];
    for (const d of hourDeviceMs) this.starts.push((this.starts.at(-1) as number) + d);
  }

  get hours(): number {
    return this.hourDeviceMs.length;
  }

  /** Device time of the whole run, ms. */
  get deviceMs(): number {
    return this.starts.at(-1) as number;
  }

  /** Device time at which simulated hour `h` starts (h = hours: the end). */
  hourStart(h: number): number {
    return this.starts[Math.max(0, Math.min(this.hours, h))] as number;
  }

  /** Device time of simulated time `simMs` (since the start of the run). */
  toDevice(simMs: number): number {
    const h = Math.max(0, Math.min(this.hours - 1, Math.floor(simMs / HOUR_MS)));
    const frac = Math.max(0, Math.min(1, (simMs - h * HOUR_MS) / HOUR_MS));
    return (this.starts[h] as number) + frac * (this.hourDeviceMs[h] as number);
  }

  /** Simulated time of device time `deviceMs`. */
  toSim(deviceMs: number): number {
    if (deviceMs >= this.deviceMs) return this.hours * HOUR_MS;
    let lo = 0;
    let hi = this.hours - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.starts[mid] as number) <= deviceMs) lo = mid;
      else hi = mid - 1;
    }
    const frac = (deviceMs - (this.starts[lo] as number)) / (this.hourDeviceMs[lo] as number);
    return (lo + Math.max(0, frac)) * HOUR_MS;
  }
}

/** `day 3 14:05` for a simulated time (day 1 is the first Monday). */
export function simLabel(simMs: number): string {
  const day = Math.floor(simMs / DAY_MS);
  const min = Math.floor((simMs - day * DAY_MS) / 60_000);
  const hh = String(Math.floor(min / 60)).padStart(2, '0');
  const mm = String(min % 60).padStart(2, '0');
  return `day ${day + 1} ${hh}:${mm}`;
}

/** Shoppers through the day: a lunch peak and a bigger after-work peak (relative, mean ≈ 1). */
function hourWeight(hourOfDay: number): number {
  const h = hourOfDay + 0.5;
  return 0.55 + 0.7 * Math.exp(-((h - 12.5) ** 2) / 2) + 1.1 * Math.exp(-((h - 18) ** 2) / 3);
}

const WEEKDAY_WEIGHT = [1, 0.95, 1, 1.05, 1.15, 1.35, 0.8];

function shuffle<T>(xs: T[], rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
}

/** Poisson-distributed count by inversion (λ is small here). */
function poisson(lambda: number, rng: Rng): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Builds the week: the same options and seed give the same shelves, picks and timeline. */
export function soakWeek(opts: SoakWeekOptions): SoakWeek {
  const days = opts.days ?? 7;
  const laneCount = opts.lanes ?? 4;
  const openMs = opts.openHourMs ?? 20_000;
  const closedMs = opts.closedHourMs ?? 2_000;
  const hours = opts.hours ?? DEFAULT_HOURS;
  const perLane = opts.picksPerLaneHour ?? 0.5;
  const minGap = opts.minGapMs ?? 2_500;
  const catalogue = opts.catalogue ?? SOAK_CATALOGUE;
  if (!Number.isInteger(days) || days < 1) throw new RangeError('days: a whole number ≥ 1');
  if (!Number.isInteger(opts.shelves) || opts.shelves < 1 || opts.shelves > 64) {
    throw new RangeError('shelves: 1–64');
  }
  if (laneCount < 1 || laneCount > 8) throw new RangeError('lanes: 1–8');
  if (catalogue.length === 0) throw new RangeError('catalogue: at least one SKU');

  const open = (h: number) => {
    const day = hours[Math.floor(h / 24) % 7];
    const hod = h % 24;
    return day !== null && day !== undefined && hod >= day[0] && hod < day[1];
  };
  const hourMs: number[] = [];
  for (let h = 0; h < days * 24; h++) hourMs.push(open(h) ? openMs : closedMs);
  const timeline = new Timeline(hourMs);

  const layoutRng = new Rng(deriveSeed(opts.seed, 'soak-layout'));
  const shelves: SoakShelf[] = [];
  const events: NonNullable<ScenarioFileInput['events']> = [];
  let picks = 0;
  let leans = 0;
  const leanRate = opts.leansPerShelfHour ?? 0.25;
  for (let i = 0; i < opts.shelves; i++) {
    const serial = `SOAK-${String(i + 1).padStart(3, '0')}`;
    const lanes: SoakLane[] = [];
    for (let l = 0; l < laneCount; l++) {
      const sku = layoutRng.pick(catalogue);
      const items = Math.max(sku.reorderPoint + 2, Math.round(sku.capacity * layoutRng.uniform(0.6, 1)));
      lanes.push({ lane: l, sku, items: Math.min(items, sku.capacity) });
    }
    shelves.push({ index: i, serial, lanes });
    // How much each lane sells relative to the others on this shelf.
    const popularity = lanes.map(() => layoutRng.uniform(0.5, 1.5));
    const popTotal = popularity.reduce((a, b) => a + b, 0);
    const rng = new Rng(deriveSeed(opts.seed, 'soak-picks', i));
    for (let h = 0; h < timeline.hours; h++) {
      if (!open(h)) continue;
      const d = timeline.hourDeviceMs[h] as number;
      const lambda = laneCount * perLane * hourWeight(h % 24) * (WEEKDAY_WEIGHT[Math.floor(h / 24) % 7] ?? 1);
      // Slots of at least 2 × minGap keep jittered neighbours ≥ minGap apart, across hours too.
      const kinds: ('pick' | 'lean')[] = [];
      for (let n = poisson(lambda, rng); n > 0; n--) kinds.push('pick');
      for (let n = poisson(leanRate, rng); n > 0; n--) kinds.push('lean');
      const k = Math.min(kinds.length, Math.floor(d / (2 * minGap)));
      if (k === 0) continue;
      shuffle(kinds, rng);
      const slot = d / k;
      for (let j = 0; j < k; j++) {
        const at = Math.round(timeline.hourStart(h) + slot * (j + 0.5 + 0.25 * (2 * rng.next() - 1)));
        let u = rng.uniform(0, popTotal);
        let lane = 0;
        while (lane < laneCount - 1 && u >= (popularity[lane] as number)) u -= popularity[lane++] as number;
        if (kinds[j] === 'lean') {
          // A hand rests on the lane and lets go well before the next event (≥ 0.5 slot away).
          const grams = Math.round(rng.uniform(150, 600));
          const ms = Math.round(Math.min(3_000, 0.35 * slot) * rng.uniform(0.6, 1));
          events.push({ at, shelf: serial, action: 'lean', lane, grams, ms });
          leans++;
          continue;
        }
        const r = rng.next();
        const count = r < 0.75 ? 1 : r < 0.95 ? 2 : 3;
        events.push({ at, shelf: serial, action: 'remove', lane, count });
        picks++;
      }
    }
  }

  // The cells' daily temperature swing follows the simulated day, not the compressed device clock.
  const dayDeviceMs = timeline.deviceMs / days;
  const scenario: ScenarioFileInput = {
    name: 'soak-week',
    description: `${days} simulated days, ${opts.shelves} shelves, picks and leaning hands in opening hours, restocks by order`,
    seed: opts.seed,
    rate: 80,
    model: { driftPeriodMs: dayDeviceMs },
    shelves: shelves.map((s) => ({
      serial: s.serial,
      lanes: s.lanes.map((l) => ({
        unitWeightG: l.sku.unitWeightG,
        items: l.items,
        capacity: l.sku.capacity,
      })),
    })),
    events,
  };
  return { scenario, shelves, timeline, picks, leans };
}

export interface Crossing {
  /** First frame at or below the threshold. */
  seq: number;
  deviceMs: number;
}

/**
 * Where a lane's true count fell from above `threshold` to at or below it: the replenishment needs
 * the ground truth holds. Items moved in or a hand on the lane do not change the count of items.
 */
export function crossings(states: readonly TruthState[], lane: number, threshold: number): Crossing[] {
  const out: Crossing[] = [];
  let above: boolean | null = null;
  for (const s of states) {
    const l = s.lanes[lane];
    if (!l) continue;
    const now = l.items > threshold;
    if (above === true && !now) out.push({ seq: s.seq, deviceMs: s.deviceMs });
    above = now;
  }
  return out;
}
