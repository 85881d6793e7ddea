/**
 * The device clock: turns each frame's uint32 `deviceMs` and `seq` into one monotonic time line.
 *
 * Both counters wrap (deviceMs after ~49.7 days, seq after 2^32 frames), so every difference is
 * taken modulo 2^32. A difference of more than half the range means the counter went backwards:
 * the shelf rebooted. A `seq` jump counts the frames lost on the line; a repeated `seq` is a
 * duplicate and is ignored. The pipeline never reads the wall clock.
 */
import type { Rate } from './settings.js';

const TWO_32 = 4_294_967_296;
const HALF = 2_147_483_648;

/** What the clock made of a frame. */
export const Tick = {
  /** The next frame, perhaps after a few lost ones. */
  NEXT: 0,
  /** After a hole in the device clock longer than the filters bridge: restart filtering. */
  GAP: 1,
  /** The shelf restarted (deviceMs or seq went backwards): restart filtering, recount. */
  RESTART: 2,
  /** Same seq as the last frame: ignore. */
  DUPLICATE: 3,
  /** The first frame this clock has seen. */
  FIRST: 4,
} as const;
export type Tick = (typeof Tick)[keyof typeof Tick];

export class DeviceClock {
  /**
   * Unwrapped device time of the last accepted frame, ms (starts at the first frame's deviceMs).
   * Declared with a fractional value so V8 stores it as an unboxed double from the start.
   */
  t = 0.5;
  /** Time since the previous accepted frame, ms (0 for the first frame and after a restart). */
  dt = 0.5;
  /** Frames lost on the line, from sequence gaps. */
  dropped = 0;
  duplicates = 0;
  restarts = 0;
  /** Smoothed frame period, ms. */
  periodMs = 12.5;
  /** The rate the frame period suggests. */
  rate: Rate;
  private lastMs = -1;
  private lastSeq = -1;
  private maxGap: number;

  constructor(rate: Rate, maxGapMs: number) {
    this.rate = rate;
    this.periodMs = 1000 / rate;
    this.maxGap = maxGapMs;
  }

  setMaxGap(ms: number): void {
    this.maxGap = ms;
  }

  /** Forgets the last frame, so the next one starts a new time line (e.g. another shelf on the port). */
  reset(): void {
    this.lastMs = -1;
    this.lastSeq = -1;
  }

  /** Advances the clock to a frame; see Tick for the verdicts. */
  advance(seq: number, deviceMs: number): Tick {
    if (this.lastSeq < 0) {
      this.lastSeq = seq;
      this.lastMs = deviceMs;
      this.t = deviceMs;
      this.dt = 0;
      return Tick.FIRST;
    }
    // Differences modulo 2^32, written so that the common case stays in small integers.
    let dSeq = seq - this.lastSeq;
    if (dSeq < 0) dSeq += TWO_32;
    let dMs = deviceMs - this.lastMs;
    if (dMs < 0) dMs += TWO_32;
    if (dSeq === 0) {
      this.duplicates++;
      return Tick.DUPLICATE;
    }
    this.lastSeq = seq;
    this.lastMs = deviceMs;
    if (dSeq >= HALF || dMs >= HALF) {
      // A counter went backwards: the shelf rebooted. Keep our own time line monotonic.
      this.restarts++;
      this.t += this.periodMs;
      this.dt = 0;
      return Tick.RESTART;
    }
    this.dropped += dSeq - 1;
    this.t += dMs;
    this.dt = dMs;
    if (dMs > this.maxGap) return Tick.GAP;
    // Follow the frame period so the pipeline notices a rate change (10 ↔ 80 SPS) by itself.
    this.periodMs += (dMs / dSeq - this.periodMs) / 16;
    if (this.rate === 80 && this.periodMs > 50) this.rate = 10;
    else if (this.rate === 10 && this.periodMs < 30) this.rate = 80;
    return Tick.NEXT;
  }

  /** Sets the rate outright (the shelf said so in its ID or OK,RATE reply). */
  setRate(rate: Rate): void {
    this.rate = rate;
    this.periodMs = 1000 / rate;
  }
}
