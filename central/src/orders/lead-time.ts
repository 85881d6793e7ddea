/**
 * A supplier's lead time learned from its delivered orders, and the safety stock and reorder point
 * that follow from it and a lane's demand. Pure functions: the caller brings the history.
 *
 * Lead time is sent → received (the shelf counting the goods in), per supplier and site. Recent
 * deliveries weigh more because a supplier's performance drifts (new carrier, new depot); an
 * exponential decay follows that smoothly, where a last-N window has a cliff at which one old
 * delivery suddenly counts for nothing. A young lane leans on the schedule's nominal time (the prior)
 * until its own deliveries outnumber it.
 */

/** One delivered purchase order; ms since the epoch. */
export interface LeadTimeSample {
  sentAt: number;
  receivedAt: number;
}

/** What the caller knows before any delivery: the schedule's nominal cut-off → delivery time. */
export interface LeadTimePrior {
  meanMs: number;
  /** Spread of the nominal time; 0 (the default) when the schedule gives a time and no more. */
  stdMs?: number;
}

export interface LeadTimeOptions {
  /** Samples after which a delivery's weight halves, newest first (default 8; Infinity weighs all alike). */
  halfLife?: number;
  /** Blended in with weight k/(k+n), n the deliveries kept: it dominates the first and fades. */
  prior?: LeadTimePrior;
  /** k above, in deliveries' worth (default 3). */
  priorWeight?: number;
  /** Deliveries further than this many robust standard deviations from the median are dropped (default 5). */
  outlierSigmas?: number;
}

export interface LeadTime {
  /** Deliveries the estimate rests on, after dropping non-positive durations and outliers. */
  n: number;
  meanMs: number;
  stdMs: number;
  medianMs: number;
  p90Ms: number;
}

const DEFAULT_HALF_LIFE = 8;
const DEFAULT_PRIOR_WEIGHT = 3;
const DEFAULT_OUTLIER_SIGMAS = 5;
/** MAD × 1.4826 estimates σ for normal data. */
const MAD_TO_SIGMA = 1.482602218505602;
/**
 * The robust scale is at least this share of the median, so that a supplier that has so far been
 * exactly on time (MAD 0) does not have every later, slightly different delivery dropped.
 */
const MIN_SCALE_SHARE = 0.1;

/**
 * Wichura's AS241 (PPND16) coefficients, lowest degree first; about 1e-16 relative accuracy.
 * Applied Statistics 37 (1988) 477–484. Written as published, digits past a double's included, so
 * they can be checked against the paper.
 */
// biome-ignore-start lint/correctness/noPrecisionLoss: the published constants, rounded by the parser
const A = [
  3.387132872796366608, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
  4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3,
];
const B = [
  1, 4.2313330701600911252e1, 6.871870074920579083e2, 5.3941960214247511077e3, 2.1213794301586595867e4,
  3.930789580009271061e4, 2.8729085735721942674e4, 5.226495278852854561e3,
];
const C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 2.4178072517745061177e-1, 2.27238449892691845833e-2, 7.7454501427834140764e-4,
];
const D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 6.8976733498510000455e-1, 1.4810397642748007459e-1,
  1.51986665636164571966e-2, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 2.9656057182850489123e-1,
  2.6532189526576123093e-2, 1.2426609473880784386e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const F = [
  1, 5.9983220655588793769e-1, 1.3692988092273580531e-1, 1.48753612908506148525e-2, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];
// biome-ignore-end lint/correctness/noPrecisionLoss: the published constants, rounded by the parser

function poly(c: readonly number[], x: number): number {
  let y = 0;
  for (let i = c.length - 1; i >= 0; i--) y = y * x + c[i]!;
  return y;
}

/**
 * The standard normal quantile Φ⁻¹(p), by Wichura's AS241: the z of a service level. Accurate to
 * about 1e-16 relative, which Acklam's approximation (1e-9) would not be without a refinement step.
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const z = r <= 5 ? poly(C, r - 1.6) / poly(D, r - 1.6) : poly(E, r - 5) / poly(F, r - 5);
  return q < 0 ? -z : z;
}

const Z90 = inverseNormalCdf(0.9);

/**
 * Weighted quantile with each sample at the middle of its weight (Hazen's rule when weights are
 * equal: the median of 1, 2, 3, 4 is 2.5), interpolated linearly and clamped at the ends.
 */
function weightedQuantile(xs: readonly number[], ws: readonly number[], q: number): number {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const total = ws.reduce((s, w) => s + w, 0);
  let cum = 0;
  let prevPos = Number.NEGATIVE_INFINITY;
  let prevX = xs[idx[0]!]!;
  for (const i of idx) {
    const pos = (cum + ws[i]! / 2) / total;
    cum += ws[i]!;
    if (pos >= q) {
      if (prevPos === Number.NEGATIVE_INFINITY || pos === prevPos) return xs[i]!;
      return prevX + ((xs[i]! - prevX) * (q - prevPos)) / (pos - prevPos);
    }
    prevPos = pos;
    prevX = xs[i]!;
  }
  return prevX;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(v > 0)) throw new RangeError(`${name} must be positive, got ${v}`);
  return v;
}

/**
 * Lead time learned from delivered orders: recency-weighted mean, spread and quantiles, blended
 * with the prior while there are few deliveries. Null with no usable delivery and no prior.
 *
 * A duration that is not positive (clock skew, a receipt matched to the wrong order) is ignored, as
 * is one more than `outlierSigmas` robust σ from the weighted median: at 5σ a normal supplier drops
 * one delivery in millions, so what goes is a data error (a delivery counted weeks late), not
 * variability the safety stock should cover. Order of `samples` does not matter: recency is `sentAt`,
 * which unlike `receivedAt` does not itself favour the slow deliveries.
 */
export function learnLeadTime(
  samples: readonly LeadTimeSample[],
  options: LeadTimeOptions = {},
): LeadTime | null {
  const halfLife = positive('halfLife', options.halfLife, DEFAULT_HALF_LIFE);
  const k = positive('priorWeight', options.priorWeight, DEFAULT_PRIOR_WEIGHT);
  const sigmas = positive('outlierSigmas', options.outlierSigmas, DEFAULT_OUTLIER_SIGMAS);
  const prior = options.prior;
  if (prior) {
    if (!(prior.meanMs > 0 && Number.isFinite(prior.meanMs)))
      throw new RangeError(`prior.meanMs must be a positive number, got ${prior.meanMs}`);
    if (prior.stdMs !== undefined && !(prior.stdMs >= 0 && Number.isFinite(prior.stdMs)))
      throw new RangeError(`prior.stdMs must be a non-negative number, got ${prior.stdMs}`);
  }

  // Newest first, so that the i-th has weight 2^(−i/halfLife).
  const valid = samples
    .filter((s) => Number.isFinite(s.sentAt) && Number.isFinite(s.receivedAt) && s.receivedAt > s.sentAt)
    .sort((a, b) => b.sentAt - a.sentAt);
  let xs = valid.map((s) => s.receivedAt - s.sentAt);
  let ws = xs.map((_, i) => 2 ** (-i / halfLife));

  if (xs.length > 0) {
    const median = weightedQuantile(xs, ws, 0.5);
    const mad = weightedQuantile(
      xs.map((x) => Math.abs(x - median)),
      ws,
      0.5,
    );
    const limit = sigmas * Math.max(MAD_TO_SIGMA * mad, MIN_SCALE_SHARE * median);
    const keep = xs.map((x) => Math.abs(x - median) <= limit);
    xs = xs.filter((_, i) => keep[i]);
    ws = ws.filter((_, i) => keep[i]);
  }

  const n = xs.length;
  if (n === 0 && !prior) return null;

  let data = { mean: 0, variance: 0, median: 0, p90: 0 };
  if (n > 0) {
    const v1 = ws.reduce((s, w) => s + w, 0);
    const v2 = ws.reduce((s, w) => s + w * w, 0);
    const mean = xs.reduce((s, x, i) => s + ws[i]! * x, 0) / v1;
    const ss = xs.reduce((s, x, i) => s + ws[i]! * (x - mean) ** 2, 0);
    // Unbiased for reliability weights; one delivery shows no spread.
    const variance = n > 1 ? ss / (v1 - v2 / v1) : 0;
    data = { mean, variance, median: weightedQuantile(xs, ws, 0.5), p90: weightedQuantile(xs, ws, 0.9) };
  }
  if (!prior) {
    return { n, meanMs: data.mean, stdMs: Math.sqrt(data.variance), medianMs: data.median, p90Ms: data.p90 };
  }

  // Shrinkage on the raw count (not the decayed effective size), so the prior fades to nothing
  // once the lane has a history of its own.
  const w0 = k / (k + n);
  const s0 = prior.stdMs ?? 0;
  const meanMs = w0 * prior.meanMs + (1 - w0) * data.mean;
  // Variance of the mixture: disagreement between the schedule and the deliveries is uncertainty.
  const variance =
    w0 * (s0 ** 2 + (prior.meanMs - meanMs) ** 2) + (1 - w0) * (data.variance + (data.mean - meanMs) ** 2);
  return {
    n,
    meanMs,
    stdMs: Math.sqrt(variance),
    medianMs: w0 * prior.meanMs + (1 - w0) * data.median,
    p90Ms: w0 * (prior.meanMs + Z90 * s0) + (1 - w0) * data.p90,
  };
}

export interface SafetyStockInput {
  demandPerDayMean: number;
  demandPerDayStd: number;
  leadTimeDaysMean: number;
  leadTimeDaysStd: number;
  /** Probability of no stock-out during a lead time (cycle service level), in (0.5, 0.9999]. */
  serviceLevel: number;
}

/** Float error must not buy a whole extra item: 20.000000000004 is 20 (and 0 is +0, not −0). */
const ceilWhole = (x: number): number => Math.max(0, Math.ceil(x - 1e-9 * Math.max(1, x)));

function checkInput(input: SafetyStockInput): void {
  const { serviceLevel, ...rest } = input;
  for (const [key, v] of Object.entries(rest)) {
    if (!(v >= 0 && Number.isFinite(v)))
      throw new RangeError(`${key} must be a non-negative number, got ${v}`);
  }
  // Below 0.5 z is negative (negative stock); above 0.9999 z grows without bound for little gain.
  if (!(serviceLevel > 0.5 && serviceLevel <= 0.9999))
    throw new RangeError(`serviceLevel must be in (0.5, 0.9999], got ${serviceLevel}`);
}

/**
 * Stock held against demand and lead time both varying: z·√(L·σd² + d²·σL²), whole items rounded up
 * (the textbook formula for independent normal demand per day and lead time).
 */
export function safetyStock(input: SafetyStockInput): number {
  checkInput(input);
  const { demandPerDayMean: d, demandPerDayStd: sd, leadTimeDaysMean: l, leadTimeDaysStd: sl } = input;
  const z = inverseNormalCdf(input.serviceLevel);
  return ceilWhole(z * Math.sqrt(l * sd ** 2 + d ** 2 * sl ** 2));
}

/** The level at which to order: expected demand over the lead time plus safety stock, d·L + SS, rounded up. */
export function reorderPoint(input: SafetyStockInput): number {
  const ss = safetyStock(input);
  return ceilWhole(input.demandPerDayMean * input.leadTimeDaysMean + ss);
}
