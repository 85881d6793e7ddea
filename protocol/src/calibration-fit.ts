/**
 * How well a channel's calibration points agree, for the agent's records and the technician's
 * dashboard alike (pure functions, no I/O).
 *
 * A point is (grams, counts above the tare). The agent's curve is piecewise-linear through (0, 0)
 * and every point, so each point sits exactly on it and its in-sample error is always zero. What
 * tells a bad point (a mistyped mass, a mass touching the next lane) is how far it lies from the
 * others: its residual is the error the straight line through zero, at the MEDIAN sensitivity
 * (counts per gram) of all the channel's points, makes at it. A load cell bends by a few hundredths
 * of a percent over its range, so a good point's residual stays near zero, while a wrong mass
 * stands out by its whole error. The median keeps one bad point from moving the line; with only
 * two points no line can tell which of them is wrong, and both read the same size of residual.
 * (Leaving each point out of a piecewise fit does not single it out: a bad point bends the curve
 * the others are judged by, so its neighbours read errors as large as its own.)
 */

export interface CalPoint {
  grams: number;
  counts: number;
}

export interface FittedPoint extends CalPoint {
  /** Grams the median line reads at the point's counts minus its mass; null with one point. */
  residualG: number | null;
  /** Off by more than a load cell's bend and a settled reading's noise can explain. */
  suspect: boolean;
}

/** A point is suspect beyond 0.5 % of its mass plus 1 g (a cell's bend is ~0.05 %, noise ~0.1 g). */
export const SUSPECT_SHARE = 0.005;
export const SUSPECT_FLOOR_G = 1;

export function suspectLimitG(grams: number): number {
  return SUSPECT_FLOOR_G + SUSPECT_SHARE * Math.abs(grams);
}

function usable(points: readonly CalPoint[]): CalPoint[] {
  return points
    .filter((p) => Number.isFinite(p.grams) && Number.isFinite(p.counts) && p.grams > 0 && p.counts !== 0)
    .sort((a, b) => a.grams - b.grams);
}

/** The median counts per gram of the points; null without any usable point. */
export function medianSensitivity(points: readonly CalPoint[]): number | null {
  const s = usable(points)
    .map((p) => p.counts / p.grams)
    .sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Every usable point in order of mass, with its residual and whether it is suspect. */
export function fitPoints(points: readonly CalPoint[]): FittedPoint[] {
  const pts = usable(points);
  const sens = medianSensitivity(pts);
  return pts.map((p) => {
    if (pts.length < 2 || sens === null) return { ...p, residualG: null, suspect: false };
    const residualG = p.counts / sens - p.grams;
    return { ...p, residualG, suspect: Math.abs(residualG) > suspectLimitG(p.grams) };
  });
}

/** The point nearest `grams`, if one is within 2 % of it (or half a gram for small masses). */
export function nearestPoint<P extends CalPoint>(points: readonly P[], grams: number): P | null {
  let best: P | null = null;
  for (const p of points) {
    if (!best || Math.abs(p.grams - grams) < Math.abs(best.grams - grams)) best = p;
  }
  if (!best || Math.abs(best.grams - grams) > Math.max(0.5, 0.02 * grams)) return null;
  return best;
}
