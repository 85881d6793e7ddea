/**
 * A pseudo-terminal pair of its own: the simulator opens one end (`simPath`) and the host opens the
 * other (`path`) as if it were a USB serial adapter. A vanish fault stops socat — the host's device
 * disappears, as when a USB cable is pulled — and restarts it on the same path.
 */
import type { Logger } from '../log.js';
import { SerialTransport } from './serial.js';
import { SocatPair } from './socat.js';
import type { TransportInfo } from './transport.js';

export interface PtyTransportOptions {
  /** The host's end (a symlink to the pty device). */
  path: string;
  /** The simulator's end. */
  simPath: string;
  log: Logger;
}

export class PtyTransport extends SerialTransport {
  override readonly info: TransportInfo;
  readonly socat: SocatPair;
  private retry: NodeJS.Timeout | null = null;
  private starting: Promise<void> | null = null;

  constructor(opts: PtyTransportOptions) {
    super({ path: opts.simPath, log: opts.log });
    this.info = { kind: 'pty', path: opts.path, simPath: opts.simPath };
    this.socat = new SocatPair(opts.simPath, opts.path);
  }

  override async start(): Promise<void> {
    await this.socat.start();
    try {
      await super.start();
    } catch (err) {
      await this.socat.stop();
      throw err;
    }
  }

  protected override goneAfterClose(back: () => void): void {
    this.socat.stop().then(back, back);
  }

  /** Brings socat back on the same links, then reopens our end; retries until it works or stop(). */
  protected override returnAfterVanish(): void {
    if (this.stopped || this.starting) return;
    this.starting = this.socat
      .start()
      .then(async () => {
        if (this.stopped) await this.socat.stop();
        else await this.open();
      })
      .catch(() => this.scheduleReopen())
      .finally(() => {
        this.starting = null;
      });
  }

  /** If socat died underneath us (killed from outside), restart it rather than wait for the path. */
  protected override scheduleReopen(): void {
    if (this.socat.running) {
      super.scheduleReopen();
      return;
    }
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.returnAfterVanish();
    }, 200);
  }

  override async stop(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await super.stop();
    await this.starting;
    await this.socat.stop();
  }
}
