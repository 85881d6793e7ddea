/** The soak run's bounds, in one place (no imports, so `--help` can print them before a build). */

/** RSS after a forced GC may grow by less than this per simulated day (second half of the run). */
export const RSS_SLOPE_BOUND_MB_PER_DAY = 1;
/** Stable readings that must equal the true count of the frame they are true of. */
export const EXACT_BOUND = 0.999;
/** The RSS slope is judged only on runs at least this long: before, it measures the warm-up. */
export const MIN_DAYS_FOR_SLOPE = 3;
