/**
 * Drives one shelf's engine through its transport, in one of two clocks:
 *
 * - real time (RealtimePacer): frames leave at the sample rate, as from real hardware; if the host
 *   does not keep up, frames are lost like bytes on a UART nobody reads (counted as overruns);
 * - virtual time (pump): frames leave as fast as the host takes them, waiting for `drain`, while
 *   the device clock still advances exactly 1000/rate ms per frame — a day runs in seconds.
 *
 * It also answers host commands and announces the shelf (ID line) whenever a host may be newly
 * listening.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ShelfEngine } from './engine.js';
import type { Logger } from './log.js';
import type { Transport } from './transport/transport.js';

/** Bytes per write in virtual time: big enough to be cheap, small enough to keep control snappy. */
const BATCH_BYTES = 16_384;
const BATCH_FRAMES = 512;

/** What the simulator drives for each shelf: its own firmware engine or a simulated MCU. */
export interface Runner {
  readonly engine: ShelfEngine;
  readonly transport: Transport | null;
  /** Output the host was not ready to take (real time). */
  readonly overruns: number;
  readonly finished: Promise<void>;
  readonly done: boolean;
  /** Device time, µs, at which emitDue() next has something to do. */
  readonly nextDueUs: number;
  boot(): void;
  emitDue(untilUs: number): void;
  pump(): Promise<void>;
  vanish(ms: number): void;
  fail(err: unknown): void;
  stop(): Promise<void>;
}

export class ShelfRunner implements Runner {
  /** Frames generated in real time that the host was not ready to take. */
  overruns = 0;
  private stopped = false;
  private booted = false;
  private _done = false;
  private resolveFinished!: () => void;
  /** Resolves when the device clock reached the run's duration. */
  readonly finished = new Promise<void>((resolve) => {
    this.resolveFinished = resolve;
  });

  constructor(
    readonly engine: ShelfEngine,
    readonly transport: Transport | null,
    private readonly log: Logger,
    /** Stop producing frames at this device time, µs (Infinity: never). */
    private readonly durationUs = Number.POSITIVE_INFINITY,
  ) {
    if (!transport) return;
    // A host that (re)connects after boot hears the ID line first, as when opening a port resets
    // an Arduino-style board; before boot, boot() announces.
    transport.on('ready', () => {
      if (!this.booted) return;
      log.debug('host side ready; announcing');
      transport.write(engine.identityLine());
    });
    transport.on('line', (line) => {
      try {
        const reply = engine.handleCommand(line);
        if (reply) transport.write(reply);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'command failed');
      }
    });
  }

  /** The device powers up: it sends its ID line once, then the clock starts. */
  boot(): void {
    if (this.booted) return;
    this.booted = true;
    if (this.transport?.ready) this.transport.write(this.engine.identityLine());
  }

  get done(): boolean {
    return this._done;
  }

  get nextDueUs(): number {
    return this.engine.nextDeviceUs;
  }

  /** The engine's vanish hook: the transport goes away once the frames already made are written. */
  vanish(ms: number): void {
    setImmediate(() => {
      if (!this.stopped) this.transport?.vanish(ms);
    });
  }

  /** Stops this shelf after an unexpected error, logging why. */
  fail(err: unknown): void {
    this.log.error({ err: (err as Error)?.stack ?? String(err) }, 'shelf stopped: frame generation failed');
    this._done = true;
    this.resolveFinished();
  }

  private checkDone(): void {
    if (!this._done && this.engine.nextDeviceUs >= this.durationUs) {
      this._done = true;
      this.log.debug({ frames: this.engine.stats.frames }, 'duration reached');
      this.resolveFinished();
    }
  }

  /** Real time: generates every frame due up to device time `untilUs` and writes them at once. */
  emitDue(untilUs: number): void {
    let out = '';
    const engine = this.engine;
    while (!this._done && engine.nextDeviceUs <= untilUs) {
      out += engine.next();
      this.checkDone();
    }
    if (out === '' || !this.transport) return;
    if (this.transport.ready && !this.transport.blocked) this.transport.write(out);
    else this.overruns++;
  }

  /** Virtual time: runs until stop() or the duration is reached; a failure is logged, not thrown. */
  async pump(): Promise<void> {
    try {
      await this.pumpLoop();
    } catch (err) {
      this.fail(err);
    }
  }

  private async pumpLoop(): Promise<void> {
    const engine = this.engine;
    const transport = this.transport;
    this.boot();
    if (!transport) return;
    let carry = '';
    while (!this.stopped && !this._done) {
      if (engine.vanished) {
        // The frames of a vanish window never reach the host: run through them without waiting.
        for (let i = 0; i < 4 * BATCH_FRAMES && engine.vanished && !this._done; i++) {
          const text = engine.next();
          this.checkDone();
          if (!engine.vanished) carry = text;
        }
        await yieldToLoop();
        continue;
      }
      if (!transport.ready || transport.blocked) {
        await transport.whenWritable();
        continue;
      }
      let out = carry;
      carry = '';
      for (let i = 0; i < BATCH_FRAMES && out.length < BATCH_BYTES && !this._done; i++) {
        out += engine.next();
        this.checkDone();
        if (engine.vanished) break;
      }
      transport.write(out);
      await yieldToLoop();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.transport?.stop();
  }
}

/** One timer for every shelf in real time: device time = wall time since start(). */
export class RealtimePacer {
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;

  constructor(private readonly runners: readonly Runner[]) {}

  start(): void {
    for (const r of this.runners) r.boot();
    this.t0 = performance.now();
    this.tick();
  }

  private readonly tick = (): void => {
    this.timer = null;
    const elapsedUs = (performance.now() - this.t0) * 1000;
    let nextUs = Number.POSITIVE_INFINITY;
    for (const r of this.runners) {
      try {
        r.emitDue(elapsedUs);
      } catch (err) {
        // One shelf failing must not stop the others; it is skipped from now on.
        r.fail(err);
      }
      if (!r.done) nextUs = Math.min(nextUs, r.nextDueUs);
    }
    if (nextUs === Number.POSITIVE_INFINITY) return;
    const delayMs = Math.max(1, Math.ceil((nextUs - elapsedUs) / 1000));
    this.timer = setTimeout(this.tick, delayMs);
  };

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
