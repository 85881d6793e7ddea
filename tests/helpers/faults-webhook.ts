/**
 * A supplier's webhook endpoint that can fail the ways real ones do: down (nothing listens on the
 * port), slow (answers after `slowMs`, longer than the sender's timeout), or answering 500. It
 * keeps every request that arrived whole, and apart from them the ones it answered 2xx in time.
 * A supplier processes each Idempotency-Key once: `processed()` is that view.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export type HookMode = 'ok' | 'slow' | 'error';

export interface HookRequest {
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
  at: number;
  /** What it was answered (0: the connection was closed before an answer). */
  status: number;
}

export class FaultyWebhook {
  /** Every request that arrived complete, in order. */
  readonly requests: HookRequest[] = [];
  mode: HookMode = 'ok';
  slowMs = 3_000;
  private server: Server | null = null;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/orders`;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        const entry: HookRequest = {
          headers: req.headers,
          json: JSON.parse(body),
          at: Date.now(),
          status: 0,
        };
        this.requests.push(entry);
        const answer = (status: number) => {
          if (res.destroyed) return;
          entry.status = status;
          res.writeHead(status).end();
        };
        if (this.mode === 'error') answer(500);
        else if (this.mode === 'slow') setTimeout(() => answer(200), this.slowMs).unref();
        else answer(200);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    return this.url;
  }

  /** Nothing listens any more: connections are refused. */
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (!this.server) await this.start();
  }

  /**
   * Requests the supplier took (all but those it answered 500; a slow answer still means it took
   * the request), one per idempotency key: what a supplier that dedupes acts on.
   */
  processed(): { orderId: string; state: string; idempotencyKey: string; lane: string }[] {
    const seen = new Set<string>();
    const out: { orderId: string; state: string; idempotencyKey: string; lane: string }[] = [];
    for (const r of this.requests) {
      if (r.status === 500) continue;
      const key = String(r.headers['idempotency-key'] ?? r.json.idempotencyKey);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        orderId: String(r.json.orderId),
        state: String(r.json.state),
        idempotencyKey: key,
        lane: String(r.json.lane),
      });
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
