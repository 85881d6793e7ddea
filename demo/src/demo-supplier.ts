/**
 * The demo's automatic supplier: it logs in to the HTTP API as each supplier user, watches that
 * supplier's orders, acknowledges each open order after a delay and ships it after the same delay
 * again — the requests a person makes in the dashboard, so the audit trail names the supplier's
 * user and the webhooks, MQTT order events and dashboard all see the usual transitions.
 *
 * Now and then (a seeded, reproducible draw per shipment) it ships one pack short and says so in
 * the quantity shipped; the shelf then confirms the smaller delivery and the order shows it.
 *
 *   const supplier = new DemoSupplier({ baseUrl, accounts, delayMs, shortRate, packSize, seed, logger });
 *   supplier.start(); … await supplier.stop();
 */
import { EventEmitter } from 'node:events';
import { Rng } from '@shelfsense/firmware-sim';
import type { Logger } from 'pino';
import { z } from 'zod';

export interface SupplierAccount {
  username: string;
  password: string;
}

export interface DemoSupplierOptions {
  /** The central HTTP server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** One login per supplier the automaton acts for. */
  accounts: readonly SupplierAccount[];
  /** From seeing an order open to acknowledging it, and from acknowledging to shipping, ms. */
  delayMs: number;
  /** Fraction of shipments sent one pack short (0–1). */
  shortRate: number;
  /** Items in one pack: a short shipment lacks this many. */
  packSize: number;
  /** Seed of the short-shipment draws. */
  seed: number;
  /** How often to look at the orders, ms (default: 500, or the delay if shorter). */
  pollMs?: number;
  /** The demo names it `demo.supplier`. */
  logger: Logger;
}

/** The fields of `GET /api/orders` the supplier reads. */
const OrderView = z.object({
  id: z.string(),
  state: z.string(),
  quantity: z.number().int().positive(),
  shippedQuantity: z.number().int().nullable(),
});
type OrderView = z.infer<typeof OrderView>;
const OrderList = z.array(OrderView);
const LoginAnswer = z.object({ token: z.string().min(1), expiresAt: z.number() });

export interface SupplierAct {
  orderId: string;
  user: string;
  state: 'acknowledged' | 'shipped';
  quantity: number;
  /** Items shipped (with `shipped`). */
  shippedQuantity: number | null;
}

interface DemoSupplierEvents {
  acted: [SupplierAct];
}

interface Session {
  account: SupplierAccount;
  token: string | null;
  expiresAt: number;
}

/** Refresh a token this long before it runs out. */
const TOKEN_MARGIN_MS = 60_000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class DemoSupplier extends EventEmitter<DemoSupplierEvents> {
  private readonly log: Logger;
  private readonly sessions: Session[];
  private readonly rng: Rng;
  /** When the supplier first saw an order in its current state (`id:state` → ms). */
  private readonly seen = new Map<string, number>();
  /** Orders whose last request failed, and when to try again. */
  private readonly retryAt = new Map<string, number>();
  private poller: NodeJS.Timeout | null = null;
  private running = false;
  private polling: Promise<void> | null = null;

  constructor(private readonly o: DemoSupplierOptions) {
    super();
    this.log = o.logger;
    this.sessions = o.accounts.map((account) => ({ account, token: null, expiresAt: 0 }));
    this.rng = new Rng(o.seed);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.poller) clearTimeout(this.poller);
    this.poller = null;
    await this.polling;
  }

  private schedule(ms: number): void {
    this.poller = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = null;
        if (this.running) this.schedule(this.o.pollMs ?? Math.min(500, Math.max(50, this.o.delayMs)));
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const live = new Set<string>();
    for (const s of this.sessions) {
      if (!this.running) return;
      let orders: OrderView[];
      try {
        orders = OrderList.parse(await this.request(s, 'GET', '/api/orders?state=open,acknowledged'));
      } catch (err) {
        this.log.warn({ err: errText(err), user: s.account.username }, 'could not read orders');
        continue;
      }
      for (const order of orders) {
        if (!this.running) return;
        const key = `${order.id}:${order.state}`;
        live.add(key);
        const now = Date.now();
        const since = this.seen.get(key) ?? now;
        this.seen.set(key, since);
        if (now - since < this.o.delayMs || (this.retryAt.get(order.id) ?? 0) > now) continue;
        await this.act(s, order);
      }
    }
    // Orders that moved on (shipped, cancelled, handled by a person) are forgotten.
    for (const key of this.seen.keys()) if (!live.has(key)) this.seen.delete(key);
    for (const id of this.retryAt.keys())
      if (![...live].some((k) => k.startsWith(`${id}:`))) this.retryAt.delete(id);
  }

  private async act(s: Session, order: OrderView): Promise<void> {
    const user = s.account.username;
    try {
      if (order.state === 'open') {
        await this.request(s, 'POST', `/api/orders/${order.id}/acknowledge`, {});
        this.log.info({ orderId: order.id, user }, 'order acknowledged');
        this.emit('acted', {
          orderId: order.id,
          user,
          state: 'acknowledged',
          quantity: order.quantity,
          shippedQuantity: null,
        });
      } else if (order.state === 'acknowledged') {
        const shipped = this.shipQuantity(order.quantity);
        const body = shipped === order.quantity ? {} : { quantity: shipped };
        await this.request(s, 'POST', `/api/orders/${order.id}/ship`, body);
        this.log.info({ orderId: order.id, user, quantity: order.quantity, shipped }, 'order shipped');
        this.emit('acted', {
          orderId: order.id,
          user,
          state: 'shipped',
          quantity: order.quantity,
          shippedQuantity: shipped,
        });
      }
      this.retryAt.delete(order.id);
    } catch (err) {
      // Someone else may have moved the order meanwhile (409); the next look shows its new state.
      this.log.warn({ err: errText(err), orderId: order.id, user, state: order.state }, 'order step failed');
      this.retryAt.set(order.id, Date.now() + Math.max(this.o.delayMs, 1_000));
    }
  }

  /** One draw per shipment from the seeded stream: the same run of orders ships the same way. */
  private shipQuantity(quantity: number): number {
    const short = this.rng.next() < this.o.shortRate;
    return short && quantity > this.o.packSize ? quantity - this.o.packSize : quantity;
  }

  private async request(s: Session, method: string, path: string, body?: unknown): Promise<unknown> {
    const token = await this.token(s);
    const r = await fetch(new URL(path, this.o.baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    if (r.status === 401) s.token = null;
    if (r.status !== 200)
      throw new ApiError(r.status, `${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }

  private async token(s: Session): Promise<string> {
    if (s.token && s.expiresAt - TOKEN_MARGIN_MS > Date.now()) return s.token;
    const r = await fetch(new URL('/api/login', this.o.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: s.account.username, password: s.account.password }),
      signal: AbortSignal.timeout(10_000),
    });
    if (r.status !== 200) throw new ApiError(r.status, `login as ${s.account.username}: ${r.status}`);
    const answer = LoginAnswer.parse(await r.json());
    s.token = answer.token;
    s.expiresAt = answer.expiresAt;
    return answer.token;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
