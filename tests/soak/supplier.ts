/**
 * The supplier of a soak run: reads the signed order webhooks central sends, processes each event
 * once (by its idempotency key), acknowledges and ships every new order through the HTTP API, and
 * puts the goods on the shelf in the simulator at the next night's delivery round — when no
 * customer picks, so the restock the shelf sees is exactly the shipped quantity.
 */
import { verifyWebhook } from '@shelfsense/central/webhooks';
import { HOUR_MS, type Simulator, type Timeline } from '@shelfsense/firmware-sim';
import type { WebhookReceiver } from '../helpers/central.js';

export interface Delivery {
  orderId: string;
  serial: string;
  lane: number;
  quantity: number;
  /** Device time of the shelf when the supplier heard of the order. */
  orderedDeviceMs: number;
  dueSimMs: number;
  deliveredDeviceMs: number | null;
  seq: number | null;
}

export interface SupplierOptions {
  sim: Simulator;
  timeline: Timeline;
  hooks: WebhookReceiver;
  /** Central's HTTP API, as the given supplier user. */
  api(path: string, supplier: string, init?: RequestInit): Promise<Response>;
  secret(supplier: string): string;
  /** Shelf id in the central map → simulator serial. */
  serialOf(shelf: string): string;
  /** Goods arrive at this hour of the night... */
  deliveryHour: number;
  /** ...at the earliest this many simulated hours after the order. */
  leadHours: number;
  /** Hours after the delivery hour in which nobody picks (the store is closed). */
  quietHours: number;
}

interface OrderHook {
  idempotencyKey: string;
  orderId: string;
  state: string;
  supplier: string;
  shelf: string;
  lane: string;
  quantity: number;
}

/** The next `hour`:00 at or after simulated time `simMs`. */
export function nextClock(simMs: number, hour: number): number {
  const day = Math.floor(simMs / (24 * HOUR_MS));
  const t = day * 24 * HOUR_MS + hour * HOUR_MS;
  return t >= simMs ? t : t + 24 * HOUR_MS;
}

export class Supplier {
  readonly deliveries: Delivery[] = [];
  readonly webhooks = { received: 0, badSignature: 0, duplicates: 0 };
  /** Deliveries moved to the next night because the shelf's clock had run past the quiet window. */
  postponed = 0;
  /** The first failed API call, if any (the run stops on it). */
  error: Error | null = null;
  private readonly pending: Delivery[] = [];
  private readonly seen = new Set<string>();
  private readonly work: (() => Promise<void>)[] = [];
  private hookIndex = 0;
  private busy = false;

  constructor(private readonly o: SupplierOptions) {}

  /** Nothing received is left unhandled. */
  get idle(): boolean {
    return this.hookIndex === this.o.hooks.received.length && this.work.length === 0 && !this.busy;
  }

  get delivered(): number {
    return this.deliveries.filter((d) => d.deliveredDeviceMs !== null).length;
  }

  /** Handles new webhooks and delivers what is due; called often by the run. */
  poll(): void {
    this.readHooks();
    this.deliverDue();
  }

  private deviceMs(serial: string): number {
    return this.o.sim.shelf(serial).engine.nextDeviceUs / 1000;
  }

  private readHooks(): void {
    const received = this.o.hooks.received;
    while (this.hookIndex < received.length) {
      const h = received[this.hookIndex++];
      if (!h) continue;
      this.webhooks.received++;
      const e = h.json as unknown as OrderHook;
      if (!verifyWebhook(this.o.secret(e.supplier), h.headers, h.body, 600_000).ok) {
        this.webhooks.badSignature++;
        continue;
      }
      // Delivery is at least once: the key makes each event count once.
      if (this.seen.has(e.idempotencyKey)) {
        this.webhooks.duplicates++;
        continue;
      }
      this.seen.add(e.idempotencyKey);
      if (e.state === 'open') this.accept(e);
    }
    void this.drain();
  }

  private accept(e: OrderHook): void {
    const serial = this.o.serialOf(e.shelf);
    const now = this.deviceMs(serial);
    const { timeline, leadHours, deliveryHour } = this.o;
    const d: Delivery = {
      orderId: e.orderId,
      serial,
      lane: Number(e.lane.slice(1)),
      quantity: e.quantity,
      orderedDeviceMs: now,
      dueSimMs: nextClock(timeline.toSim(now) + leadHours * HOUR_MS, deliveryHour),
      deliveredDeviceMs: null,
      seq: null,
    };
    this.deliveries.push(d);
    this.work.push(async () => {
      for (const step of ['acknowledge', 'ship']) {
        const r = await this.o.api(`/api/orders/${e.orderId}/${step}`, e.supplier, {
          method: 'POST',
          body: '{}',
        });
        if (r.status !== 200) throw new Error(`${step} ${e.orderId}: ${r.status} ${await r.text()}`);
      }
      this.pending.push(d);
    });
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

  /** Goods go on the shelf at night, well before opening: no pick can blur the restock. */
  private deliverDue(): void {
    const { timeline, sim } = this.o;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const d = this.pending[i] as Delivery;
      const now = this.deviceMs(d.serial);
      if (now < timeline.toDevice(d.dueSimMs)) continue;
      this.pending.splice(i, 1);
      // Too close to the end of the run for the shelf to show it: not delivered.
      if (now + 4_000 > timeline.deviceMs) continue;
      if (now > timeline.toDevice(d.dueSimMs + this.o.quietHours * HOUR_MS)) {
        this.postponed++;
        d.dueSimMs += 24 * HOUR_MS;
        this.pending.push(d);
        continue;
      }
      const r = sim.apply(d.serial, { action: 'add', lane: d.lane, count: d.quantity });
      d.deliveredDeviceMs = r.deviceMs;
      d.seq = r.appliesFromSeq;
    }
  }
}
