/**
 * A lane's settled weight steps (the weight between two consecutive settled levels: picks,
 * restocks, anything put down or lifted) and the unit weight they imply.
 *
 * The greatest common step is an approximate GCD of noisy steps: the largest u such that every step
 * is within tolerance of a whole multiple of u. Candidates are every step divided by 1..maxMultiple;
 * each is refined by least squares (u = Σ nᵢ·sᵢ / Σ nᵢ²) and kept when every residual fits. The
 * largest survivor wins, which prefers explanations with small multiples and so rules out u/2 and
 * u/3 — they also fit, by construction, but are smaller.
 */

export interface StepFit {
  /** The common step, grams. */
  unitWeightG: number;
  /** 0..1, from the residuals against the tolerance and from how many steps agree. */
  confidence: number;
  /** Steps it rests on. */
  steps: number;
  /** Root mean square residual, grams. */
  rmsG: number;
}

export interface StepFitOptions {
  /** A step's allowed distance from a whole multiple, grams (the same for every multiple). */
  tolG: number;
  /** Smallest unit weight considered, grams. */
  minUnitG?: number;
  /** Largest multiple a candidate may be of a single step. */
  maxMultiple?: number;
  /**
   * Largest chance that steps of no common unit fit u by accident: each further step lands within
   * ±tol of a multiple of u with probability 2·tol / u, so a small u explains anything.
   */
  maxChance?: number;
}

/** See the header. Null when no u ≥ minUnitG explains every step (or there are no steps). */
export function greatestCommonStep(steps: readonly number[], opts: StepFitOptions): StepFit | null {
  const a = steps.map(Math.abs).filter((s) => s > 0);
  if (a.length === 0) return null;
  const tol = opts.tolG;
  const minU = Math.max(opts.minUnitG ?? 0, tol * 2);
  const maxM = opts.maxMultiple ?? 12;
  const maxChance = opts.maxChance ?? 0.005;
  let best: StepFit | null = null;
  for (const s of a) {
    for (let m = 1; m <= maxM; m++) {
      const u0 = s / m;
      if (u0 < minU) break;
      if (best && u0 < best.unitWeightG * 0.98) break;
      const fit = refine(a, u0, tol, minU);
      if (fit && chance(fit, tol) > maxChance) continue;
      if (fit && (!best || fit.unitWeightG > best.unitWeightG * 1.005)) best = fit;
    }
  }
  return best;
}

/** The chance that `fit.steps` unrelated steps would all fit its unit (see maxChance). */
function chance(fit: StepFit, tol: number): number {
  return Math.min(1, (2 * tol) / fit.unitWeightG) ** (fit.steps - 1);
}

/** Least-squares refinement of candidate u0; null when a step does not fit. */
function refine(a: readonly number[], u0: number, tol: number, minU: number): StepFit | null {
  let u = u0;
  for (let pass = 0; pass < 3; pass++) {
    let num = 0;
    let den = 0;
    for (const s of a) {
      const n = Math.round(s / u);
      if (n < 1) return null;
      num += n * s;
      den += n * n;
    }
    u = num / den;
  }
  if (!(u >= minU)) return null;
  let sq = 0;
  let worst = 0;
  for (const s of a) {
    const n = Math.round(s / u);
    if (n < 1) return null;
    const e = s - n * u;
    // A flat tolerance: scaled with √n it would let u/2 pass where u fails (n doubles).
    const rel = Math.abs(e) / tol;
    if (rel > 1) return null;
    worst = Math.max(worst, rel);
    sq += e * e;
  }
  const rms = Math.sqrt(sq / a.length);
  // Residuals of real steps are noise, well inside the tolerance; a fit by chance spreads them out.
  if (a.length > 2 && rms > 0.5 * tol) return null;
  // Fit: 1 for perfect steps, falling as the worst residual nears the tolerance. Evidence: one
  // step proves little (any step is a whole multiple of itself), each further one more.
  const fit = 1 - 0.5 * worst;
  const evidence = 1 - 1 / (1 + (a.length - 1) * 0.75);
  return { unitWeightG: u, confidence: fit * evidence, steps: a.length, rmsG: rms };
}

/** Whether `stepG` is a whole, non-zero number of `unitG` within `tolG` (scaled by √multiple). */
export function wholeSteps(stepG: number, unitG: number, tolG: number): number {
  const n = Math.round(stepG / unitG);
  if (n === 0) return 0;
  return Math.abs(stepG - n * unitG) <= tolG * Math.sqrt(Math.abs(n)) ? n : 0;
}

/** Whether every step is a whole multiple of `unitG` within `tolG`. */
export function explains(steps: readonly number[], unitG: number, tolG: number): boolean {
  return steps.every((s) => wholeSteps(s, unitG, tolG) !== 0);
}
