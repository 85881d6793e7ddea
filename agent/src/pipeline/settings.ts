/**
 * Pipeline settings derived from the agent's `signal` config, plus the pipeline's own error codes.
 *
 * Window sizes in the config are samples at 80 SPS. At 10 SPS the same sample counts would span
 * eight times as long and the lane could not settle within a 2 s rest, so the windows shrink toward
 * the same time span (see windowsFor).
 */
import { type Issue, isShelfError, ShelfError, type SignalConfig } from '@shelfsense/protocol';

export type SignalSettings = SignalConfig;

/** Samples per second the protocol allows (the HX711 RATE pin). */
export type Rate = 10 | 80;

/** Error codes of the pipeline, in the same `SHELF_ERR_*` style as the contract's ErrorCodes. */
export const PipelineErrorCodes = {
  /** A technician operation needs a settled reading and the lane is not stable. */
  NOT_STABLE: 'SHELF_ERR_NOT_STABLE',
  /** A technician operation was asked of a lane whose cells are faulty. */
  LANE_FAULT: 'SHELF_ERR_LANE_FAULT',
  /** No lane (or channel) by that id on this shelf. */
  UNKNOWN_LANE: 'SHELF_ERR_UNKNOWN_LANE',
  /** A calibration input makes no sense (no load response, non-positive mass or net weight). */
  CALIBRATION: 'SHELF_ERR_CALIBRATION',
} as const;
export type PipelineErrorCode = (typeof PipelineErrorCodes)[keyof typeof PipelineErrorCodes];

/** A ShelfError whose code is one of PipelineErrorCodes, so generic handlers still see code and issues. */
export class PipelineError extends ShelfError<PipelineErrorCode> {
  constructor(code: PipelineErrorCode, message: string, issues: readonly Issue[] = []) {
    super(code, message, issues);
    this.name = 'PipelineError';
  }
}

export function isPipelineError(err: unknown, code?: PipelineErrorCode): err is PipelineError {
  return err instanceof PipelineError && isShelfError(err, code);
}

export interface Windows {
  median: number;
  average: number;
}

/**
 * The filter windows (samples) to use at `rate`. At 80 SPS, as configured. At 10 SPS, the same time
 * span, but never under 3 samples for either window (unless configured smaller): a median of 3 still
 * removes a lone spike, and an average of 3 keeps the noise low enough that a resting lane does not
 * flicker out of its stability band (measured: ~25 flickers an hour on four lanes with 3, ~300 with 1).
 */
export function windowsFor(cfg: SignalSettings, rate: Rate): Windows {
  if (rate === 80) return { median: cfg.medianWindow, average: cfg.averageWindow };
  const f = rate / 80;
  const median = Math.max(Math.min(cfg.medianWindow, 3), Math.round(cfg.medianWindow * f));
  const average = Math.max(Math.min(cfg.averageWindow, 3), Math.round(cfg.averageWindow * f));
  return { median, average };
}

/** Nominal sample period of a rate, ms. */
export function periodOf(rate: Rate): number {
  return 1000 / rate;
}

/**
 * Longest hole in the device clock the filters bridge. A longer one (lost lines, a paused shelf)
 * restarts filtering and stability, so a stable reading never spans a stretch nobody saw.
 */
export function maxGapMs(cfg: SignalSettings, rate: Rate): number {
  return Math.max(cfg.stableMs / 2, 4 * periodOf(rate));
}
