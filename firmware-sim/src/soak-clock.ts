/**
 * Virtual time with a ceiling, for soak runs: like `virtual`, every frame waits for the host to take
 * it (none is ever lost), but no shelf's device clock runs more than `maxSpeed` times faster than
 * the wall clock. Uncapped, a few shelves run a hundred times faster than real time, and what
 * happens on the wall clock around them — an agent's heartbeat, a webhook, a supplier's reply —
 * lands hours of simulated time late; capped, those delays stay a known number of device seconds.
 *
 * It serves the shelves of a simulator started with `transport: 'none'` over TCP, one port each.
 */
import { createLogger, type Logger } from './log.js';
import { ShelfRunner } from './runner.js';
import type { Simulator } from './simulator.js';
import { TcpTransport } from './transport/tcp.js';

/** Device time generated per shelf per turn: half a second (40 frames at 80 SPS). */
const SLICE_US = 500_000;

export interface CappedClockOptions {
  /** Device time may run at most this many times faster than the wall clock. */
  maxSpeed: number;
  /** Stop each shelf at this device time, ms (`finished` then resolves). */
  durationMs: number;
  host?: string;
  logger?: Logger;
}

export class CappedClock {
  private readonly runners: ShelfRunner[] = [];
  private readonly transports: TcpTransport[] = [];
  private t0 = 0;
  private timer: NodeJS.Timeout | null = null;
  /** A turn is queued (immediate or timer): never more than one loop. */
  private queued = false;
  private stopped = false;
  private pausedAt: number | null = null;
  private resolveFinished!: () => void;
  /** Resolves when every shelf reached the duration. */
  readonly finished = new Promise<void>((resolve) => {
    this.resolveFinished = resolve;
  });

  private constructor(private readonly opts: CappedClockOptions) {
    if (!(opts.maxSpeed > 0)) throw new RangeError('maxSpeed: more than 0');
  }

  /** Opens a TCP port per shelf of `sim` (whose shelves must have no transport of their own). */
  static async serve(sim: Simulator, opts: CappedClockOptions): Promise<CappedClock> {
    const clock = new CappedClock(opts);
    const log = opts.logger ?? createLogger('warn');
    try {
      for (const s of sim.shelves) {
        if (s.transport) throw new Error(`shelf ${s.serial} already has a transport`);
        const t = new TcpTransport({
          host: opts.host ?? '127.0.0.1',
          port: 0,
          log: log.child({ shelf: s.serial }),
        });
        clock.transports.push(t);
        await t.start();
        const info = t.info;
        if (info.kind === 'tcp') {
          s.tcpPort = info.port;
          s.host = info.host;
        }
        clock.runners.push(
          new ShelfRunner(s.engine, t, log.child({ shelf: s.serial }), opts.durationMs * 1000),
        );
      }
    } catch (err) {
      await clock.stop();
      throw err;
    }
    return clock;
  }

  /** Whether every shelf's host is connected. */
  get connected(): boolean {
    return this.transports.every((t) => t.ready);
  }

  /** Boots the shelves (ID line) and starts their clocks. */
  start(): void {
    for (const r of this.runners) r.boot();
    this.t0 = performance.now();
    this.queue(false);
  }

  private queue(later: boolean): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    const run = () => {
      this.queued = false;
      this.timer = null;
      this.turn();
    };
    if (later) this.timer = setTimeout(run, 2);
    else setImmediate(run);
  }

  /**
   * Holds every device clock (e.g. while the host processes are measured); the paused wall time
   * does not count towards the cap.
   */
  pause(): void {
    if (this.pausedAt === null) this.pausedAt = performance.now();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.t0 += performance.now() - this.pausedAt;
    this.pausedAt = null;
    this.queue(false);
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  private turn(): void {
    if (this.stopped || this.pausedAt !== null) return;
    const capUs = (performance.now() - this.t0) * 1000 * this.opts.maxSpeed;
    let busy = false;
    let left = 0;
    for (const r of this.runners) {
      if (r.done) continue;
      left++;
      const t = r.transport;
      if (!t?.ready || t.blocked) continue;
      const next = r.engine.nextDeviceUs;
      if (next > capUs) continue;
      try {
        r.emitDue(Math.min(capUs, next + SLICE_US));
        busy = true;
      } catch (err) {
        r.fail(err);
      }
    }
    if (left === 0) {
      this.resolveFinished();
      return;
    }
    this.queue(!busy);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all(this.runners.map((r) => r.stop()));
    await Promise.all(this.transports.map((t) => t.stop()));
  }
}
