/**
 * Stage 1 — junk and spike rejection, per channel.
 *
 * The HX711 reports an out-of-range or unplugged cell as its rail codes 8388607 (0x7FFFFF) and
 * -8388608 (0x800000), and a bus glitch reads -1 (0xFFFFFF, all ones): exactly those values are
 * junk and never reach the filters. A stretch of nothing but junk lasting `faultMs` is a fault:
 * `saturated` if every code was a rail code (cell unplugged or overloaded), `disconnected`
 * otherwise; it clears after `faultMs` of valid readings.
 *
 * A single valid sample that lies further than the spike threshold from both neighbours, while the
 * neighbours agree, is an outlier and is dropped. Deciding that needs the next sample, so this stage
 * releases each sample one sample late (`out`, `outT`).
 */

export const RAIL_HIGH = 8_388_607;
export const RAIL_LOW = -8_388_608;
export const GLITCH = -1;

/** Fault verdicts of this stage. */
export const CellFault = { NONE: 0, SATURATED: 1, DISCONNECTED: 2 } as const;
export type CellFault = (typeof CellFault)[keyof typeof CellFault];

/** Fewest samples in a junk (or valid) stretch before the fault flips, whatever the rate. */
const MIN_RUN = 3;

export class Rejector {
  /** Rail codes seen (8388607 / -8388608). */
  rail = 0;
  /** Glitch codes seen (-1). */
  glitch = 0;
  /** Single-sample outliers dropped. */
  spikes = 0;
  fault: CellFault = CellFault.NONE;
  /** The released sample, valid when push() returned true. */
  out = 0;
  outT = 0.5;
  /** Frame seq of the released sample. */
  outSeq = 0.5;
  /** Device time of the last valid (non-junk) sample, or -Infinity. */
  lastValidT = Number.NEGATIVE_INFINITY;

  private faultMs: number;
  private spikeCounts: number;
  private junkSince = Number.NaN;
  private junkRun = 0;
  private junkAllRail = true;
  private validSince = Number.NaN;
  private validRun = 0;
  private hasPrev = false;
  private prev = 0;
  private hasPending = false;
  private pending = 0;
  private pendingT = 0.5;
  private pendingSeq = 0.5;
  /** Device time and frame seq of the sample being pushed (fields, not arguments: see ShelfPipeline.push). */
  private now = 0.5;
  private seqNow = 0.5;

  constructor(faultMs: number, spikeCounts: number) {
    this.faultMs = faultMs;
    this.spikeCounts = spikeCounts;
  }

  /** Spike threshold in raw counts (spikeG × counts per gram). */
  setSpikeCounts(counts: number): void {
    this.spikeCounts = Math.abs(counts);
  }

  /** Forgets the neighbours (after a gap or a restart); fault state and counters stay. */
  resetSignal(): void {
    this.hasPrev = false;
    this.hasPending = false;
  }

  /**
   * Takes one raw reading at device time `t`. Returns true when a sample is released in
   * `out`/`outT` (the previous valid one, if it was not a spike). Junk is never released, nor is
   * anything while the channel is faulty. `seq` is the frame's sequence number, handed on in
   * `outSeq`.
   */
  push(raw: number, t: number, seq = 0): boolean {
    this.now = t;
    this.seqNow = seq;
    return this.step(raw);
  }

  private step(raw: number): boolean {
    const t = this.now;
    if (raw === RAIL_HIGH || raw === RAIL_LOW || raw === GLITCH) {
      if (raw === GLITCH) {
        this.glitch++;
        this.junkAllRail = false;
      } else this.rail++;
      if (this.junkRun === 0) this.junkSince = t;
      this.junkRun++;
      this.validRun = 0;
      if (this.junkRun >= MIN_RUN && t - this.junkSince >= this.faultMs) {
        const fault = this.junkAllRail ? CellFault.SATURATED : CellFault.DISCONNECTED;
        if (this.fault !== fault) {
          this.fault = fault;
          this.resetSignal();
        }
      }
      return false;
    }
    this.junkRun = 0;
    this.junkAllRail = true;
    this.lastValidT = t;
    if (this.fault !== CellFault.NONE) {
      if (this.validRun === 0) this.validSince = t;
      this.validRun++;
      if (this.validRun < MIN_RUN || t - this.validSince < this.faultMs) return false;
      this.fault = CellFault.NONE;
      this.resetSignal();
    }
    return this.spikeCheck(raw);
  }

  private spikeCheck(x: number): boolean {
    const t = this.now;
    if (!this.hasPending) {
      this.pending = x;
      this.pendingT = t;
      this.pendingSeq = this.seqNow;
      this.hasPending = true;
      return false;
    }
    const p = this.pending;
    const pt = this.pendingT;
    const ps = this.pendingSeq;
    this.pending = x;
    this.pendingT = t;
    this.pendingSeq = this.seqNow;
    const th = this.spikeCounts;
    if (
      this.hasPrev &&
      Math.abs(p - this.prev) > th &&
      Math.abs(p - x) > th &&
      Math.abs(x - this.prev) <= th
    ) {
      this.spikes++;
      return false;
    }
    this.prev = p;
    this.hasPrev = true;
    this.out = p;
    this.outT = pt;
    this.outSeq = ps;
    return true;
  }
}
