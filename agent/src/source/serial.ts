/**
 * A shelf on a serial device (USB-serial adapter or a pseudo-terminal), reopened with backoff
 * whenever the device vanishes. With `discover`, the device is looked up on every attempt (USB
 * ports renumber on reboot and replug) by USB vendor id, product id, serial number, or a glob on
 * its path and its /dev/serial/by-id and by-path links, from sysfs (port-list.ts): no udevadm.
 *
 * The port is driven through serialport's binding layer (`@serialport/bindings-cpp`, the one the
 * `SerialPort` stream is built on: open with termios settings and an exclusive lock, non-blocking
 * reads that wait on the descriptor, close) and read the way TCP sources are: into one buffer per
 * open port, split by the LineSplitter, paced by the ReadPacer. Through the stream and
 * `@serialport/parser-readline` every read took a fresh 64 KB pool slice and every chunk a
 * `Buffer.concat`, malloc churn that left 16 shelves ≈ 9 MB above the same shelves over TCP.
 */
import { EventEmitter } from 'node:events';
import type { BindingInterface } from '@serialport/bindings-cpp';
import type { Logger } from '../log.js';
import { LineSplitter } from './lines.js';
import type { ReadPacer } from './pacer.js';
import {
  findPort,
  listSerialPorts,
  mergePorts,
  type PortCriteria,
  type PortListDirs,
  type SerialPortInfo,
} from './port-list.js';
import { Backoff, type BackoffOptions, FailureLog, type ShelfSource, type SourceEvents } from './source.js';

type Binding = BindingInterface;
type Port = Awaited<ReturnType<Binding['open']>>;

/**
 * Bytes per read. A read that fills the buffer means a backlog and is read on at once, as for TCP;
 * otherwise the source pauses until the pacer's next tick. A tty hands over no more than it holds
 * (4 KB or more, by kernel and driver): paced at 100 ms that is ≥ 40 KB/s, 3.5 × what a 115200-baud
 * line carries (11.5 KB/s).
 */
const READ_BUFFER_BYTES = 16 * 1024;

/** A discovered source's criteria, and where its persistent links are (config `discover`). */
export type DiscoverTarget = PortCriteria & Pick<PortListDirs, 'byIdDir' | 'byPathDir'>;

export interface SerialTarget {
  path?: string;
  discover?: DiscoverTarget;
  /** Where sysfs and /dev are, for tests with a made-up tree (defaults: `/sys`, `/dev`). */
  system?: Pick<PortListDirs, 'sysfsDir' | 'devDir'>;
  baudRate: number;
  /** Paths already served by another source, skipped by discovery. */
  exclude?: () => Set<string>;
  /**
   * Reopen the port when it has been silent this long. A pseudo-terminal whose other end died
   * reads nothing forever without an error, and a USB adapter can wedge the same way; a shelf
   * sends at least 10 lines a second, so silence means the link is dead.
   */
  silenceReopenMs?: number;
}

let platformBinding: Promise<Binding> | undefined;
/**
 * The binding for this platform. On Linux (a Pi) its module alone: the package's index loads the
 * macOS and Windows bindings too, and through the port lister node:child_process and a readline
 * parser (the agent bundle defers the lister until discovery runs, see scripts/bundle.mjs).
 */
function binding(): Promise<Binding> {
  platformBinding ??=
    process.platform === 'linux'
      ? // A CommonJS module: its exports are the default export (also once bundled).
        import('@serialport/bindings-cpp/dist/linux.js').then((m) => m.default.LinuxBinding)
      : import('@serialport/bindings-cpp').then((m) => m.default.autoDetect());
  return platformBinding;
}

/**
 * The port `d` asks for that no other source holds. Ports come from sysfs and the by-id / by-path
 * links; only where sysfs lists no tty (macOS, Windows, a sandbox without /sys) is serialport's own
 * lister asked as well, and its failure (on Linux: no `udevadm`) leaves the links alone.
 */
export async function discoverPort(
  d: DiscoverTarget,
  exclude: ReadonlySet<string> = new Set(),
  system: SerialTarget['system'] = {},
  log?: Logger,
): Promise<SerialPortInfo | undefined> {
  const listed = listSerialPorts({ ...system, byIdDir: d.byIdDir, byPathDir: d.byPathDir });
  let ports = listed.ports;
  if (!listed.sysfs) {
    try {
      const found = await (await binding()).list();
      ports = mergePorts(
        ports,
        found.map((p) => ({
          path: p.path,
          links: [],
          vendorId: p.vendorId?.toLowerCase(),
          productId: p.productId?.toLowerCase(),
          serialNumber: p.serialNumber,
          manufacturer: p.manufacturer,
        })),
      );
    } catch (err) {
      log?.debug(
        { err: (err as Error).message },
        "no sysfs, and serialport's port lister failed: links alone",
      );
    }
  }
  log?.debug({ ports: ports.length, sysfs: listed.sysfs }, 'serial ports listed');
  return findPort(ports, d, exclude);
}

export class SerialSource extends EventEmitter<SourceEvents> implements ShelfSource {
  private port: Port | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly backoff: Backoff;
  private readonly failures: FailureLog;
  reconnects = 0;
  currentPath: string | undefined;
  private lastData = 0;
  private watchdog: NodeJS.Timeout | null = null;
  /** Resumes a read loop paused by the pacer (set while it waits). */
  private paused: (() => void) | null = null;
  /** Writes go out one after another: the binding takes one write at a time. */
  private writing: Promise<void> = Promise.resolve();
  /** The read loop of the open port, awaited by stop(). */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: SerialTarget,
    backoff: BackoffOptions,
    private readonly log: Logger,
    private readonly pacer: ReadPacer | null = null,
  ) {
    super();
    this.backoff = new Backoff(backoff);
    this.failures = new FailureLog(log);
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
    if (!this.port || Date.now() - this.lastData < silenceMs) return;
    this.log.warn({ path: this.currentPath, silenceMs }, 'serial port silent; reopening');
    this.closed('silent');
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let path = this.target.path;
    if (!path && this.target.discover) {
      try {
        const port = await discoverPort(
          this.target.discover,
          this.target.exclude?.(),
          this.target.system,
          this.log,
        );
        path = port?.path;
        if (port) this.log.info({ ...port }, 'serial port discovered');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'serial port discovery failed');
      }
    }
    if (!path) return this.retry('no matching serial port');
    this.currentPath = path;
    let api: Binding;
    try {
      api = await binding();
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        "serialport's binding cannot be loaded: reinstall the agent (npm ci) on this machine",
      );
      return this.retry('serial binding unavailable');
    }
    let port: Port;
    try {
      port = await api.open({ path, baudRate: this.target.baudRate });
    } catch (err) {
      return this.retry((err as Error).message);
    }
    if (this.stopped) {
      await port.close().catch(() => undefined);
      return;
    }
    this.port = port;
    this.backoff.reset();
    this.failures.opened();
    this.lastData = Date.now();
    this.log.info({ path }, 'serial port open');
    this.emit('open');
    this.reading = this.readLoop(port, path);
  }

  private async readLoop(port: Port, path: string): Promise<void> {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const lines = new LineSplitter((line) => this.emit('line', line));
    const pacer = this.pacer?.enabled ? this.pacer : null;
    try {
      while (this.port === port) {
        const { bytesRead } = await port.read(buffer, 0, buffer.length);
        if (this.port !== port) return;
        this.lastData = Date.now();
        lines.push(buffer, 0, bytesRead);
        // Pause until the pacer's next tick: what the shelf sends meanwhile waits in the tty's
        // buffer and comes in one read.
        if (pacer && bytesRead < buffer.length) {
          await new Promise<void>((resume) => {
            this.paused = resume;
            pacer.later(resume);
          });
          this.paused = null;
        }
      }
    } catch (err) {
      if (this.port !== port) return;
      this.log.debug({ err: (err as Error).message, path }, 'serial port read failed');
      lines.flush();
      this.closed((err as { disconnect?: boolean }).disconnect ? 'device disconnected' : 'port closed');
    }
  }

  /** Forgets the open port (closing it in the background) and schedules a reopen. */
  private closed(reason: string): void {
    this.release();
    this.emit('close', reason);
    this.retry(reason);
  }

  /** Closes the open port, if any, and wakes its read loop so that it ends. */
  private release(): Promise<void> {
    const port = this.port;
    this.port = null;
    const resume = this.paused;
    this.paused = null;
    if (resume) {
      this.pacer?.cancel(resume);
      resume();
    }
    if (!port?.isOpen) return Promise.resolve();
    return port
      .close()
      .catch((err: Error) => this.log.debug({ err: err.message }, 'serial port close failed'));
  }

  private retry(reason: string): void {
    if (this.stopped || this.timer) return;
    const delay = this.backoff.next();
    this.failures.failed(this.describe, reason, delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      void this.open();
    }, delay);
  }

  write(line: string): boolean {
    const port = this.port;
    if (!port?.isOpen) return false;
    const bytes = Buffer.from(line, 'latin1');
    this.writing = this.writing
      .then(() => port.write(bytes))
      .catch((err: Error) => this.log.debug({ err: err.message }, 'serial port write failed'));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Closing cancels a read or a write waiting on the descriptor, so neither can hold stop up.
    await this.release();
    await Promise.all([this.reading, this.writing]);
  }
}
