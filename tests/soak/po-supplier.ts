/**
 * The supplier of the purchase-order week, as a program reading its webhooks: it verifies each
 * signed request, processes each event once by its idempotency key, and for every purchase order
 * sent acknowledges and ships it through the HTTP API, then its van puts each lane's share on the
 * simulated shelf after the supplier's true lead time — drawn per delivery, seeded, with jitter.
 * The control supplier's per-lane orders go the same way, one order at a time.
 *
 * Now and then (seeded) one line of a PO is delivered short: shipped in full on paper, one or two
 * items missing in the van — the shelf counts fewer than shipped and the PO must open a
 * discrepancy. And now and then another line is shipped short and says so (`lines` in the ship
 * request): the van brings what the notice says, and no discrepancy may open.
 *
 * Lead times are wall-clock time, because central's clock is: a PO's lead time is learned from its
 * sent and received times. The van waits for a moment with no customer at the lane (no pick or
 * leaning hand within a few device seconds), so the shelf sees the delivery as one restock.
 */
import { verifyWebhook } from '@shelfsense/central/webhooks';
import { deriveSeed, Rng, type Simulator, type SoakWeek } from '@shelfsense/firmware-sim';
import type { WebhookReceiver } from '../helpers/central.js';

export interface LeadModel {
  /** The supplier's true mean lead time, sent → goods on the shelf, wall ms. */
  meanMs: number;
  /** Each delivery's lead is meanMs × (1 ± jitter), uniform. */
  jitter: number;
}

export interface PoSupplierOptions {
  sim: Simulator;
  week: SoakWeek;
  hooks: WebhookReceiver;
  /** Central's HTTP API, as the given supplier user. */
  api(path: string, supplier: string, init?: RequestInit): Promise<Response>;
  secret(supplier: string): string;
  /** Shelf id in the central map → simulator serial. */
  serialOf(shelf: string): string;
  seed: number;
  lead: LeadModel;
  /** Chance a PO has one line delivered one or two items short of what shipped. */
  shortRate: number;
  /** Chance a PO has one (other) line shipped short, declared in the ship request. */
  declaredShortRate: number;
  /** No customer event on the lane this long before (device ms) ... */
  quietBeforeMs?: number;
  /** ... nor this long after the delivery. */
  quietAfterMs?: number;
}

/** One lane's goods in the van. */
export interface Drop {
  shelf: string;
  lane: string;
  serial: string;
  laneIndex: number;
  /** Items shipped to this lane (central's share of the line). */
  shipped: number;
  /** Items the van puts on the lane. */
  items: number;
  dueWallMs: number;
  appliedWallMs: number | null;
  appliedDeviceMs: number | null;
  /** Too close to the end of the simulated week for the shelf to show it. */
  tooLate: boolean;
}

export type LineFate = 'as-ordered' | 'delivered-short' | 'declared-short';

export interface PoRecord {
  id: string;
  /** Central's sent time (the event's ts), wall ms. */
  sentAt: number;
  urgent: boolean;
  /** Each shelf's device time when the supplier heard of the PO. */
  heardDeviceMs: Record<string, number>;
  leadMs: number;
  lines: { sku: string; ordered: number; shipped: number; delivered: number; fate: LineFate }[];
  drops: Drop[];
}

export interface OrderRecord {
  id: string;
  shelf: string;
  lane: string;
  sentAt: number;
  heardDeviceMs: number;
  leadMs: number;
  drop: Drop;
}

export interface HookStats {
  requests: number;
  badSignature: number;
  /** Requests whose key was already processed (redelivery). */
  duplicates: number;
  /** Requests per idempotency key, purchase-order events. */
  poKeys: Map<string, number>;
  /** Per-lane order events, by supplier. */
  orderEvents: Map<string, number>;
}

interface PoHook {
  type: 'purchase_order';
  idempotencyKey: string;
  purchaseOrderId: string;
  version: number;
  state: string;
  supplier: string;
  urgent: boolean;
  lines: { sku: string; quantity: number; lanes: { shelf: string; lane: string; quantity: number }[] }[];
  ts: number;
}

interface OrderHook {
  idempotencyKey: string;
  orderId: string;
  state: string;
  supplier: string;
  shelf: string;
  lane: string;
  quantity: number;
  ts: number;
}

interface ApiPo {
  id: string;
  lines: { sku: string; quantity: number; shippedQuantity: number | null; lanes: ApiPoLane[] }[];
}
interface ApiPoLane {
  shelf: string;
  lane: string;
  quantity: number;
  shippedQuantity: number | null;
}

/** A lane never gets fewer than this many items: no pick (1–3 items) on another lane matches it. */
const MIN_DROP = 4;
/** Device time the shelf needs after a delivery to count it before the week ends. */
const END_MARGIN_MS = 4_000;

export class PoSupplier {
  readonly pos: PoRecord[] = [];
  readonly orders: OrderRecord[] = [];
  readonly hooks: HookStats = {
    requests: 0,
    badSignature: 0,
    duplicates: 0,
    poKeys: new Map(),
    orderEvents: new Map(),
  };
  /** The first failed API call, if any (the run stops on it). */
  error: Error | null = null;
  private readonly pending: Drop[] = [];
  private readonly seen = new Set<string>();
  private readonly handledPos = new Set<string>();
  private readonly work: (() => Promise<void>)[] = [];
  private readonly quiet = new Map<string, [number, number][]>();
  private readonly leadRng: Rng;
  private readonly lineRng: Rng;
  private hookIndex = 0;
  private busy = false;

  constructor(private readonly o: PoSupplierOptions) {
    this.leadRng = new Rng(deriveSeed(o.seed, 'po-supplier-lead'));
    this.lineRng = new Rng(deriveSeed(o.seed, 'po-supplier-lines'));
    const before = o.quietBeforeMs ?? 3_000;
    const after = o.quietAfterMs ?? 3_000;
    // Customer events per lane as busy intervals: a delivery must not fall inside one.
    for (const e of o.week.scenario.events ?? []) {
      const ev = e as { at: number | string; shelf?: string; lane?: number | string; ms?: number };
      if (typeof ev.at !== 'number' || typeof ev.lane !== 'number' || !ev.shelf) continue;
      const key = `${ev.shelf}/${ev.lane}`;
      const list = this.quiet.get(key) ?? [];
      list.push([ev.at - after, ev.at + (ev.ms ?? 0) + before]);
      this.quiet.set(key, list);
    }
  }

  /** Nothing received is left unhandled. */
  get idle(): boolean {
    return this.hookIndex === this.o.hooks.received.length && this.work.length === 0 && !this.busy;
  }

  /** Drops still waiting for their time (or a quiet moment). */
  get inTransit(): number {
    return this.pending.length;
  }

  /** Handles new webhooks and delivers what is due; called often by the run (never throws). */
  poll(): void {
    try {
      this.readHooks();
      this.deliverDue();
    } catch (err) {
      this.error ??= err as Error;
    }
  }

  private deviceMs(serial: string): number {
    return this.o.sim.shelf(serial).engine.nextDeviceUs / 1000;
  }

  private drawLead(): number {
    const { meanMs, jitter } = this.o.lead;
    return Math.round(meanMs * (1 + jitter * (2 * this.leadRng.next() - 1)));
  }

  private readHooks(): void {
    const received = this.o.hooks.received;
    while (this.hookIndex < received.length) {
      const h = received[this.hookIndex++];
      if (!h) continue;
      this.hooks.requests++;
      const e = h.json as unknown as (PoHook | OrderHook) & { supplier: string; idempotencyKey: string };
      if (!verifyWebhook(this.o.secret(e.supplier), h.headers, h.body, 600_000).ok) {
        this.hooks.badSignature++;
        continue;
      }
      if ('type' in e && e.type === 'purchase_order') {
        this.hooks.poKeys.set(e.idempotencyKey, (this.hooks.poKeys.get(e.idempotencyKey) ?? 0) + 1);
      } else {
        this.hooks.orderEvents.set(e.supplier, (this.hooks.orderEvents.get(e.supplier) ?? 0) + 1);
      }
      // Delivery is at least once: the key makes each event count once.
      if (this.seen.has(e.idempotencyKey)) {
        this.hooks.duplicates++;
        continue;
      }
      this.seen.add(e.idempotencyKey);
      if ('type' in e && e.type === 'purchase_order') {
        if (e.state === 'sent' && !this.handledPos.has(e.purchaseOrderId)) this.acceptPo(e);
      } else if (e.state === 'open') this.acceptOrder(e as OrderHook);
    }
    void this.drain();
  }

  private heardAll(): Record<string, number> {
    return Object.fromEntries(this.o.sim.shelves.map((s) => [s.serial, this.deviceMs(s.serial)]));
  }

  /** Lines whose last lane can lose `short` items and still get MIN_DROP. */
  private eligible(lines: PoHook['lines'], short: number): number[] {
    return lines.flatMap((l, i) => ((l.lanes.at(-1)?.quantity ?? 0) >= short + MIN_DROP ? [i] : []));
  }

  private acceptPo(e: PoHook): void {
    this.handledPos.add(e.purchaseOrderId);
    const rng = this.lineRng;
    // Draws in a fixed order per PO, so a seed gives the same choices for the same POs.
    const shortItems = 1 + Math.floor(rng.next() * 2);
    const declaredItems = 1 + Math.floor(rng.next() * 2);
    const shortDraw = rng.next();
    const declaredDraw = rng.next();
    const pick = rng.next();
    const pick2 = rng.next();
    const fates: LineFate[] = e.lines.map(() => 'as-ordered');
    const shortOf = new Map<number, number>();
    if (shortDraw < this.o.shortRate) {
      const can = this.eligible(e.lines, shortItems);
      const i = can[Math.floor(pick * can.length)];
      if (i !== undefined) {
        fates[i] = 'delivered-short';
        shortOf.set(i, shortItems);
      }
    }
    if (declaredDraw < this.o.declaredShortRate) {
      const can = this.eligible(e.lines, declaredItems).filter((i) => fates[i] === 'as-ordered');
      const i = can[Math.floor(pick2 * can.length)];
      if (i !== undefined) {
        fates[i] = 'declared-short';
        shortOf.set(i, declaredItems);
      }
    }
    const lead = this.drawLead();
    const record: PoRecord = {
      id: e.purchaseOrderId,
      sentAt: e.ts,
      urgent: e.urgent,
      heardDeviceMs: this.heardAll(),
      leadMs: lead,
      lines: [],
      drops: [],
    };
    this.pos.push(record);
    const id = e.purchaseOrderId;
    this.work.push(async () => {
      await this.post(`/api/purchase-orders/${id}/acknowledge`, e.supplier, {});
      const declared = e.lines.flatMap((l, i) =>
        fates[i] === 'declared-short' ? [{ sku: l.sku, quantity: l.quantity - (shortOf.get(i) ?? 0) }] : [],
      );
      const po = (await this.post(
        `/api/purchase-orders/${id}/ship`,
        e.supplier,
        declared.length ? { lines: declared } : {},
      )) as ApiPo;
      for (const [i, hookLine] of e.lines.entries()) {
        const line = po.lines.find((l) => l.sku === hookLine.sku);
        if (!line) throw new Error(`ship ${id}: line ${hookLine.sku} missing from the answer`);
        const lanes = line.lanes.filter((l) => (l.shippedQuantity ?? 0) > 0);
        const missing = fates[i] === 'delivered-short' ? (shortOf.get(i) ?? 0) : 0;
        let delivered = 0;
        for (const [k, lane] of lanes.entries()) {
          const shipped = lane.shippedQuantity ?? 0;
          // The short lane is the last: the one eligible() checked.
          const items = k === lanes.length - 1 ? shipped - missing : shipped;
          delivered += items;
          record.drops.push(this.drop(lane, shipped, items, e.ts + lead));
        }
        record.lines.push({
          sku: line.sku,
          ordered: line.quantity,
          shipped: line.shippedQuantity ?? line.quantity,
          delivered,
          fate: fates[i] as LineFate,
        });
      }
      this.pending.push(...record.drops);
    });
  }

  private acceptOrder(e: OrderHook): void {
    const serial = this.o.serialOf(e.shelf);
    const lead = this.drawLead();
    const record: OrderRecord = {
      id: e.orderId,
      shelf: e.shelf,
      lane: e.lane,
      sentAt: e.ts,
      heardDeviceMs: this.deviceMs(serial),
      leadMs: lead,
      drop: this.drop(e, e.quantity, e.quantity, e.ts + lead),
    };
    this.orders.push(record);
    this.work.push(async () => {
      for (const step of ['acknowledge', 'ship']) {
        await this.post(`/api/orders/${e.orderId}/${step}`, e.supplier, {});
      }
      this.pending.push(record.drop);
    });
  }

  private drop(lane: { shelf: string; lane: string }, shipped: number, items: number, due: number): Drop {
    return {
      shelf: lane.shelf,
      lane: lane.lane,
      serial: this.o.serialOf(lane.shelf),
      laneIndex: Number(lane.lane.slice(1)),
      shipped,
      items,
      dueWallMs: due,
      appliedWallMs: null,
      appliedDeviceMs: null,
      tooLate: false,
    };
  }

  private async post(path: string, supplier: string, body: unknown): Promise<unknown> {
    const r = await this.o.api(path, supplier, { method: 'POST', body: JSON.stringify(body) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as unknown;
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.work.length > 0) await (this.work.shift() as () => Promise<void>)();
    } catch (err) {
      this.error ??= err as Error;
    } finally {
      this.busy = false;
    }
  }

  /** Whether no customer touches the lane around device time `t`. */
  private isQuiet(serial: string, lane: number, t: number): boolean {
    return !(this.quiet.get(`${serial}/${lane}`) ?? []).some(([from, to]) => t >= from && t <= to);
  }

  private deliverDue(): void {
    const now = Date.now();
    const end = this.o.week.timeline.deviceMs;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const d = this.pending[i] as Drop;
      const t = this.deviceMs(d.serial);
      // The week ends before the shelf could show it, due or not: it stays in the van.
      if (t + END_MARGIN_MS > end) {
        d.tooLate = true;
        this.pending.splice(i, 1);
        continue;
      }
      if (now < d.dueWallMs || !this.isQuiet(d.serial, d.laneIndex, t)) continue;
      const r = this.o.sim.apply(d.serial, { action: 'add', lane: d.laneIndex, count: d.items });
      d.appliedWallMs = Date.now();
      d.appliedDeviceMs = r.deviceMs;
      this.pending.splice(i, 1);
    }
  }
}
