/**
 * Stage 4 — calibration: raw counts → grams, and the technician operations as pure functions.
 *
 * grams = f(raw − offset − zero), where `offset` is the tare (counts at zero load), `zero` the
 * correction zero-tracking has made since, and f is linear (`scale` counts per gram) while fewer
 * than two reference points are known, else piecewise-linear through (0, 0) and every point
 * (`points`: grams → counts above offset), extended beyond the ends by the end segments. A load
 * cell's response bends a little over its range; a few points measured with known masses follow it.
 *
 * The technician operations take a settled reading (the stability window mean, see stability.ts)
 * and return the calibration before and after plus a residual in grams:
 * - tare: new offset = settled raw; residual = what the old calibration read (the load or drift
 *   the tare removed).
 * - calibrate with a known mass: new scale = (raw − offset) / mass, and the point joins the table
 *   (replacing one within 2 % of the same mass, and any that would break monotonicity); residual =
 *   old reading − mass (the error this calibration corrected).
 * - learn unit weight from N items: unit = net grams / N; residual = net − N × old unit weight.
 * - remove a reference point (a bad one: a mistyped mass): the point nearest the given mass leaves
 *   the table; residual = what the curve without it reads at its counts minus its mass.
 */
import { type Calibration, type FittedPoint, fitPoints, nearestPoint } from '@shelfsense/protocol';
import { PipelineError, PipelineErrorCodes } from './settings.js';

/** A calibration compiled for the hot path. */
export class CalibrationMap {
  readonly offset: number;
  readonly scale: number;
  /** Fewer than two usable points: grams = counts / scale. */
  readonly linear: boolean;
  /** Counts per gram near zero load. */
  readonly originSlope: number;
  /** Smallest |counts per gram| over all segments: turns a band in grams into counts conservatively. */
  readonly minSlope: number;
  private readonly sign: number;
  /** Knots as sign-adjusted counts (increasing) and grams; n = 1 means linear. */
  private readonly kc: Float64Array;
  private readonly kg: Float64Array;
  /** Grams per count of the segment ending at knot i (index 0 unused). */
  private readonly gpc: Float64Array;
  private readonly n: number;

  private constructor(cal: Calibration) {
    this.offset = cal.offset;
    this.scale = cal.scale;
    const table = monotoneTable(cal);
    this.sign = table.sign;
    this.n = table.grams.length;
    this.linear = this.n === 1;
    this.kc = new Float64Array(table.counts);
    this.kg = new Float64Array(table.grams);
    this.gpc = new Float64Array(this.n);
    let minSlope = Math.abs(cal.scale);
    for (let i = 1; i < this.n; i++) {
      const dc = (this.kc[i] as number) - (this.kc[i - 1] as number);
      const dg = (this.kg[i] as number) - (this.kg[i - 1] as number);
      this.gpc[i] = dg / dc;
      minSlope = i === 1 ? dc / dg : Math.min(minSlope, dc / dg);
    }
    this.minSlope = minSlope;
    this.originSlope = this.n > 1 ? this.sign / (this.gpc[1] as number) : cal.scale;
  }

  static of(cal: Calibration): CalibrationMap {
    return new CalibrationMap(cal);
  }

  /** Grams for `counts` above the offset (raw − offset − zero correction). */
  toGrams(counts: number): number {
    const n = this.n;
    if (n === 1) return counts / this.scale;
    const c = counts * this.sign;
    let i = 1;
    while (i < n - 1 && c > (this.kc[i] as number)) i++;
    return (this.kg[i - 1] as number) + (c - (this.kc[i - 1] as number)) * (this.gpc[i] as number);
  }

  /** Counts above the offset for `grams` (the inverse of toGrams). */
  toCounts(grams: number): number {
    const n = this.n;
    if (n === 1) return grams * this.scale;
    let i = 1;
    while (i < n - 1 && grams > (this.kg[i] as number)) i++;
    return (
      ((this.kc[i - 1] as number) + (grams - (this.kg[i - 1] as number)) / (this.gpc[i] as number)) *
      this.sign
    );
  }
}

/**
 * The piecewise table of a calibration: (0, 0) then the points in order of grams, keeping only
 * points whose counts keep rising (in the direction of the cell's sign). One knot means linear.
 */
function monotoneTable(cal: Calibration): { sign: number; counts: number[]; grams: number[] } {
  const pts = cal.points.filter((p) => p.grams > 0 && p.counts !== 0).sort((a, b) => a.grams - b.grams);
  const sign = pts.length > 0 ? Math.sign((pts[0] as { counts: number }).counts) : Math.sign(cal.scale) || 1;
  const counts = [0];
  const grams = [0];
  for (const p of pts) {
    const c = p.counts * sign;
    if (p.grams > (grams[grams.length - 1] as number) && c > (counts[counts.length - 1] as number)) {
      counts.push(c);
      grams.push(p.grams);
    }
  }
  if (counts.length === 2) return { sign, counts: [0], grams: [0] };
  return { sign, counts, grams };
}

export interface CalibrationChange {
  before: Calibration;
  after: Calibration;
  /** See the header: what the operation corrected, in grams. */
  residualG: number;
}

export interface UnitWeightChange {
  before: number;
  after: number;
  /** net − N × old unit weight, grams. */
  residualG: number;
}

/** A deep copy that keeps every field, including ones this module does not use. */
function copy(cal: Calibration): Calibration {
  return { ...cal, points: cal.points.map((p) => ({ ...p })) };
}

function calError(message: string, path: string): PipelineError {
  return new PipelineError(PipelineErrorCodes.CALIBRATION, message, [{ path, message }]);
}

/** Tare: the settled raw reading becomes the zero. `zeroCounts` is zero-tracking's correction so far. */
export function tare(cal: Calibration, settledRaw: number, zeroCounts = 0): CalibrationChange {
  if (!Number.isFinite(settledRaw)) throw calError('no settled reading to tare on', 'raw');
  const residualG = CalibrationMap.of(cal).toGrams(settledRaw - cal.offset - zeroCounts);
  const after = copy(cal);
  after.offset = settledRaw;
  return { before: copy(cal), after, residualG };
}

/** Calibrate with a known mass on the cell; see the header. */
export function calibrateWithMass(
  cal: Calibration,
  settledRaw: number,
  massG: number,
  zeroCounts = 0,
): CalibrationChange {
  if (!(massG > 0) || !Number.isFinite(massG)) throw calError('the reference mass must be positive', 'massG');
  if (!Number.isFinite(settledRaw)) throw calError('no settled reading to calibrate on', 'raw');
  const offset = cal.offset + zeroCounts;
  const counts = settledRaw - offset;
  // Less than a thousandth of a count per gram: the mass is not on this cell.
  if (Math.abs(counts) < massG * 1e-3) throw calError('the cell does not respond to the mass', 'raw');
  const residualG = CalibrationMap.of(cal).toGrams(counts) - massG;
  const s = Math.sign(counts);
  const kept = cal.points.filter(
    (p) =>
      p.grams > 0 &&
      Math.abs(p.grams - massG) > 0.02 * massG &&
      Math.sign(p.counts) === s &&
      (p.grams < massG ? p.counts * s < counts * s : p.counts * s > counts * s),
  );
  const points = [...kept.map((p) => ({ ...p })), { grams: massG, counts }].sort((a, b) => a.grams - b.grams);
  return { before: copy(cal), after: { ...copy(cal), offset, scale: counts / massG, points }, residualG };
}

/** Unit weight from `count` items on an otherwise tared lane reading `netG`. */
export function learnUnitWeight(netG: number, count: number, unitBefore: number): UnitWeightChange {
  if (!Number.isInteger(count) || count < 1)
    throw calError('the item count must be a positive integer', 'count');
  if (!(netG > 0) || !Number.isFinite(netG)) throw calError('the lane reads no load to learn from', 'netG');
  return { before: unitBefore, after: netG / count, residualG: netG - count * unitBefore };
}

/** Tare every channel of a lane. */
export function tareChannels(
  cals: readonly Calibration[],
  settledRaw: readonly number[],
  zeroCounts: readonly number[],
): CalibrationChange[] {
  return cals.map((c, i) => tare(c, settledRaw[i] as number, zeroCounts[i] ?? 0));
}

/**
 * Calibrate a lane of one or more channels with a known mass. A single channel takes the whole
 * mass. Several channels share it in proportion to what each read before (the mass sits wherever
 * the technician put it); a channel that carried under 5 % keeps its calibration, since so small a
 * share would measure it badly. Returns one change per channel (null when kept) and the lane residual.
 */
export function calibrateChannels(
  cals: readonly Calibration[],
  settledRaw: readonly number[],
  zeroCounts: readonly number[],
  massG: number,
): { changes: (CalibrationChange | null)[]; residualG: number } {
  if (cals.length === 1) {
    const change = calibrateWithMass(
      cals[0] as Calibration,
      settledRaw[0] as number,
      massG,
      zeroCounts[0] ?? 0,
    );
    return { changes: [change], residualG: change.residualG };
  }
  const readings = cals.map((c, i) =>
    CalibrationMap.of(c).toGrams((settledRaw[i] as number) - c.offset - (zeroCounts[i] ?? 0)),
  );
  const total = readings.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw calError('the lane reads no load to calibrate on', 'raw');
  // Each channel's share of the mass is its share of the (old) reading.
  const changes = cals.map((c, i) => {
    const g = readings[i] as number;
    if (g < 0.05 * total) return null;
    return calibrateWithMass(c, settledRaw[i] as number, (massG * g) / total, zeroCounts[i] ?? 0);
  });
  return { changes, residualG: total - massG };
}

/**
 * Remove the reference point nearest `massG` from a channel. The last point is kept: it sets the
 * scale, and a channel without one would read nothing. With one point left the curve is the line
 * through it (scale = its counts per gram); with more, scale follows the heaviest point.
 */
export function removePoint(cal: Calibration, massG: number): CalibrationChange & { removed: Point } {
  if (!(massG > 0) || !Number.isFinite(massG)) throw pointError('the mass must be positive', 'grams');
  if (cal.points.length === 0) {
    throw pointError('this channel has no reference points; calibrate with a known mass first', 'grams');
  }
  const removed = nearestPoint(cal.points, massG);
  if (!removed) {
    const have = cal.points.map((p) => `${round(p.grams)} g`).join(', ');
    throw pointError(`no reference point near ${round(massG)} g (the points are ${have})`, 'grams');
  }
  if (cal.points.length < 2) {
    throw pointError(
      'a channel keeps at least one reference point (it sets the scale); add another mass first',
      'grams',
    );
  }
  const points = cal.points.filter((p) => p !== removed).map((p) => ({ ...p }));
  const heaviest = points.reduce((a, b) => (b.grams > a.grams ? b : a));
  const after: Calibration = { ...copy(cal), points, scale: heaviest.counts / heaviest.grams };
  const residualG = CalibrationMap.of(after).toGrams(removed.counts) - removed.grams;
  return { before: copy(cal), after, residualG, removed: { ...removed } };
}

type Point = Calibration['points'][number];

/** The answer goes back to a technician's screen: it starts with the field it is about. */
const pointError = (message: string, path: string) => calError(`${path}: ${message}`, path);

const round = (g: number) => Math.round(g * 100) / 100;

/**
 * Remove a point on a lane: on its only channel, or on `channel` (required when the lane has
 * several, whose points each carry their own share of a mass). Returns one change per lane channel,
 * null where nothing changed.
 */
export function removePointOnLane(
  laneChannels: readonly number[],
  cals: readonly Calibration[],
  massG: number,
  channel?: number,
): { changes: (CalibrationChange | null)[]; removed: Point; residualG: number } {
  let index = 0;
  if (channel === undefined) {
    if (laneChannels.length > 1) {
      throw pointError(
        `the lane has channels ${laneChannels.join(', ')}: say which one the point is on`,
        'channel',
      );
    }
  } else {
    index = laneChannels.indexOf(channel);
    if (index < 0) {
      throw pointError(
        `channel ${channel} is not on this lane (it has ${laneChannels.join(', ')})`,
        'channel',
      );
    }
  }
  const change = removePoint(cals[index] as Calibration, massG);
  const changes = laneChannels.map((_, i) => (i === index ? change : null));
  return { changes, removed: change.removed, residualG: change.residualG };
}

/** A calibration as the audit record keeps it: every point with its residual (see calibration-fit). */
export function withResiduals(cal: Calibration): Omit<Calibration, 'points'> & { points: FittedPoint[] } {
  const fitted = fitPoints(cal.points);
  return {
    ...copy(cal),
    points: fitted.map((p) => ({
      ...p,
      residualG: p.residualG === null ? null : Math.round(p.residualG * 1000) / 1000,
    })),
  };
}
