/**
 * Consumption rate per lane from pick events, exponentially weighted in continuous time (picks are
 * irregular, so a per-sample EWMA would weight a busy hour like a quiet week).
 *
 * The state is a decaying sum S(t) = Σ items_i · e^(−(t − t_i)/τ). For a steady rate r observed
 * since t₀, S(t) → r·τ·(1 − e^(−(t − t₀)/τ)), so dividing by that factor gives an unbiased rate even
 * while the history is shorter than τ.
 */
export interface RateState {
  /** Decayed sum of picked items, as of `lastTs`. */
  sum: number;
  /** Timestamp `sum` refers to (null before the first pick). */
  lastTs: number | null;
  /** Start of observation: the lane's first reading. */
  since: number | null;
}

export const DAY_MS = 86_400_000;

/**
 * The shortest history a rate is divided by: a lane watched for a second, in which a customer took
 * four items, has not shown a rate of 345,600 a day. Below this much observation the rate is
 * items over this window (an underestimate that grows into the true rate), never a burst.
 */
export const MIN_RATE_WINDOW_MS = 3_600_000;

export function emptyRate(): RateState {
  return { sum: 0, lastTs: null, since: null };
}

/** Starts observation at the lane's first reading (a lane with no picks then has rate 0). */
export function observe(state: RateState, ts: number): RateState {
  return state.since === null || ts < state.since ? { ...state, since: ts } : state;
}

/** Adds `items` picked at `ts`. A late pick (older than the last) is decayed to the last timestamp. */
export function addPick(state: RateState, items: number, ts: number, tauMs: number): RateState {
  if (!(items > 0)) return state;
  const since = state.since === null ? ts : Math.min(state.since, ts);
  if (state.lastTs === null) return { sum: items, lastTs: ts, since };
  if (ts >= state.lastTs) {
    return { sum: state.sum * Math.exp(-(ts - state.lastTs) / tauMs) + items, lastTs: ts, since };
  }
  return { sum: state.sum + items * Math.exp(-(state.lastTs - ts) / tauMs), lastTs: state.lastTs, since };
}

/** Items per millisecond at `atTs`; null until some time has been observed. */
export function ratePerMs(state: RateState, atTs: number, tauMs: number): number | null {
  if (state.since === null) return null;
  const observed = atTs - state.since;
  if (observed <= 0) return null;
  const span = Math.max(observed, Math.min(MIN_RATE_WINDOW_MS, tauMs));
  let s = state.sum;
  if (state.lastTs !== null && atTs > state.lastTs) s *= Math.exp(-(atTs - state.lastTs) / tauMs);
  return s / (tauMs * (1 - Math.exp(-span / tauMs)));
}

export interface Forecast {
  /** Items per day (null while unknown). */
  ratePerDay: number | null;
  /** Days until the lane is empty at the current rate (null: unknown; Infinity: no consumption). */
  daysOfCover: number | null;
  /** Predicted stock-out time (ms; null when unknown or never). */
  stockOutAt: number | null;
  /** Observed history, ms. */
  historyMs: number;
}

export function forecast(state: RateState, units: number | null, atTs: number, tauMs: number): Forecast {
  const r = ratePerMs(state, atTs, tauMs);
  const historyMs = state.since === null ? 0 : Math.max(0, atTs - state.since);
  if (r === null || units === null)
    return { ratePerDay: r === null ? null : r * DAY_MS, daysOfCover: null, stockOutAt: null, historyMs };
  if (r <= 0) return { ratePerDay: 0, daysOfCover: Number.POSITIVE_INFINITY, stockOutAt: null, historyMs };
  return {
    ratePerDay: r * DAY_MS,
    daysOfCover: units / (r * DAY_MS),
    stockOutAt: Math.round(atTs + units / r),
    historyMs,
  };
}

/**
 * Items picked per whole UTC day, the last DEMAND_DAYS of them, for the variability of demand a
 * service-level safety stock covers. A day without picks counts as zero once a later pick closes it.
 */
export interface DemandDays {
  /** The UTC day (ms since the epoch / DAY_MS) `today` counts. */
  day: number;
  today: number;
  /** Closed days' totals, oldest first. */
  days: number[];
}

export const DEMAND_DAYS = 28;
/** Closed days a measured spread needs; fewer, and demand is taken as Poisson. */
export const MIN_DEMAND_DAYS = 7;

export function addDemand(d: DemandDays | undefined, items: number, ts: number): DemandDays {
  const day = Math.floor(ts / DAY_MS);
  if (!d) return { day, today: items, days: [] };
  if (day < d.day) return d;
  if (day === d.day) return { ...d, today: d.today + items };
  const gap = Math.min(day - d.day - 1, DEMAND_DAYS);
  const days = [...d.days, d.today, ...new Array<number>(gap).fill(0)].slice(-DEMAND_DAYS);
  return { day, today: items, days };
}

/** The sample standard deviation of daily demand, or null with fewer than MIN_DEMAND_DAYS days. */
export function demandStdPerDay(d: DemandDays | undefined): number | null {
  if (!d || d.days.length < MIN_DEMAND_DAYS) return null;
  const n = d.days.length;
  const mean = d.days.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(d.days.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
}
