/**
 * The demo's automatic people, each acting through the HTTP API with its own login exactly as a
 * person in the dashboard would, so the audit trail names them and the webhooks, MQTT events and
 * dashboard all see the usual transitions:
 *
 * - `DemoSupplier` watches each supplier's work. A supplier without a delivery schedule gets one
 *   order per lane: it acknowledges each open order after a delay and ships it after the same
 *   delay again. A supplier on a schedule gets purchase orders: it acknowledges each PO sent to it
 *   and ships it the same way (central shares each line's quantity over its lanes). Now and then (a
 *   seeded, reproducible draw per shipment) it ships one pack short and says so in the quantity
 *   shipped — an order's, or one line of a PO; the shelf then confirms the smaller delivery.
 * - `DemoOperator` is the store's operator: a weekly cut-off would not come during a demo, so every
 *   couple of minutes it sends the purchase-order drafts that have gathered needs, early, as a store
 *   manager who will not wait does (`POST /api/purchase-orders/{id}/send`).
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
  /** The supplier is on a delivery schedule: it acts on purchase orders, not on lane orders. */
  purchaseOrders?: boolean;
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

/** The fields of `GET /api/purchase-orders` the supplier and the operator read. */
const PoView = z.object({
  id: z.string(),
  state: z.string(),
  lines: z.array(
    z.object({
      sku: z.string(),
      quantity: z.number().int().nonnegative(),
      lanes: z.array(z.object({ quantity: z.number() })),
    }),
  ),
});
type PoView = z.infer<typeof PoView>;
const PoList = z.array(PoView);
const LoginAnswer = z.object({ token: z.string().min(1), expiresAt: z.number() });

export interface SupplierAct {
  orderId: string;
  user: string;
  state: 'acknowledged' | 'shipped';
  quantity: number;
  /** Items shipped (with `shipped`). */
  shippedQuantity: number | null;
}

export interface PurchaseOrderAct {
  purchaseOrderId: string;
  user: string;
  state: 'acknowledged' | 'shipped';
  /** Per SKU: ordered, and shipped (with `shipped`). */
  lines: { sku: string; quantity: number; shippedQuantity: number | null }[];
}

interface DemoSupplierEvents {
  acted: [SupplierAct];
  actedOnPurchaseOrder: [PurchaseOrderAct];
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

/** One user's login to the HTTP API: a token refreshed before it runs out, JSON requests. */
class ApiSession {
  private token: string | null = null;
  private expiresAt = 0;

  constructor(
    private readonly baseUrl: string,
    readonly account: SupplierAccount,
  ) {}

  get user(): string {
    return this.account.username;
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = await this.login();
    const r = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    if (r.status === 401) this.token = null;
    if (r.status !== 200)
      throw new ApiError(r.status, `${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }

  private async login(): Promise<string> {
    if (this.token && this.expiresAt - TOKEN_MARGIN_MS > Date.now()) return this.token;
    const r = await fetch(new URL('/api/login', this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.account.username, password: this.account.password }),
      signal: AbortSignal.timeout(10_000),
    });
    if (r.status !== 200) throw new ApiError(r.status, `login as ${this.account.username}: ${r.status}`);
    const answer = LoginAnswer.parse(await r.json());
    this.token = answer.token;
    this.expiresAt = answer.expiresAt;
    return answer.token;
  }
}

/** A poll loop that never overlaps itself and stops cleanly. */
class Loop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private turn: Promise<void> | null = null;

  constructor(
    private readonly everyMs: () => number,
    private readonly body: () => Promise<void>,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(firstMs = 0): void {
    if (this.running) return;
    this.running = true;
    this.schedule(firstMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.turn;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.turn = this.body().finally(() => {
        this.turn = null;
        if (this.running) this.schedule(this.everyMs());
      });
    }, ms);
  }
}

export class DemoSupplier extends EventEmitter<DemoSupplierEvents> {
  private readonly log: Logger;
  private readonly sessions: ApiSession[];
  private readonly rng: Rng;
  /** When the supplier first saw an order or PO in its current state (`id:state` → ms). */
  private readonly seen = new Map<string, number>();
  /** Orders and POs whose last request failed, and when to try again. */
  private readonly retryAt = new Map<string, number>();
  private readonly loop: Loop;

  constructor(private readonly o: DemoSupplierOptions) {
    super();
    this.log = o.logger;
    this.sessions = o.accounts.map((account) => new ApiSession(o.baseUrl, account));
    this.rng = new Rng(o.seed);
    this.loop = new Loop(
      () => this.o.pollMs ?? Math.min(500, Math.max(50, this.o.delayMs)),
      () => this.poll(),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async poll(): Promise<void> {
    const live = new Set<string>();
    for (const s of this.sessions) {
      if (!this.loop.active) return;
      let work: (OrderView | PoView)[];
      const po = s.account.purchaseOrders === true;
      try {
        work = po
          ? PoList.parse(await s.request('GET', '/api/purchase-orders?state=sent,acknowledged'))
          : OrderList.parse(await s.request('GET', '/api/orders?state=open,acknowledged'));
      } catch (err) {
        this.log.warn(
          { err: errText(err), user: s.user },
          `could not read ${po ? 'purchase orders' : 'orders'}`,
        );
        continue;
      }
      for (const item of work) {
        if (!this.loop.active) return;
        const key = `${item.id}:${item.state}`;
        live.add(key);
        const now = Date.now();
        const since = this.seen.get(key) ?? now;
        this.seen.set(key, since);
        if (now - since < this.o.delayMs || (this.retryAt.get(item.id) ?? 0) > now) continue;
        if ('lines' in item) await this.actOnPo(s, item);
        else await this.act(s, item);
      }
    }
    // Orders and POs that moved on (shipped, cancelled, handled by a person) are forgotten.
    for (const key of this.seen.keys()) if (!live.has(key)) this.seen.delete(key);
    for (const id of this.retryAt.keys())
      if (![...live].some((k) => k.startsWith(`${id}:`))) this.retryAt.delete(id);
  }

  private async act(s: ApiSession, order: OrderView): Promise<void> {
    const user = s.user;
    try {
      if (order.state === 'open') {
        await s.request('POST', `/api/orders/${order.id}/acknowledge`, {});
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
        await s.request('POST', `/api/orders/${order.id}/ship`, body);
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

  private async actOnPo(s: ApiSession, po: PoView): Promise<void> {
    const user = s.user;
    try {
      if (po.state === 'sent') {
        await s.request('POST', `/api/purchase-orders/${po.id}/acknowledge`, {});
        this.log.info({ purchaseOrderId: po.id, user }, 'purchase order acknowledged');
        this.emit('actedOnPurchaseOrder', {
          purchaseOrderId: po.id,
          user,
          state: 'acknowledged',
          lines: po.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, shippedQuantity: null })),
        });
      } else if (po.state === 'acknowledged') {
        const short = this.shortLine(po);
        const shipped = po.lines.map((l) => ({
          sku: l.sku,
          quantity: l.quantity,
          shippedQuantity: l.sku === short ? l.quantity - this.o.packSize : l.quantity,
        }));
        const body = short
          ? {
              lines: shipped
                .filter((l) => l.sku === short)
                .map((l) => ({ sku: l.sku, quantity: l.shippedQuantity })),
            }
          : {};
        await s.request('POST', `/api/purchase-orders/${po.id}/ship`, body);
        this.log.info({ purchaseOrderId: po.id, user, shortLine: short ?? null }, 'purchase order shipped');
        this.emit('actedOnPurchaseOrder', { purchaseOrderId: po.id, user, state: 'shipped', lines: shipped });
      }
      this.retryAt.delete(po.id);
    } catch (err) {
      this.log.warn(
        { err: errText(err), purchaseOrderId: po.id, user, state: po.state },
        'purchase order step failed',
      );
      this.retryAt.set(po.id, Date.now() + Math.max(this.o.delayMs, 1_000));
    }
  }

  /** One draw per shipment from the seeded stream: the same run of orders ships the same way. */
  private shipQuantity(quantity: number): number {
    const short = this.rng.next() < this.o.shortRate;
    return short && quantity > this.o.packSize ? quantity - this.o.packSize : quantity;
  }

  /**
   * The line of a PO shipped one pack short, if this shipment's draw says so: the first line whose
   * last lane (which the missing pack comes off) still gets something.
   */
  private shortLine(po: PoView): string | undefined {
    if (!(this.rng.next() < this.o.shortRate)) return undefined;
    return po.lines.find((l) => (l.lanes.at(-1)?.quantity ?? 0) > this.o.packSize)?.sku;
  }
}

export interface DemoOperatorOptions {
  baseUrl: string;
  /** The store operator's login. */
  account: SupplierAccount;
  /** How often to send the drafts that have gathered needs, ms. */
  everyMs: number;
  /** The demo names it `demo.operator`. */
  logger: Logger;
}

export interface DraftSent {
  purchaseOrderId: string;
  user: string;
  lines: { sku: string; quantity: number }[];
}

interface DemoOperatorEvents {
  sent: [DraftSent];
}

/** The store's operator: sends every purchase-order draft with something on it, every `everyMs`. */
export class DemoOperator extends EventEmitter<DemoOperatorEvents> {
  private readonly session: ApiSession;
  private readonly loop: Loop;

  constructor(private readonly o: DemoOperatorOptions) {
    super();
    this.session = new ApiSession(o.baseUrl, o.account);
    this.loop = new Loop(
      () => o.everyMs,
      () => this.sendDrafts(),
    );
  }

  get everyMs(): number {
    return this.o.everyMs;
  }

  start(): void {
    this.loop.start(this.o.everyMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async sendDrafts(): Promise<void> {
    let drafts: PoView[];
    try {
      drafts = PoList.parse(await this.session.request('GET', '/api/purchase-orders?state=draft'));
    } catch (err) {
      this.o.logger.warn({ err: errText(err) }, 'could not read purchase-order drafts');
      return;
    }
    for (const po of drafts) {
      if (!this.loop.active) return;
      if (po.lines.every((l) => l.quantity === 0)) continue;
      try {
        await this.session.request('POST', `/api/purchase-orders/${po.id}/send`, {});
        const lines = po.lines.map((l) => ({ sku: l.sku, quantity: l.quantity }));
        this.o.logger.info({ purchaseOrderId: po.id, lines }, 'purchase order sent before its cut-off');
        this.emit('sent', { purchaseOrderId: po.id, user: this.session.user, lines });
      } catch (err) {
        // Sent meanwhile by its cut-off or a person (409): the next round finds no draft.
        this.o.logger.warn({ err: errText(err), purchaseOrderId: po.id }, 'purchase order not sent');
      }
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
