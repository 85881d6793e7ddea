/**
 * The demo's delivery van: when an order is shipped — by the automatic supplier, a supplier in the
 * dashboard or anyone through the HTTP API — the shipped quantity arrives on the simulated shelf
 * after a delay, put on the lane one item at a time. Nothing here touches the order: the shelf's
 * weight confirms the delivery through the rules' receipt logic, exactly as in a real store.
 *
 * A purchase order's lanes arrive the same way: shipping a PO ships each of its lanes' orders with
 * its share of the line, so the van sees them shipped like any other and names their PO.
 *
 *   const van = new DemoDelivery({ orders, sim, site, locate, delayMs, itemMs, logger });
 *   van.start(); … await van.stop();
 */
import { EventEmitter } from 'node:events';
import type { Order } from '@shelfsense/central/orders';
import type { ActionInput } from '@shelfsense/firmware-sim';
import type { Logger } from 'pino';

/** Where a lane of the central shelf map sits in the simulator. */
export interface SimLane {
  serial: string;
  /** Lane index on the simulated shelf. */
  lane: number;
}

export interface DemoDeliveryOptions {
  /** Read-only view of the orders (the van only looks for shipped ones). */
  orders: { list(q: { site?: string; state?: 'shipped' }): Order[] };
  sim: { apply(serial: string, action: ActionInput): unknown };
  site: string;
  locate(shelf: string, lane: string): SimLane | null;
  /** From the moment the van sees an order shipped to the first item on the shelf, ms. */
  delayMs: number;
  /** Between two items put on the lane, ms. */
  itemMs: number;
  /** The purchase order a lane order is on, if any (to name it; the delivery is the same). */
  purchaseOrderOf?(orderId: string): string | undefined;
  /** How often to look for newly shipped orders, ms (default 250). */
  pollMs?: number;
  /** The demo names it `demo.delivery`. */
  logger: Logger;
}

export interface DeliveryDone {
  orderId: string;
  /** The purchase order the lane's order is on (absent for an order of its own). */
  purchaseOrderId?: string;
  serial: string;
  lane: number;
  /** Items put on the shelf. */
  items: number;
}

interface DemoDeliveryEvents {
  /** The van has left with an order's goods. */
  dispatched: [{ orderId: string; purchaseOrderId?: string; quantity: number; arrivesInMs: number }];
  /** The last item of an order is on the shelf. */
  delivered: [DeliveryDone];
}

export class DemoDelivery extends EventEmitter<DemoDeliveryEvents> {
  private readonly log: Logger;
  /** Orders the van has taken (in transit or delivered and not yet confirmed by the shelf). */
  private readonly taken = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private poller: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly o: DemoDeliveryOptions) {
    super();
    this.log = o.logger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.poller) clearTimeout(this.poller);
    this.poller = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.running) fn();
    }, ms);
    this.timers.add(t);
  }

  private poll(): void {
    try {
      const shipped = this.o.orders.list({ site: this.o.site, state: 'shipped' });
      const ids = new Set(shipped.map((o) => o.id));
      // An order the shelf has confirmed is no longer shipped: forget it.
      for (const id of this.taken) if (!ids.has(id)) this.taken.delete(id);
      for (const order of shipped) if (!this.taken.has(order.id)) this.dispatch(order);
    } catch (err) {
      this.log.error({ err }, 'could not read shipped orders');
    }
    if (this.running) this.poller = setTimeout(() => this.poll(), this.o.pollMs ?? 250);
  }

  private dispatch(order: Order): void {
    this.taken.add(order.id);
    const where = this.o.locate(order.shelf, order.lane);
    if (!where) {
      this.log.error(
        { orderId: order.id, shelf: order.shelf, lane: order.lane },
        'shipped order for a lane the simulator does not have: not delivered',
      );
      return;
    }
    const quantity = order.shippedQuantity ?? order.quantity;
    // An order of its own carries no purchaseOrderId at all (not a null one).
    const po = this.purchaseOrderOf(order.id);
    const onPo = po ? { purchaseOrderId: po } : {};
    this.log.info({ orderId: order.id, ...onPo, quantity, inMs: this.o.delayMs }, 'goods on their way');
    this.emit('dispatched', { orderId: order.id, ...onPo, quantity, arrivesInMs: this.o.delayMs });
    this.later(this.o.delayMs, () => this.putItem({ orderId: order.id, onPo, where }, 1, quantity));
  }

  private purchaseOrderOf(orderId: string): string | undefined {
    try {
      return this.o.purchaseOrderOf?.(orderId);
    } catch (err) {
      this.log.warn({ err, orderId }, 'could not look up the purchase order of an order');
      return undefined;
    }
  }

  /** A person shelves the delivery one item at a time, as the `restock` scenario action does. */
  private putItem(
    d: { orderId: string; onPo: { purchaseOrderId?: string }; where: SimLane },
    n: number,
    of: number,
  ): void {
    const { orderId, where } = d;
    try {
      this.o.sim.apply(where.serial, { action: 'add', lane: where.lane, count: 1 });
    } catch (err) {
      // The shelf is gone (stopping) or refused the item: this delivery ends here, others go on.
      this.log.error({ err, orderId, item: n, of }, 'could not put an item on the shelf');
      return;
    }
    if (n < of) {
      this.later(this.o.itemMs, () => this.putItem(d, n + 1, of));
      return;
    }
    this.log.info({ orderId, items: of, serial: where.serial, lane: where.lane }, 'goods on the shelf');
    this.emit('delivered', { orderId, ...d.onPo, serial: where.serial, lane: where.lane, items: of });
  }
}
