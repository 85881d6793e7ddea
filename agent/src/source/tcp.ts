/**
 * A shelf behind a TCP serial bridge (ser2net, ESP-link): `tcp://host:port`, reconnected with
 * backoff when the bridge drops. TCP keepalive notices a bridge that vanished without a FIN.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { LineSplitter } from './lines.js';
import type { ReadPacer } from './pacer.js';
import { Backoff, type BackoffOptions, FailureLog, type ShelfSource, type SourceEvents } from './source.js';

/** One read buffer per source, reused for every read (see LineSplitter). */
const READ_BUFFER_BYTES = 16 * 1024;

export class TcpSource extends EventEmitter<SourceEvents> implements ShelfSource {
  private socket: Socket | null = null;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private open = false;
  private readonly backoff: Backoff;
  private readonly failures: FailureLog;
  /** Why the last connection failed or ended, for the log. */
  private lastError: string | null = null;
  private readonly host: string;
  private readonly port: number;
  reconnects = 0;

  constructor(
    readonly url: string,
    backoff: BackoffOptions,
    private readonly log: Logger,
    private readonly pacer: ReadPacer | null = null,
  ) {
    super();
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.backoff = new Backoff(backoff);
    this.failures = new FailureLog(log);
  }

  get describe(): string {
    return this.url;
  }

  get isOpen(): boolean {
    return this.open;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const lines = new LineSplitter((line) => this.emit('line', line));
    const buffer = this.readBuffer;
    const pacer = this.pacer?.enabled ? this.pacer : null;
    const resume = () => {
      if (this.socket === socket && !socket.destroyed) socket.resume();
    };
    const socket = connect({
      host: this.host,
      port: this.port,
      onread: {
        buffer,
        callback: (n) => {
          lines.push(buffer, 0, n);
          // A full buffer means more is waiting (a backlog): read on at once. Otherwise pause until
          // the pacer's next tick; what arrives meanwhile comes in one read.
          if (!pacer || n === buffer.length) return true;
          pacer.later(resume);
          return false;
        },
      },
    });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    socket.on('end', () => lines.flush());
    socket.on('connect', () => {
      this.open = true;
      this.backoff.reset();
      this.failures.opened();
      this.lastError = null;
      this.log.info({ url: this.url }, 'tcp source connected');
      this.emit('open');
    });
    socket.on('error', (err) => {
      this.lastError = err.message;
    });
    socket.on('close', () => {
      pacer?.cancel(resume);
      if (this.socket !== socket) return;
      const wasOpen = this.open;
      this.open = false;
      this.socket = null;
      if (wasOpen) this.emit('close', 'connection closed');
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const delay = this.backoff.next();
    this.failures.failed(this.url, this.lastError ?? 'connection closed', delay);
    this.lastError = null;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      this.connect();
    }, delay);
  }

  write(line: string): boolean {
    if (!this.open || !this.socket) return false;
    this.socket.write(line);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    this.open = false;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
  }
}
