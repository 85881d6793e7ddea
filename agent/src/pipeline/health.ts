/**
 * Stage 7 — health, per channel: noise, drift and the cell faults folded into one protocol
 * `HealthStatus`; severity order no_data, disconnected, saturated, noisy, drifting, ok.
 *
 * Noise σ is estimated from second differences of the accepted raw samples,
 * x[n] − 2x[n−1] + x[n−2], whose spread is √6 σ for white noise while a ramp or slow drift cancels
 * out: the estimate holds "at rest" even while weight creeps. A step (a pick) makes two large
 * differences; each is clipped at three times the running mean absolute difference, so a pick
 * barely moves the estimate. The mean absolute difference is smoothed over ~5 s of device time.
 * For Gaussian noise E|d| = √6 σ √(2/π), hence σ = E|d| × √(π/12).
 */
import type { HealthStatus } from '@shelfsense/protocol';
import { CellFault } from './reject.js';

const SIGMA_PER_MEAN_ABS = Math.sqrt(Math.PI / 12);
const NOISE_TAU_MS = 5_000;
/** Differences averaged plainly before the clipped smoothing starts. */
const WARMUP = 8;

export class NoiseEstimator {
  private x1 = 0;
  private x2 = 0;
  /** Samples since the last restart (a difference needs three). */
  private hist = 0;
  /** Differences seen in all. */
  private seen = 0;
  private meanAbs = 0.5;
  private dtMs = 0.5;

  reset(): void {
    this.hist = 0;
    this.seen = 0;
    this.meanAbs = 0;
  }

  /** Forgets the last samples (after a gap) but keeps the estimate. */
  restart(): void {
    this.hist = 0;
  }

  /** Adds an accepted raw sample, `dtMs` after the previous one. */
  push(x: number, dtMs: number): void {
    this.dtMs = dtMs; // through a field, like the device time (see Channel.push)
    this.step(x);
  }

  private step(x: number): void {
    const dtMs = this.dtMs;
    if (this.hist >= 2) {
      let a = Math.abs(x - 2 * this.x1 + this.x2);
      const k = this.seen++;
      if (k < WARMUP) this.meanAbs += (a - this.meanAbs) / (k + 1);
      else {
        const clip = 3 * this.meanAbs;
        if (a > clip && clip > 0) a = clip;
        this.meanAbs += (a - this.meanAbs) * Math.min(1, dtMs / NOISE_TAU_MS);
      }
    } else this.hist++;
    this.x2 = this.x1;
    this.x1 = x;
  }

  /** Whether enough samples were seen for a meaningful estimate. */
  get ready(): boolean {
    return this.seen >= WARMUP;
  }

  /** Raw noise σ, counts. */
  get sigma(): number {
    return this.meanAbs * SIGMA_PER_MEAN_ABS;
  }
}

/** Severity order used to pick a shelf's worst channel status. */
export const HEALTH_RANK: Record<HealthStatus, number> = {
  ok: 0,
  drifting: 1,
  noisy: 2,
  saturated: 3,
  disconnected: 4,
  no_data: 5,
};

/**
 * The channel's status. A silent shelf (`silent`: nothing for noDataMs of wall-clock time) tells
 * nothing about its cells, so silence comes first; a known cell fault explains missing samples
 * better than `no_data` (no valid sample for noDataMs of device time) does. Positional arguments:
 * this runs for every channel of every frame.
 */
export function healthStatus(
  silent: boolean,
  fault: CellFault,
  noData: boolean,
  noiseG: number,
  noisyG: number,
  drifting: boolean,
): HealthStatus {
  if (silent) return 'no_data';
  if (fault === CellFault.DISCONNECTED) return 'disconnected';
  if (fault === CellFault.SATURATED) return 'saturated';
  if (noData) return 'no_data';
  if (noiseG > noisyG) return 'noisy';
  if (drifting) return 'drifting';
  return 'ok';
}

/** The worst of several statuses (`ok` for none). */
export function worstHealth(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'ok';
  for (const s of statuses) if (HEALTH_RANK[s] > HEALTH_RANK[worst]) worst = s;
  return worst;
}
