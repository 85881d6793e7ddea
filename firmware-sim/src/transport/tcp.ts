/**
 * The serial line exposed over TCP, as a ser2net or ESP-link bridge does: one client at a time. A new
 * client replaces the old one (like ser2net's `kickolduser`), so an agent whose old connection
 * died half-open can always get back in; every new client first receives the shelf's ID line.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SimError, SimErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { Transport, type TransportInfo } from './transport.js';

export interface TcpTransportOptions {
  host?: string;
  /** 0 picks a free port; after start() info.port holds the bound one (kept across vanish faults). */
  port?: number;
  log: Logger;
}

export class TcpTransport extends Transport {
  info: TransportInfo;
  private server: Server | null = null;
  private client: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private away = false;
  private readonly log: Logger;

  constructor(private readonly opts: TcpTransportOptions) {
    super();
    this.info = { kind: 'tcp', host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 };
    this.log = opts.log.child({ transport: 'tcp' });
  }

  get port(): number {
    return this.info.kind === 'tcp' ? this.info.port : 0;
  }

  get ready(): boolean {
    // Not once the run's end has closed our side (flush): a reply to a late command would be a
    // write after end, which resets the connection.
    return (
      !this.stopped &&
      !this.away &&
      this.client !== null &&
      !this.client.destroyed &&
      !this.client.writableEnded
    );
  }

  get blocked(): boolean {
    return this.client?.writableNeedDrain ?? false;
  }

  async start(): Promise<void> {
    try {
      await this.listen();
    } catch (err) {
      throw new SimError(
        SimErrorCodes.TRANSPORT,
        `cannot listen on tcp ${this.info.kind === 'tcp' ? `${this.info.host}:${this.port}` : ''}: ${(err as Error).message}`,
      );
    }
  }

  private listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    const server = createServer((sock) => this.accept(sock));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn({ err: err.message }, 'tcp server error'));
        this.server = server;
        const addr = server.address();
        if (addr && typeof addr === 'object') this.info = { kind: 'tcp', host, port: addr.port };
        this.log.debug({ port: this.port }, 'listening');
        resolve();
      });
    });
  }

  private accept(sock: Socket): void {
    if (this.stopped || this.away) {
      sock.destroy();
      return;
    }
    if (this.client) {
      this.log.info({ old: this.client.remoteAddress }, 'new client replaces the old one');
      this.client.destroy();
    }
    this.client = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.received(chunk));
    sock.on('drain', () => this.emit('drain'));
    sock.on('error', (err) => this.log.debug({ err: err.message }, 'client error'));
    sock.on('close', () => {
      if (this.client !== sock) return;
      this.client = null;
      this.emit('gone');
    });
    this.emit('ready');
  }

  write(text: string): void {
    if (this.ready) this.client?.write(Buffer.from(text, 'latin1'));
  }

  vanish(ms: number): void {
    if (this.stopped || this.away) return;
    this.away = true;
    this.client?.destroy();
    this.client = null;
    this.emit('gone');
    const server = this.server;
    this.server = null;
    server?.close();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.relisten();
    }, ms);
  }

  private relisten(): void {
    if (this.stopped) return;
    this.listen().then(
      () => {
        this.away = false;
      },
      (err: Error) => {
        this.log.warn({ err: err.message }, 'cannot listen again; retrying');
        this.timer = setTimeout(() => {
          this.timer = null;
          this.relisten();
        }, 100);
      },
    );
  }

  /**
   * Closes the connection gracefully once everything written has gone out: a FIN after the last
   * frame, then the reader's own close (bounded by `timeoutMs`). Destroying the socket straight
   * away would send a reset whenever a command from the reader was still unread, and a reset makes
   * the reader's kernel discard the frames it had not read yet.
   */
  async flush(timeoutMs = 5_000): Promise<void> {
    const sock = this.client;
    if (!sock || sock.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      sock.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.end();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.client?.destroy();
    this.client = null;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.emit('gone');
    this.removeAllListeners();
  }
}
