/**
 * Orders in the central store. Opening is idempotent per lane and the guarantee lives in the
 * database: a partial unique index allows one live (not closed, not cancelled) order per lane, so
 * a restart, a replayed backlog or two rules instances on the same file never create a second one.
 * Every change writes its order event, its webhook outbox row and its audit row in the same
 * transaction, so the audit trail can never miss a change that was committed (nor show one that
 * was rolled back).
 *
 * A `received` order is still live (it stays listed until it closes), but its goods are on the
 * shelf: the rules open the lane's next order with `replaceReceived`, which closes it first, in the
 * same transaction.
 */
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  childLogger,
  ErrorCodes,
  Id,
  type OrderEvent,
  type OrderState,
  parseWith,
  ShelfError,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditInput } from '../store/audit.js';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';
import type { OrderListQuery, OrderRow } from '../store/orders.js';
import type { LaneRef } from '../store/readings.js';
import type { CentralStore, OrdersRepository, OutboxRepository } from '../store/repositories.js';
import { assertTransition } from './transitions.js';

/** Why an order was opened: what the rules saw (or who opened it by hand). */
export const OrderReason = z.object({
  trigger: z.enum(['rules', 'manual']),
  units: z.number().int().nonnegative().optional(),
  reorderPoint: z.number().int().nonnegative().optional(),
  orderUpTo: z.number().int().positive().optional(),
  /** Reading timestamp that completed the debounce. */
  readingTs: z.number().int().nonnegative().optional(),
  /** Free text from whoever opened it by hand. */
  note: z.string().max(500).optional(),
  /** When the lane was forecast to run out at the rules' consumption rate. */
  stockOutAt: z.number().int().nonnegative().optional(),
});
export type OrderReason = z.infer<typeof OrderReason>;

export const OpenOrderInput = z.object({
  site: Id,
  shelf: Id,
  lane: Id,
  sku: Id,
  supplier: Id,
  quantity: z.number().int().positive(),
  reason: OrderReason,
});
export type OpenOrderInput = z.infer<typeof OpenOrderInput>;

export const TransitionInput = z.object({
  /** Items actually shipped (defaults to the ordered quantity); only with `shipped`. */
  shippedQuantity: z.number().int().positive().optional(),
  /** Items counted on the shelf; only with `received`. */
  receivedQuantity: z.number().int().nonnegative().optional(),
  /** Refuse unless the order is still in this state (optimistic concurrency). */
  expectedState: z.enum(['open', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled']).optional(),
  /** Why, in the words of whoever asked (a cancellation's reason); kept in the audit trail. */
  reason: z.string().max(500).optional(),
});
export type TransitionInput = z.infer<typeof TransitionInput>;

/** An order as the store keeps it, with its reason parsed. */
export interface Order extends Omit<OrderRow, 'reason'> {
  reason: OrderReason;
}

export interface TransitionResult {
  order: Order;
  /** The event written (null when the order was already in the requested state). */
  event: OrderEvent | null;
}

export interface OpenOptions {
  /**
   * When the lane's live order is `received` (delivered, only waiting to close), close it and open
   * the new one in the same transaction instead of returning it. The rules set this: a received
   * order covers no need any more.
   */
  replaceReceived?: boolean;
}

export interface OpenResult extends TransitionResult {
  created: boolean;
  /** The `closed` event of the received order this one replaced, if any. */
  replaced: OrderEvent | null;
}

function toOrder(r: OrderRow): Order {
  return { ...r, reason: JSON.parse(r.reason) as OrderReason };
}

/** Gathers a supplier's lane orders into purchase orders (purchase-orders.ts). */
export interface OrderGatherer {
  /** True when the supplier's orders go out on purchase orders, not one webhook each. */
  gathers(supplier: string): boolean;
  /** Puts a newly opened order on its purchase order (after the order's transaction committed). */
  addNeed(order: Order, now: number): unknown;
  /** Follows each committed order event (a lane counted its delivery, an order ended). */
  onOrderEvent(event: OrderEvent): void;
  /** The purchase order an order is on, if any. */
  poOf(orderId: string): string | undefined;
}

export interface OrderServiceOptions {
  logger?: Logger;
  /** Called after each committed order event (e.g. to wake the webhook worker or publish on MQTT). */
  onEvent?: (event: OrderEvent) => void;
}

export class OrderService {
  readonly outbox: OutboxRepository;
  private readonly q: OrdersRepository;
  private readonly log: Logger | undefined;
  private readonly onEvent: ((event: OrderEvent) => void) | undefined;
  /** Set once the purchase-order service exists; null: every order is sent on its own. */
  gatherer: OrderGatherer | null = null;

  constructor(
    private readonly store: CentralStore,
    options: OrderServiceOptions = {},
  ) {
    this.outbox = store.outbox;
    this.log = options.logger && childLogger(options.logger, 'orders');
    this.onEvent = options.onEvent;
    this.q = store.orders;
  }

  /**
   * Opens an order for a lane unless the lane already has a live one, in which case that one is
   * returned with `created: false` and nothing is written (see `replaceReceived` for the exception).
   */
  openForLane(
    input: OpenOrderInput,
    now: number = Date.now(),
    actor: Actor | null = null,
    options: OpenOptions = {},
  ): OpenResult {
    const v = parseWith(OpenOrderInput, input, 'order');
    const committed = this.store.transaction((): OpenResult => {
      let replaced: OrderEvent | null = null;
      if (options.replaceReceived) {
        const prior = this.q.live(v);
        if (prior?.state === 'received') replaced = this.move(toOrder(prior), 'closed', {}, actor, now).event;
      }
      const id = `ord_${randomUUID()}`;
      const inserted = this.q.insert({
        id,
        site: v.site,
        shelf: v.shelf,
        lane: v.lane,
        sku: v.sku,
        supplier: v.supplier,
        quantity: v.quantity,
        reason: JSON.stringify(v.reason),
        now,
      });
      if (!inserted) {
        const existing = this.q.live(v) as OrderRow;
        return { order: toOrder(existing), event: null, created: false, replaced };
      }
      const order = toOrder(this.q.get(id) as OrderRow);
      const event = this.writeEvent(order, actor, now);
      this.audit(order, null, actor, now, v.reason);
      return { order, event, created: true, replaced };
    });
    if (committed.replaced) {
      this.log?.info(
        { orderId: committed.replaced.orderId, lane: laneKey(v) },
        'received order closed by the next',
      );
      this.emit(committed.replaced);
    }
    if (committed.created) {
      this.log?.info({ orderId: committed.order.id, lane: laneKey(v), quantity: v.quantity }, 'order opened');
      this.emit(committed.event);
      // A crash before this line leaves the order on no PO: the gatherer's sweep picks it up.
      if (this.gatherer?.gathers(v.supplier)) this.gatherer.addNeed(committed.order, now);
    } else {
      this.log?.debug({ orderId: committed.order.id, lane: laneKey(v) }, 'lane already has a live order');
    }
    return committed;
  }

  /**
   * Moves an order along its state machine. Illegal moves throw SHELF_ERR_TRANSITION; asking for
   * the state the order is already in returns it unchanged (so a retried request is harmless).
   */
  transition(
    id: string,
    to: OrderState,
    options: TransitionInput & { actor?: Actor | null; now?: number } = {},
  ): TransitionResult {
    const { actor = null, now = Date.now(), ...rest } = options;
    const input = parseWith(TransitionInput, rest, 'order transition');
    const result = this.store.transaction(() => {
      const order = this.require(id);
      if (input.expectedState !== undefined && order.state !== input.expectedState) {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.CONFLICT,
          `order ${id} is ${order.state}, not ${input.expectedState}`,
          [{ path: 'expectedState', message: `order is ${order.state}` }],
        );
      }
      if (order.state === to) return { order, event: null };
      assertTransition(id, order.state, to);
      if (input.shippedQuantity !== undefined && to !== 'shipped') {
        throw invalid('shippedQuantity', 'only allowed when shipping');
      }
      if (input.receivedQuantity !== undefined && to !== 'received') {
        throw invalid('receivedQuantity', 'only allowed when receiving');
      }
      return this.move(order, to, input, actor, now, input.reason);
    });
    if (result.event) {
      this.log?.info({ orderId: id, state: to, by: actor?.user }, 'order transition');
      this.emit(result.event);
    }
    return result;
  }

  /** Closes orders received at or before `receivedBefore`. Returns the events written. */
  closeReceived(receivedBefore: number, now: number = Date.now()): OrderEvent[] {
    const out: OrderEvent[] = [];
    for (const row of this.q.receivedBefore(receivedBefore)) {
      try {
        const r = this.transition(row.id, 'closed', { now, expectedState: 'received' });
        if (r.event) out.push(r.event);
      } catch (err) {
        // Closed meanwhile by someone else: nothing to do.
        this.log?.debug({ orderId: row.id, err }, 'auto-close skipped');
      }
    }
    return out;
  }

  get(id: string): Order | undefined {
    const r = this.q.get(id);
    return r ? toOrder(r) : undefined;
  }

  /** The lane's live order, if any. */
  live(ref: LaneRef): Order | undefined {
    const r = this.q.live(ref);
    return r ? toOrder(r) : undefined;
  }

  /** The lane's newest order, live or not, if it ever had one. */
  latest(ref: LaneRef): Order | undefined {
    const r = this.q.latest(ref);
    return r ? toOrder(r) : undefined;
  }

  list(q: OrderListQuery = {}): Order[] {
    return this.q.list(q).map(toOrder);
  }

  /** Every event of an order, oldest first. */
  events(orderId: string): OrderEvent[] {
    return this.q.eventBodies(orderId).map((b) => JSON.parse(b) as OrderEvent);
  }

  /** Writes a checked transition and its event; runs inside the caller's transaction. */
  private move(
    order: Order,
    to: OrderState,
    input: Pick<TransitionInput, 'shippedQuantity' | 'receivedQuantity'>,
    actor: Actor | null,
    now: number,
    reason?: string,
  ): TransitionResult & { event: OrderEvent } {
    const id = order.id;
    const shipped = to === 'shipped' ? (input.shippedQuantity ?? order.quantity) : order.shippedQuantity;
    const received =
      to === 'received'
        ? (input.receivedQuantity ?? order.shippedQuantity ?? order.quantity)
        : order.receivedQuantity;
    if (!this.q.update({ id, from: order.state, to, shipped, received, now })) {
      throw new ReplenishmentError(ReplenishmentErrorCodes.CONFLICT, `order ${id} changed meanwhile`);
    }
    const updated = this.require(id);
    const event = this.writeEvent(updated, actor, now);
    this.audit(updated, order.state, actor, now, reason === undefined ? {} : { reason });
    return { order: updated, event };
  }

  /**
   * The audit row of an order change (`order.<state>`), written in the caller's transaction with
   * the store's one prepared insert. `from` is null for a new order.
   */
  private audit(
    order: Order,
    from: OrderState | null,
    actor: Actor | null,
    now: number,
    extra: Readonly<Record<string, unknown>>,
  ): void {
    const row: AuditInput = {
      at: now,
      // No user: the rules or the shelf itself (a delivery seen by weight) moved it.
      actor: actor?.user ?? 'central',
      role: actor?.role ?? null,
      action: `order.${order.state}`,
      target: 'order',
      targetId: order.id,
      site: order.site,
      before: from === null ? null : { state: from },
      after: { state: order.state },
      detail: {
        shelf: order.shelf,
        lane: order.lane,
        sku: order.sku,
        supplier: order.supplier,
        quantity: order.quantity,
        ...(order.state === 'shipped' ? { shippedQuantity: order.shippedQuantity } : {}),
        ...(order.state === 'received' ? { receivedQuantity: order.receivedQuantity } : {}),
        ...extra,
      },
    };
    this.store.audit.append(row);
  }

  private writeEvent(order: Order, actor: Actor | null, now: number): OrderEvent {
    const event: OrderEvent = {
      eventId: `evt_${randomUUID()}`,
      // Each state is entered at most once per order, so (order, state) names the transition.
      idempotencyKey: `${order.id}:${order.state}`,
      orderId: order.id,
      state: order.state,
      site: order.site,
      shelf: order.shelf,
      lane: order.lane,
      sku: order.sku,
      supplier: order.supplier,
      quantity: order.quantity,
      receivedQuantity: order.receivedQuantity,
      ts: now,
    };
    this.q.insertEvent({
      eventId: event.eventId,
      orderId: order.id,
      state: order.state,
      actor: actor ? JSON.stringify(actor) : null,
      body: JSON.stringify(event),
      ts: now,
    });
    // A gathered order reaches its supplier on the purchase order, not on its own (also once its
    // supplier's schedule is gone).
    const g = this.gatherer;
    if (!g || (!g.gathers(order.supplier) && g.poOf(order.id) === undefined)) this.outbox.enqueue(event, now);
    return event;
  }

  private emit(event: OrderEvent | null): void {
    if (!event) return;
    try {
      this.onEvent?.(event);
      this.gatherer?.onOrderEvent(event);
    } catch (err) {
      this.log?.error({ err, eventId: event.eventId }, 'order event listener failed');
    }
  }

  private require(id: string): Order {
    const r = this.q.get(id);
    if (!r) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no order ${id}`);
    return toOrder(r);
  }
}

function invalid(path: string, message: string): ShelfError {
  return new ShelfError(ErrorCodes.INVALID, `invalid order transition: ${path}: ${message}`, [
    { path, message },
  ]);
}

function laneKey(r: LaneRef): string {
  return `${r.site}/${r.shelf}/${r.lane}`;
}
