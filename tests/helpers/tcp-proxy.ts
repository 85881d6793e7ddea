/**
 * A TCP proxy for network faults between a client (the agent) and a server (the broker):
 *
 *   const proxy = new TcpProxy('127.0.0.1', brokerPort); const port = await proxy.start();
 *   proxy.cut();      // every connection reset, new ones refused (RST) — a cable pulled
 *   proxy.stall();    // connections stay up but bytes vanish both ways, no RST — a dead Wi-Fi
 *                     // link or a NAT that forgot the flow: only keepalives and timeouts notice
 *   proxy.restore();  // traffic flows again (connections that saw a stall are dropped: their
 *                     // byte streams lost data and cannot be resumed)
 *   await proxy.stop();
 *
 * The proxy keeps its port for its whole life, so the client reconnects to the same address.
 */
import { createServer, type Server, Socket } from 'node:net';

export type ProxyState = 'open' | 'cut' | 'stalled';

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** Bytes of this pair were black-holed: the streams are out of step for good. */
  damaged: boolean;
}

export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private mode: ProxyState = 'open';
  port = 0;
  /** Connections accepted, refused while cut, and bytes swallowed while stalled. */
  readonly counters = { accepted: 0, refused: 0, blackholedBytes: 0 };

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  get state(): ProxyState {
    return this.mode;
  }

  /** Live connections (client side). */
  get connections(): number {
    return this.pairs.size;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      this.counters.refused++;
      client.resetAndDestroy();
      return;
    }
    this.counters.accepted++;
    const pair: Pair = { client, upstream: null, damaged: this.mode === 'stalled' };
    this.pairs.add(pair);
    const close = () => this.drop(pair);
    client.on('error', close);
    client.on('close', close);
    client.on('data', (chunk: Buffer) => {
      if (this.mode !== 'open' || pair.damaged) {
        this.counters.blackholedBytes += chunk.length;
        pair.damaged = true;
        return;
      }
      pair.upstream?.write(chunk);
    });
    if (pair.damaged) return; // accepted during a stall: the far side is never reached
    const upstream = new Socket();
    pair.upstream = upstream;
    upstream.on('error', close);
    upstream.on('close', close);
    upstream.on('data', (chunk: Buffer) => {
      if (this.mode !== 'open' || pair.damaged) {
        this.counters.blackholedBytes += chunk.length;
        pair.damaged = true;
        return;
      }
      client.write(chunk);
    });
    // Bytes the client sends before the upstream is connected are queued by the socket.
    upstream.connect(this.targetPort, this.host);
  }

  private drop(pair: Pair, reset = false): void {
    if (!this.pairs.delete(pair)) return;
    if (reset) {
      if (!pair.client.destroyed) pair.client.resetAndDestroy();
      if (pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
    } else {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  }

  /** Resets every connection and refuses new ones until restore(). */
  cut(): void {
    this.mode = 'cut';
    for (const p of [...this.pairs]) this.drop(p, true);
  }

  /** Keeps connections open but delivers nothing either way until restore(); no RST is sent. */
  stall(): void {
    this.mode = 'stalled';
  }

  /** Traffic flows again; connections whose bytes were swallowed are closed. */
  restore(): void {
    this.mode = 'open';
    for (const p of [...this.pairs]) if (p.damaged) this.drop(p);
  }

  async stop(): Promise<void> {
    for (const p of [...this.pairs]) this.drop(p);
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
