/**
 * A supplier's webhook receiver, as a supplier would write it: verify the signature and timestamp
 * on the raw body, then process each idempotency key once. Real HTTP on a port chosen by the OS.
 */
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type VerifyResult, verifyWebhook } from '@shelfsense/central/webhooks';
import { OrderEvent, PurchaseOrderEvent } from '@shelfsense/protocol';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  verdict: VerifyResult;
  status: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Events processed, by idempotency key: each exactly once. */
  processed: Map<string, OrderEvent>;
  /** Purchase-order events processed, by idempotency key. */
  purchaseOrders: Map<string, PurchaseOrderEvent>;
  /** `fail`: answer 500 after verifying (the supplier's system is broken). */
  mode: 'ok' | 'fail';
  /** Added to the receiver's clock when checking timestamps. */
  clockOffsetMs: number;
  /** Stops listening and drops open connections: the receiver is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

export async function startReceiver(secret: string, toleranceMs: number): Promise<Receiver> {
  let server: Server | null = null;
  const r: Receiver = {
    url: '',
    port: 0,
    requests: [],
    processed: new Map(),
    purchaseOrders: new Map(),
    mode: 'ok',
    clockOffsetMs: 0,
    async down() {
      const s = server;
      server = null;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    async up() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const verdict = verifyWebhook(secret, req.headers, body, toleranceMs, Date.now() + r.clockOffsetMs);
          let status = 200;
          if (!verdict.ok) status = 401;
          else if (r.mode === 'fail') status = 500;
          else if (verdict.idempotencyKey) {
            const key = verdict.idempotencyKey;
            const json = JSON.parse(body) as { type?: string };
            if (json.type === 'purchase_order') {
              if (!r.purchaseOrders.has(key)) r.purchaseOrders.set(key, PurchaseOrderEvent.parse(json));
            } else if (!r.processed.has(key)) r.processed.set(key, OrderEvent.parse(json));
          }
          r.requests.push({ headers: req.headers, body, verdict, status });
          res.writeHead(status, { 'content-type': 'text/plain' }).end(verdict.ok ? 'ok' : verdict.reason);
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(r.port, '127.0.0.1', () => resolve());
      });
      server = s;
      r.port = (s.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${r.port}/shelfsense/orders`;
    },
  };
  await r.up();
  return r;
}

/** Resolves with the first `name` event whose payload passes `pred`; rejects after `timeoutMs`. */
export function nextEvent<T>(
  emitter: EventEmitter,
  name: string,
  pred: (v: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!pred(v)) return;
      clearTimeout(t);
      emitter.off(name, on);
      resolve(v);
    };
    emitter.on(name, on);
  });
}

/** A small seeded PRNG (mulberry32) for reproducible jitter. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
