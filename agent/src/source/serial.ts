/**
 * A shelf on a serial device (USB-serial adapter or a pseudo-terminal), reopened with backoff
 * whenever the device vanishes. With `discover`, the device path is looked up by USB vendor and
 * product id or a path glob on every attempt, because USB ports renumber on reboot and replug.
 */
import { EventEmitter } from 'node:events';
import type { TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import type { Logger } from '../log.js';
import { Backoff, type BackoffOptions, type ShelfSource, type SourceEvents } from './source.js';

export interface SerialTarget {
  path?: string;
  discover?: { vendorId?: string; productId?: string; glob?: string };
  baudRate: number;
  /** Paths already served by another source, skipped by discovery. */
  exclude?: () => Set<string>;
  /**
   * Reopen the port when it has been silent this long. A pseudo-terminal whose other end died
   * reads nothing forever without a 'close' event, and a USB adapter can wedge the same way; a
   * shelf sends at least 10 lines a second, so silence means the link is dead.
   */
  silenceReopenMs?: number;
}

/**
 * ReadlineParser that never buffers without bound: line noise with no newline for a long time is
 * cut at `maxLength` and handed on, where the frame check rejects it.
 */
export class BoundedReadlineParser extends ReadlineParser {
  constructor(private readonly maxLength = 512) {
    super({ delimiter: '\n', encoding: 'latin1' });
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    super._transform(chunk, encoding, (err) => {
      if (!err && this.buffer.length > this.maxLength) {
        this.push(this.buffer);
        this.buffer = Buffer.alloc(0);
      }
      cb(err);
    });
  }
}

function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

export async function discoverPath(d: NonNullable<SerialTarget['discover']>, exclude = new Set<string>()) {
  const ports = await SerialPort.list();
  const re = d.glob ? globToRegExp(d.glob) : null;
  const hit = ports.find(
    (p) =>
      !exclude.has(p.path) &&
      (!d.vendorId || p.vendorId?.toLowerCase() === d.vendorId.toLowerCase()) &&
      (!d.productId || p.productId?.toLowerCase() === d.productId.toLowerCase()) &&
      (!re || re.test(p.path)),
  );
  return hit?.path;
}

export class SerialSource extends EventEmitter<SourceEvents> implements ShelfSource {
  private port: SerialPort | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly backoff: Backoff;
  reconnects = 0;
  currentPath: string | undefined;
  private lastData = 0;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: SerialTarget,
    backoff: BackoffOptions,
    private readonly log: Logger,
  ) {
    super();
    this.backoff = new Backoff(backoff);
  }

  get describe(): string {
    return this.target.path ?? this.currentPath ?? `discover:${JSON.stringify(this.target.discover)}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  start(): void {
    this.stopped = false;
    void this.open();
    const silence = this.target.silenceReopenMs ?? 5_000;
    this.watchdog = setInterval(() => this.checkSilence(silence), Math.max(100, Math.floor(silence / 4)));
    this.watchdog.unref();
  }

  private checkSilence(silenceMs: number): void {
    const port = this.port;
    if (!port?.isOpen || Date.now() - this.lastData < silenceMs) return;
    this.log.warn({ path: this.currentPath, silenceMs }, 'serial port silent; reopening');
    this.port = null;
    port.close(() => undefined);
    this.closed('silent');
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let path = this.target.path;
    if (!path && this.target.discover) {
      try {
        path = await discoverPath(this.target.discover, this.target.exclude?.());
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'serial port discovery failed');
      }
    }
    if (!path) return this.retry('no matching serial port');
    this.currentPath = path;
    const port = new SerialPort({ path, baudRate: this.target.baudRate, autoOpen: false });
    this.port = port;
    const parser = port.pipe(new BoundedReadlineParser());
    port.on('data', () => {
      this.lastData = Date.now();
    });
    parser.on('data', (line: string) => this.emit('line', line));
    port.on('close', () => {
      if (this.port === port) this.closed('port closed');
    });
    port.on('error', (err) => this.log.debug({ err: err.message, path }, 'serial port error'));
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.port = null;
        return this.retry(err.message);
      }
      this.backoff.reset();
      this.lastData = Date.now();
      this.log.info({ path }, 'serial port open');
      this.emit('open');
    });
  }

  private closed(reason: string): void {
    this.port = null;
    this.emit('close', reason);
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.stopped || this.timer) return;
    const delay = this.backoff.next();
    this.log.info({ source: this.describe, reason, delayMs: delay }, 'serial source will reconnect');
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      void this.open();
    }, delay);
  }

  write(line: string): boolean {
    if (!this.port?.isOpen) return false;
    this.port.write(line);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
