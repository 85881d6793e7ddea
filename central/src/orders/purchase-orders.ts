/**
 * Purchase orders: the lane needs of one supplier at one site, gathered into one PO per delivery
 * cycle (the supplier's `schedule` in the catalogue) and sent at the cycle's cut-off, or at once
 * when a lane would run out before the cycle's goods arrive. Suppliers without a schedule keep one
 * order per lane, each sent as it opens.
 *
 * A lane need is the lane's order (orders.ts): it keeps its one-live-per-lane guarantee, its own
 * states and its receipt by weight, and it joins one line of one PO, ever (the store's `po_needs`
 * is keyed by the order). The PO drives its needs (acknowledged, shipped with the line's
 * quantities, cancelled) and follows them back: once every line is counted it is received, a line
 * counted different from what shipped opens a discrepancy, and it closes once its needs have and
 * no discrepancy is open. Each PO change writes its event, its webhook outbox row and its audit row
 * in one transaction; one webhook per PO change, none per lane.
 */
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  type CentralConfig,
  childLogger,
  type DeliverySchedule,
  ErrorCodes,
  type OrderEvent,
  type PurchaseOrderEvent,
  type PurchaseOrderState,
  ShelfError,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';
import type {
  DiscrepancyKind,
  DiscrepancyResolution,
  DiscrepancyRow,
  PoLineRow,
  PoNeedRow,
  PoRow,
} from '../store/purchase-orders.js';
import type { CentralStore, PurchaseOrdersRepository } from '../store/repositories.js';
import { LearnedLeadTimes, type LearnedLeadTimeView } from './learned-lead-times.js';
import type { Order, OrderService } from './orders.js';
import { purchaseOrderEvent } from './purchase-order-body.js';
import { isUrgent, nextCycle } from './schedule.js';

/** A lane weighing this far (in items) from a whole count after a delivery holds something else. */
const WRONG_ITEM_FRACTION = 0.3;

/** Which moves people (or the shelf) may make. */
export const PO_TRANSITIONS: Readonly<Record<PurchaseOrderState, readonly PurchaseOrderState[]>> = {
  draft: ['sent', 'cancelled'],
  sent: ['acknowledged', 'cancelled'],
  acknowledged: ['shipped', 'received', 'cancelled'],
  shipped: ['received'],
  received: ['closed'],
  closed: [],
  cancelled: [],
};

export { type LearnedLeadTimeView, nominalLeadTime } from './learned-lead-times.js';
export { purchaseOrderEvent, purchaseOrderView } from './purchase-order-body.js';

export interface PurchaseOrder extends PoRow {
  lines: PoLineRow[];
  needs: PoNeedRow[];
}

export interface PurchaseOrderServiceOptions {
  /** The settings in force (the catalogue's suppliers and SKUs); read at each call. */
  config: () => Readonly<CentralConfig>;
  logger?: Logger;
  /** Called after each committed PO event (e.g. to wake the webhook worker or notify people). */
  onEvent?: (event: PurchaseOrderEvent) => void;
  /** Called after a discrepancy opens. */
  onDiscrepancy?: (d: DiscrepancyRow) => void;
}

export interface ShipLine {
  sku: string;
  quantity: number;
}

/** A manual line's input, validated at the HTTP boundary. */
export interface ManualLine {
  site: string;
  supplier: string;
  sku: string;
  quantity: number;
  reason: string;
}

export class PurchaseOrderService {
  private readonly q: PurchaseOrdersRepository;
  private readonly log: Logger | undefined;
  private readonly pending: PurchaseOrderEvent[] = [];
  private readonly learned: LearnedLeadTimes;
  private readonly opened: DiscrepancyRow[] = [];

  constructor(
    private readonly store: CentralStore,
    private readonly orders: OrderService,
    private readonly options: PurchaseOrderServiceOptions,
  ) {
    this.q = store.purchaseOrders;
    this.learned = new LearnedLeadTimes(this.q, (supplier) => this.schedule(supplier));
    this.log = options.logger && childLogger(options.logger, 'purchase-orders');
  }

  /** The supplier's delivery schedule, when its needs are gathered into POs. */
  schedule(supplier: string): DeliverySchedule | undefined {
    return this.options.config().suppliers.find((s) => s.id === supplier)?.schedule;
  }

  /** True when the supplier's lane orders are gathered into POs (and sent as such, not one by one). */
  gathers(supplier: string): boolean {
    return this.schedule(supplier) !== undefined;
  }

  /**
   * Puts a new lane order on its site and supplier's draft PO for the next cut-off, creating the
   * draft. `urgent` (the lane runs out before that cycle's delivery) sends the draft at once.
   * Returns the PO, or null when the supplier has no schedule. A need already on a PO stays there.
   */
  addNeed(order: Order, now: number, urgent?: boolean): PurchaseOrder | null {
    const schedule = this.schedule(order.supplier);
    if (!schedule) return null;
    urgent ??= isUrgent(schedule, now, order.reason.stockOutAt ?? null);
    const po = this.commit(() => {
      const known = this.q.needOf(order.id);
      if (known) return this.require(known.poId);
      const draft = this.draftFor(order.site, order.supplier, schedule, now);
      const lineId = this.q.addToLine(draft.id, order.sku, order.quantity, 0);
      this.q.addNeed(order.id, draft.id, lineId, now);
      this.touch(draft.id, now);
      if (urgent) {
        this.q.markUrgent(draft.id, now);
        return this.move(this.require(draft.id), 'sent', null, now, { reason: 'urgent' });
      }
      return this.require(draft.id);
    });
    this.log?.info(
      { poId: po.id, orderId: order.id, sku: order.sku, quantity: order.quantity, urgent, state: po.state },
      'need added to purchase order',
    );
    return po;
  }

  /** An operator orders by hand: adds to the SKU's line on the draft (created if none). */
  addManualLine(input: ManualLine, actor: Actor, now: number): PurchaseOrder {
    const cfg = this.options.config();
    const sku = cfg.skus.find((s) => s.id === input.sku);
    if (!sku) throw invalid('sku', `unknown SKU "${input.sku}"`);
    if (sku.supplier !== input.supplier) {
      throw invalid('sku', `supplier ${input.supplier} does not supply ${input.sku} (${sku.supplier} does)`);
    }
    if (!cfg.sites.some((s) => s.id === input.site)) throw invalid('site', `unknown site "${input.site}"`);
    const schedule = this.schedule(input.supplier);
    const po = this.commit(() => {
      // A supplier without a schedule takes each order at once: the manual line goes out now.
      const draft = this.draftFor(input.site, input.supplier, schedule, now);
      this.q.addToLine(draft.id, input.sku, input.quantity, input.quantity);
      this.touch(draft.id, now);
      this.audit('purchase_order.line_added', draft, actor, now, {
        sku: input.sku,
        quantity: input.quantity,
        reason: input.reason,
      });
      if (!schedule) return this.move(this.require(draft.id), 'sent', actor, now, {});
      return this.require(draft.id);
    });
    this.log?.info(
      { poId: po.id, sku: input.sku, quantity: input.quantity, by: actor.user },
      'manual line added',
    );
    return po;
  }

  /**
   * Puts on their POs the open orders of gathering suppliers that are on none and were never sent
   * on their own (a crash between an order's commit and its gathering); returns how many.
   */
  sweep(now: number): number {
    let n = 0;
    for (const id of this.q.unattached(1_000)) {
      const order = this.orders.get(id);
      if (!order || !this.gathers(order.supplier)) continue;
      this.addNeed(order, now);
      n++;
    }
    return n;
  }

  /** Sends every draft whose cut-off has come (empty ones are cancelled); returns the POs sent. */
  sendDue(now: number): PurchaseOrder[] {
    this.sweep(now);
    const sent: PurchaseOrder[] = [];
    for (const row of this.q.dueDrafts(now)) {
      try {
        const po = this.commit(() => {
          const p = this.require(row.id);
          if (p.state !== 'draft') return null;
          if (p.lines.every((l) => l.quantity === 0)) {
            return this.move(p, 'cancelled', null, now, { reason: 'nothing to order at the cut-off' });
          }
          return this.move(p, 'sent', null, now, {});
        });
        if (po?.state === 'sent') sent.push(po);
      } catch (err) {
        // Another process sent it first (every worker of a cluster runs the cut-off timer).
        const raced = (err as { code?: string }).code === ReplenishmentErrorCodes.CONFLICT;
        if (raced) this.log?.debug({ poId: row.id }, 'purchase order sent by another process');
        else this.log?.error({ err, poId: row.id }, 'purchase order not sent');
      }
    }
    return sent;
  }

  /** Sends a draft before its cut-off (a store manager who will not wait). */
  sendNow(id: string, actor: Actor, now: number): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state === 'sent') return po;
      this.assertMove(po, 'sent');
      if (po.lines.every((l) => l.quantity === 0)) {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.CONFLICT,
          `purchase order ${id} has nothing to order`,
          [{ path: 'lines', message: 'empty' }],
        );
      }
      return this.move(po, 'sent', actor, now, { early: true });
    });
  }

  /** The PO a lane order is on, if any. */
  poOf(orderId: string): string | undefined {
    return this.q.needOf(orderId)?.poId;
  }

  /** The earliest cut-off a draft waits for (null when none). */
  nextCutoff(): number | null {
    return this.q.nextCutoff();
  }

  acknowledge(id: string, actor: Actor | null, now: number): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state === 'acknowledged') return po;
      this.assertMove(po, 'acknowledged');
      for (const n of po.needs) {
        if (n.orderState === 'open') this.orders.transition(n.orderId, 'acknowledged', { actor, now });
      }
      return this.move(po, 'acknowledged', actor, now, {});
    });
  }

  /**
   * The supplier ships: per SKU, the quantity on its way (default: as ordered), shared out over
   * the line's lanes in order; a lane that gets nothing has its order cancelled, so its need comes
   * back in the next cycle.
   */
  ship(id: string, lines: readonly ShipLine[] | undefined, actor: Actor | null, now: number): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state === 'shipped') return po;
      this.assertMove(po, 'shipped');
      const given = new Map<string, number>();
      for (const [i, l] of (lines ?? []).entries()) {
        if (!po.lines.some((x) => x.sku === l.sku)) {
          throw invalid(`lines.${i}.sku`, `${l.sku} is not on purchase order ${id}`);
        }
        if (given.has(l.sku)) throw invalid(`lines.${i}.sku`, `${l.sku} is listed twice`);
        given.set(l.sku, l.quantity);
      }
      for (const line of po.lines) {
        const shipped = given.get(line.sku) ?? line.quantity;
        this.q.setLineShipped(line.id, shipped);
        const needs = po.needs.filter((n) => n.lineId === line.id && n.orderState !== 'cancelled');
        for (const [n, q] of shareOut(shipped, needs)) {
          if (q > 0) this.orders.transition(n.orderId, 'shipped', { actor, now, shippedQuantity: q });
          else this.orders.transition(n.orderId, 'cancelled', { actor, now, reason: `not shipped on ${id}` });
        }
      }
      return this.move(this.require(id), 'shipped', actor, now, given.size ? { lines: [...given] } : {});
    });
  }

  /** Cancels a PO that has not shipped, and its lanes' orders. */
  cancel(id: string, actor: Actor | null, now: number, reason?: string): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state === 'cancelled') return po;
      this.assertMove(po, 'cancelled');
      for (const n of po.needs) {
        if (n.orderState === 'open' || n.orderState === 'acknowledged') {
          this.orders.transition(n.orderId, 'cancelled', {
            actor,
            now,
            reason: reason ?? `purchase order ${id} cancelled`,
          });
        }
      }
      return this.move(po, 'cancelled', actor, now, reason === undefined ? {} : { reason });
    });
  }

  /**
   * Lines counted by hand (a line with no lane, or a delivery the shelf cannot weigh): sets each
   * line's received quantity, then settles the PO as the shelf would.
   */
  receive(id: string, lines: readonly ShipLine[], actor: Actor, now: number): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state !== 'shipped' && po.state !== 'acknowledged') {
        throw transition(id, po.state, 'received');
      }
      for (const [i, l] of lines.entries()) {
        const line = po.lines.find((x) => x.sku === l.sku);
        if (!line) throw invalid(`lines.${i}.sku`, `${l.sku} is not on purchase order ${id}`);
        this.q.setLineReceived(line.id, l.quantity);
      }
      this.audit('purchase_order.counted', po, actor, now, { lines: lines.map((l) => [l.sku, l.quantity]) });
      return this.settle(this.require(id), actor, now);
    });
  }

  /** Closes a received PO by hand (refused while a discrepancy is open). */
  close(id: string, actor: Actor | null, now: number): PurchaseOrder {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state === 'closed') return po;
      this.assertMove(po, 'closed');
      const open = this.q.discrepanciesOf(id).filter((d) => d.state === 'open');
      if (open.length > 0) {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.CONFLICT,
          `purchase order ${id} has ${open.length} open discrepancy(ies): resolve them first`,
          [{ path: 'discrepancies', message: open.map((d) => d.id).join(', ') }],
        );
      }
      return this.move(po, 'closed', actor, now, {});
    });
  }

  /**
   * Follows a lane order's event: a lane counted its delivery (received) or its order ended. A
   * need's order ends on its own too (auto-close after receipt, a catalogue change).
   */
  onOrderEvent(event: OrderEvent): void {
    if (!['received', 'closed', 'cancelled'].includes(event.state)) return;
    const need = this.q.needOf(event.orderId);
    if (!need) return;
    try {
      this.commit(() => this.settle(this.require(need.poId), null, event.ts));
    } catch (err) {
      this.log?.error({ err, poId: need.poId, orderId: event.orderId }, 'purchase order not settled');
    }
  }

  /** The supplier proposes another quantity for a line of a PO it has not yet acknowledged. */
  propose(id: string, sku: string, quantity: number, note: string | null, actor: Actor, now: number) {
    return this.commit(() => {
      const po = this.require(id);
      if (po.state !== 'sent') {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.TRANSITION,
          `purchase order ${id} is ${po.state}: quantities can be proposed only while it is sent`,
          [{ path: 'state', message: `is ${po.state}` }],
        );
      }
      const line = this.line(po, sku);
      this.q.setProposal(line.id, { quantity, note, by: actor.user, at: now });
      this.audit('purchase_order.proposed', po, actor, now, { sku, from: line.quantity, to: quantity, note });
      return this.require(id);
    });
  }

  /** The operator accepts (the line takes the quantity) or declines a supplier's proposal. */
  decide(id: string, sku: string, accept: boolean, note: string | null, actor: Actor, now: number) {
    return this.commit(() => {
      const po = this.require(id);
      const line = this.line(po, sku);
      if (line.proposedQuantity === null) {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.TRANSITION,
          `line ${sku} of purchase order ${id} has no proposal to decide`,
          [{ path: 'sku', message: 'no proposal' }],
        );
      }
      if (po.state !== 'sent') throw transition(id, po.state, 'sent');
      const to = line.proposedQuantity;
      this.q.setProposal(line.id, null);
      if (accept) this.q.setLineQuantity(line.id, to);
      this.audit(accept ? 'purchase_order.accepted' : 'purchase_order.declined', po, actor, now, {
        sku,
        from: line.quantity,
        proposed: to,
        note,
      });
      if (!accept) return this.require(id);
      this.touch(id, now);
      // The supplier is told the revised PO: the same state, a new version.
      const revised = this.require(id);
      this.writeEvent(revised, actor, now);
      return revised;
    });
  }

  /** Resolves an open discrepancy; a settled PO may then close. */
  resolve(
    discrepancyId: string,
    resolution: DiscrepancyResolution,
    note: string | null,
    actor: Actor,
    now: number,
  ): DiscrepancyRow {
    return this.commit(() => {
      const d = this.q.discrepancy(discrepancyId);
      if (!d) {
        throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no discrepancy ${discrepancyId}`);
      }
      if (!this.q.resolveDiscrepancy(discrepancyId, { resolution, note, by: actor.user, now })) {
        throw new ReplenishmentError(
          ReplenishmentErrorCodes.TRANSITION,
          `discrepancy ${discrepancyId} is already resolved (${d.resolution})`,
          [{ path: 'state', message: 'resolved' }],
        );
      }
      const po = this.require(d.poId);
      this.audit('purchase_order.discrepancy_resolved', po, actor, now, {
        discrepancy: d.id,
        sku: d.sku,
        resolution,
        note,
      });
      if (resolution === 'redeliver' && d.counted < d.expected) {
        // The missing items come on the site's next PO, as a line added by hand.
        const draft = this.draftFor(po.site, po.supplier, this.schedule(po.supplier), now);
        this.q.addToLine(draft.id, d.sku, d.expected - d.counted, d.expected - d.counted);
        this.touch(draft.id, now);
        this.audit('purchase_order.line_added', draft, actor, now, {
          sku: d.sku,
          quantity: d.expected - d.counted,
          reason: `redelivery for ${po.id}`,
        });
        if (!this.schedule(po.supplier)) this.move(this.require(draft.id), 'sent', actor, now, {});
      }
      this.settle(this.require(d.poId), actor, now);
      return this.q.discrepancy(discrepancyId) as DiscrepancyRow;
    });
  }

  get(id: string): PurchaseOrder | undefined {
    const row = this.q.get(id);
    return row && this.withLines(row);
  }

  list(q: Parameters<PurchaseOrdersRepository['list']>[0] = {}): PurchaseOrder[] {
    return this.q.list(q).map((r) => this.withLines(r));
  }

  discrepancies(poId: string): DiscrepancyRow[] {
    return this.q.discrepanciesOf(poId);
  }

  discrepancy(id: string): DiscrepancyRow | undefined {
    return this.q.discrepancy(id);
  }

  /** Every discrepancy, oldest first. */
  allDiscrepancies(limit = 100_000): DiscrepancyRow[] {
    return this.q.discrepancies(limit);
  }

  /** Every event of a PO, oldest first. */
  events(id: string): PurchaseOrderEvent[] {
    return this.q.eventBodies(id).map((b) => JSON.parse(b) as PurchaseOrderEvent);
  }

  /**
   * The supplier's lead time at the site, learned from its delivered POs (sent → counted on the
   * shelf) starting from the schedule's nominal cut-off → delivery time; null with neither.
   */
  learnedLeadTime(site: string, supplier: string, now: number = Date.now()): LearnedLeadTimeView | null {
    return this.learned.get(site, supplier, now);
  }

  /** Sent and received times of the site and supplier's delivered POs, newest first. */
  leadTimes(site: string, supplier: string, limit = 50): { sentAt: number; receivedAt: number }[] {
    return this.q.leadTimes(site, supplier, limit);
  }

  // --- inside transactions -------------------------------------------------------------------

  /**
   * Moves a PO once all its needs have been counted: received (with a discrepancy per line counted
   * different from what shipped), then closed once every need's order has ended and no
   * discrepancy is open.
   */
  private settle(po: PurchaseOrder, actor: Actor | null, now: number): PurchaseOrder {
    let p = po;
    if (p.state === 'shipped' || p.state === 'acknowledged') {
      for (const line of p.lines) {
        const needs = p.needs.filter((n) => n.lineId === line.id && n.orderState !== 'cancelled');
        if (needs.length > 0 && needs.every((n) => n.receivedQuantity !== null)) {
          this.q.setLineReceived(line.id, sum(needs.map((n) => n.receivedQuantity ?? 0)));
        }
      }
      p = this.require(p.id);
      const counted = p.lines.filter((l) => l.quantity > 0 || (l.shippedQuantity ?? 0) > 0);
      if (counted.length === 0 || !counted.every((l) => l.receivedQuantity !== null)) return p;
      for (const line of counted) {
        const expected = line.shippedQuantity ?? line.quantity;
        const got = line.receivedQuantity ?? 0;
        const wrong = this.wrongItem(p, line);
        if (got === expected && !wrong) continue;
        const d = {
          id: `dis_${randomUUID()}`,
          poId: p.id,
          sku: line.sku,
          kind: (wrong ? 'wrong-item' : got < expected ? 'short' : 'over') as DiscrepancyKind,
          expected,
          counted: got,
          now,
        };
        if (this.q.openDiscrepancy(d)) {
          this.opened.push(this.q.discrepancy(d.id) as DiscrepancyRow);
          this.audit('purchase_order.discrepancy', p, actor, now, {
            discrepancy: d.id,
            sku: d.sku,
            kind: d.kind,
            expected,
            counted: got,
          });
        }
      }
      p = this.move(p, 'received', actor, now, {});
      this.learned.forget(p.site, p.supplier);
    }
    if (p.state === 'received') {
      const ended = p.needs.every((n) => n.orderState === 'closed' || n.orderState === 'cancelled');
      const open = this.q.discrepanciesOf(p.id).some((d) => d.state === 'open');
      if (ended && !open) p = this.move(p, 'closed', actor, now, {});
    }
    return p;
  }

  /**
   * Whether a lane of the line now weighs no whole number of the SKU's items (more than
   * WRONG_ITEM_FRACTION of one item off): goods of another weight were put on it.
   */
  private wrongItem(po: PurchaseOrder, line: PoLineRow): boolean {
    const unit = this.options.config().skus.find((s) => s.id === line.sku)?.unitWeightG;
    if (!unit) return false;
    return po.needs
      .filter((n) => n.lineId === line.id && n.receivedQuantity !== null)
      .some((n) => {
        const [latest] = this.store.history.latest({ site: po.site, shelf: n.shelf, lane: n.lane });
        const level = latest?.level;
        if (!level?.stable) return false;
        return Math.abs(level.grams / unit - level.units) > WRONG_ITEM_FRACTION;
      });
  }

  private draftFor(
    site: string,
    supplier: string,
    schedule: DeliverySchedule | undefined,
    now: number,
  ): PoRow {
    const existing = this.q.draft(site, supplier);
    if (existing) return existing;
    const cycle = schedule ? nextCycle(schedule, now) : null;
    const id = `po_${randomUUID()}`;
    this.q.insert({
      id,
      site,
      supplier,
      cutoffAt: cycle?.cutoffAt ?? now,
      deliveryDueAt: cycle?.deliveryAt ?? null,
      now,
    });
    const row = this.q.get(id) as PoRow;
    this.audit('purchase_order.draft', row, null, now, { cutoffAt: row.cutoffAt });
    return row;
  }

  private move(
    po: PoRow,
    to: PurchaseOrderState,
    actor: Actor | null,
    now: number,
    extra: Readonly<Record<string, unknown>>,
  ): PurchaseOrder {
    this.assertMove(po, to);
    if (!this.q.move(po.id, po.state, to, now)) {
      throw new ReplenishmentError(
        ReplenishmentErrorCodes.CONFLICT,
        `purchase order ${po.id} changed meanwhile`,
      );
    }
    const moved = this.require(po.id);
    this.audit(`purchase_order.${to}`, moved, actor, now, { from: po.state, ...extra });
    if (to !== 'draft') this.writeEvent(moved, actor, now);
    return moved;
  }

  private assertMove(po: PoRow, to: PurchaseOrderState): void {
    if (!PO_TRANSITIONS[po.state].includes(to)) throw transition(po.id, po.state, to);
  }

  /** A changed PO: its version names each revision the supplier is sent. */
  private touch(id: string, now: number): void {
    this.q.touch(id, now);
  }

  private writeEvent(po: PurchaseOrder, actor: Actor | null, now: number): void {
    const event = purchaseOrderEvent(po, now);
    this.q.insertEvent({
      eventId: event.eventId,
      poId: po.id,
      state: po.state,
      actor: actor ? JSON.stringify(actor) : null,
      body: JSON.stringify(event),
      ts: now,
    });
    this.store.outbox.enqueue(event, now);
    this.pending.push(event);
  }

  private audit(
    action: string,
    po: PoRow,
    actor: Actor | null,
    now: number,
    detail: Readonly<Record<string, unknown>>,
  ): void {
    this.store.audit.append({
      at: now,
      actor: actor?.user ?? 'central',
      role: actor?.role ?? null,
      action,
      target: 'purchase_order',
      targetId: po.id,
      site: po.site,
      before: null,
      after: { state: po.state },
      detail: { supplier: po.supplier, ...detail },
    });
  }

  private line(po: PurchaseOrder, sku: string): PoLineRow {
    const line = po.lines.find((l) => l.sku === sku);
    if (!line) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no line ${sku} on ${po.id}`);
    return line;
  }

  private require(id: string): PurchaseOrder {
    const row = this.q.get(id);
    if (!row) throw new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, `no purchase order ${id}`);
    return this.withLines(row);
  }

  private withLines(row: PoRow): PurchaseOrder {
    return { ...row, lines: this.q.lines(row.id), needs: this.q.needs(row.id) };
  }

  /** Runs `fn` in one transaction, then tells the listeners what it committed (never on rollback). */
  private commit<T>(fn: () => T): T {
    const outer = this.pending.length === 0 && this.opened.length === 0;
    let out: T;
    try {
      out = this.store.transaction(fn);
    } catch (err) {
      if (outer) {
        this.pending.length = 0;
        this.opened.length = 0;
      }
      throw err;
    }
    if (outer) {
      const events = this.pending.splice(0);
      const opened = this.opened.splice(0);
      for (const e of events) {
        this.log?.info({ poId: e.purchaseOrderId, state: e.state, urgent: e.urgent }, 'purchase order event');
        safely(this.log, () => this.options.onEvent?.(e));
      }
      for (const d of opened) {
        this.log?.warn(
          { poId: d.poId, sku: d.sku, kind: d.kind, expected: d.expected, counted: d.counted },
          'receipt discrepancy',
        );
        safely(this.log, () => this.options.onDiscrepancy?.(d));
      }
    }
    return out;
  }
}

/** Shares `total` out over the needs in order, each up to its quantity, the rest to the last. */
export function shareOut<T extends { quantity: number }>(total: number, needs: readonly T[]): [T, number][] {
  let left = total;
  const out: [T, number][] = needs.map((n) => {
    const q = Math.min(n.quantity, left);
    left -= q;
    return [n, q];
  });
  const last = out[out.length - 1];
  if (last && left > 0) last[1] += left;
  return out;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function safely(log: Logger | undefined, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log?.error({ err }, 'purchase order listener failed');
  }
}

function invalid(path: string, message: string): ShelfError {
  return new ShelfError(ErrorCodes.INVALID, `invalid purchase order input: ${path}: ${message}`, [
    { path, message },
  ]);
}

function transition(id: string, from: PurchaseOrderState, to: PurchaseOrderState): ReplenishmentError {
  const allowed = PO_TRANSITIONS[from];
  return new ReplenishmentError(
    ReplenishmentErrorCodes.TRANSITION,
    `purchase order ${id} is ${from}: cannot go to ${to}` +
      (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (it is final)'),
    [{ path: 'state', message: `cannot go from ${from} to ${to}` }],
  );
}
