/**
 * A serial device (a real UART or one end of a pseudo-terminal pair) opened with `serialport`.
 * If the device goes away the transport keeps trying to reopen it, as firmware on a USB bridge
 * comes back when it is plugged in again.
 */
import { SerialPort } from 'serialport';
import { SimError, SimErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { Transport, type TransportInfo } from './transport.js';

export interface SerialTransportOptions {
  path: string;
  baudRate?: number;
  /** How often to retry opening a device that is missing, ms. */
  reopenMs?: number;
  log: Logger;
}

export class SerialTransport extends Transport {
  readonly info: TransportInfo;
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private away = false;
  private readonly log: Logger;

  constructor(private readonly opts: SerialTransportOptions) {
    super();
    this.info = { kind: 'serial', path: opts.path };
    this.log = opts.log.child({ transport: 'serial', path: opts.path });
  }

  get ready(): boolean {
    return !this.stopped && !this.away && (this.port?.isOpen ?? false);
  }

  get blocked(): boolean {
    return this.port?.writableNeedDrain ?? false;
  }

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      throw new SimError(
        SimErrorCodes.TRANSPORT,
        `cannot open serial device ${this.opts.path}: ${(err as Error).message}`,
      );
    }
  }

  /** Opens the device; emits `ready` once open. */
  protected open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: this.opts.path,
        baudRate: this.opts.baudRate ?? 115_200,
        autoOpen: false,
      });
      port.on('data', (chunk: Buffer) => this.received(chunk));
      port.on('drain', () => this.emit('drain'));
      port.on('error', (err) => this.log.warn({ err: err.message }, 'serial error'));
      port.on('close', () => {
        if (this.port !== port) return;
        this.port = null;
        this.emit('gone');
        if (!this.stopped && !this.away) {
          this.log.warn('serial device closed; reopening');
          this.scheduleReopen();
        }
      });
      port.open((err) => {
        if (err) {
          reject(err);
          return;
        }
        if (this.stopped) {
          port.close(() => undefined);
          resolve();
          return;
        }
        this.port = port;
        this.log.debug('serial device open');
        this.emit('ready');
        resolve();
      });
    });
  }

  protected scheduleReopen(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped || this.away || this.port) return;
      this.open().catch((err: Error) => {
        this.log.debug({ err: err.message }, 'reopen failed');
        this.scheduleReopen();
      });
    }, this.opts.reopenMs ?? 200);
  }

  write(text: string): void {
    if (this.ready) this.port?.write(Buffer.from(text, 'latin1'));
  }

  vanish(ms: number): void {
    if (this.stopped || this.away) return;
    this.away = true;
    this.emit('gone');
    const port = this.port;
    this.port = null;
    const back = () => {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.away = false;
        this.returnAfterVanish();
      }, ms);
    };
    if (port?.isOpen) port.close(() => this.goneAfterClose(back));
    else this.goneAfterClose(back);
  }

  /** Called with the port closed at the start of a vanish; `back` starts the return timer. */
  protected goneAfterClose(back: () => void): void {
    back();
  }

  /** Called when a vanish is over. */
  protected returnAfterVanish(): void {
    this.open().catch(() => this.scheduleReopen());
  }

  async flush(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.drain(() => resolve()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.emit('gone');
    this.removeAllListeners();
  }
}
