/**
 * Purchase orders on a real SQLite store: needs gathered per supplier and site until the cut-off,
 * urgent needs sent at once, one webhook per PO change, the lifecycle driving the lanes' orders,
 * receipt by the lanes' counts with discrepancies, proposals, manual lines and bad input.
 */
import { OrderService, PurchaseOrderService, shareOut } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import type { CentralConfig, PurchaseOrderEvent } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from '../store/fixtures.js';

/** Monday 5 January 2026, 10:00 UTC; the cut-off is 14:00 that day, delivery Wednesday 08:00. */
const T0 = Date.parse('2026-01-05T10:00:00Z');
const CUTOFF = Date.parse('2026-01-05T14:00:00Z');
const DELIVERY = Date.parse('2026-01-07T08:00:00Z');
const HOUR = 3_600_000;
const operator = { user: 'olga', role: 'operator' };
const supplier = { user: 'acme-bot', role: 'supplier' };

function config(): CentralConfig {
  return {
    suppliers: [
      {
        id: 'acme',
        schedule: {
          timezone: 'UTC',
          cycles: [{ cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'wed', at: '08:00' } }],
        },
      },
      { id: 'crunchy' },
    ],
    skus: [
      { id: 'cola-330', unitWeightG: 352, supplier: 'acme' },
      { id: 'fanta-330', unitWeightG: 350, supplier: 'acme' },
      { id: 'chips', unitWeightG: 120, supplier: 'crunchy' },
    ],
    sites: [{ id: 'store-1', shelves: [] }],
  } as unknown as CentralConfig;
}

function need(
  lane: string,
  sku: string,
  quantity: number,
  extra: { supplier?: string; stockOutAt?: number } = {},
) {
  return {
    site: 'store-1',
    shelf: 'shelf-a',
    lane,
    sku,
    supplier: extra.supplier ?? 'acme',
    quantity,
    reason: {
      trigger: 'rules' as const,
      units: 2,
      ...(extra.stockOutAt === undefined ? {} : { stockOutAt: extra.stockOutAt }),
    },
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('purchase orders', () => {
  let tmp: TempDir;
  let store: Store;
  let orders: OrderService;
  let pos: PurchaseOrderService;
  let events: PurchaseOrderEvent[];

  beforeEach(() => {
    tmp = tempDir('shelfsense-po-');
    store = Store.open(tmp.file());
    events = [];
    orders = new OrderService(store);
    pos = new PurchaseOrderService(store, orders, { config, onEvent: (e) => events.push(e) });
    orders.gatherer = pos;
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  /** Three needs (two lanes of cola, one of fanta) gathered on one draft, then sent at the cut-off. */
  function gatherAndSend() {
    orders.openForLane(need('L0', 'cola-330', 12), T0);
    orders.openForLane(need('L1', 'cola-330', 6), T0 + 1);
    orders.openForLane(need('L2', 'fanta-330', 24), T0 + 2);
    const [po] = pos.sendDue(CUTOFF);
    if (!po) throw new Error('nothing sent at the cut-off');
    return po;
  }

  it('[one webhook per PO] gathers a supplier’s needs at a site into one draft, sent at the cut-off', () => {
    orders.openForLane(need('L0', 'cola-330', 12), T0);
    orders.openForLane(need('L1', 'cola-330', 6), T0 + HOUR);
    orders.openForLane(need('L2', 'fanta-330', 24), T0 + 2 * HOUR);
    const [draft] = pos.list({ state: 'draft' });
    expect(draft).toMatchObject({
      site: 'store-1',
      supplier: 'acme',
      cutoffAt: CUTOFF,
      deliveryDueAt: DELIVERY,
    });
    expect(draft?.lines.map((l) => [l.sku, l.quantity])).toEqual([
      ['cola-330', 18],
      ['fanta-330', 24],
    ]);
    // The lanes' orders reach the supplier on the PO, never one by one.
    expect(store.outbox.list()).toHaveLength(0);
    expect(pos.sendDue(CUTOFF - 1)).toEqual([]);
    const sent = pos.sendDue(CUTOFF);
    expect(sent.map((p) => p.state)).toEqual(['sent']);
    const outbox = store.outbox.list();
    expect(outbox).toHaveLength(1);
    const body = JSON.parse(outbox[0]?.body ?? '{}') as PurchaseOrderEvent;
    expect(body).toMatchObject({
      type: 'purchase_order',
      state: 'sent',
      urgent: false,
      deliveryDueAt: DELIVERY,
    });
    expect(body.lines.map((l) => [l.sku, l.quantity, l.lanes.map((x) => x.lane)])).toEqual([
      ['cola-330', 18, ['L0', 'L1']],
      ['fanta-330', 24, ['L2']],
    ]);
    expect(events.map((e) => e.state)).toEqual(['sent']);
    // A need after the cut-off goes on the next cycle's draft.
    orders.closeReceived(0);
    orders.openForLane(need('L3', 'cola-330', 6), CUTOFF + 1);
    expect(pos.list({ state: 'draft' })[0]?.cutoffAt).toBe(CUTOFF + 7 * 24 * HOUR);
  });

  it('[one need = one line] a need added again (a restart, a replay) stays on its one line', () => {
    const { order } = orders.openForLane(need('L0', 'cola-330', 12), T0);
    pos.addNeed(order, T0 + 5);
    pos.addNeed(order, T0 + 6);
    expect(pos.sweep(T0 + 7)).toBe(0);
    const [draft] = pos.list({ state: 'draft' });
    expect(draft?.lines).toHaveLength(1);
    expect(draft?.lines[0]?.quantity).toBe(12);
    expect(draft?.needs.map((n) => n.orderId)).toEqual([order.id]);
    // The database refuses a second line for the need whoever asks.
    const other = pos.list({ state: 'draft' })[0]?.id as string;
    expect(() =>
      store.db
        .prepare('INSERT INTO po_needs (order_id, po_id, line_id, created_at) VALUES (?, ?, ?, ?)')
        .run(order.id, other, draft?.lines[0]?.id, T0),
    ).toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it('sweeps an order left on no PO (a crash between its commit and its gathering)', () => {
    orders.gatherer = null;
    // Without a gatherer the order would be queued on its own: take that row away as the crash did.
    const { order } = orders.openForLane(need('L0', 'cola-330', 12), T0);
    store.db.prepare('DELETE FROM webhook_outbox WHERE order_id = ?').run(order.id);
    orders.gatherer = pos;
    expect(pos.sweep(T0 + 1)).toBe(1);
    expect(pos.poOf(order.id)).toBeDefined();
    expect(pos.sweep(T0 + 2)).toBe(0);
  });

  it('sends an urgent need at once, with what the draft gathered so far', () => {
    orders.openForLane(need('L0', 'cola-330', 12), T0);
    // L1 runs out Tuesday, before Wednesday's delivery.
    orders.openForLane(need('L1', 'fanta-330', 6, { stockOutAt: T0 + 24 * HOUR }), T0 + HOUR);
    const [po] = pos.list({ state: 'sent' });
    expect(po).toMatchObject({ urgent: 1, sentAt: T0 + HOUR });
    expect(po?.lines.map((l) => l.sku)).toEqual(['cola-330', 'fanta-330']);
    expect(pos.list({ state: 'draft' })).toHaveLength(0);
    expect(JSON.parse(store.outbox.list()[0]?.body ?? '{}')).toMatchObject({ urgent: true, state: 'sent' });
    // A stock-out after the delivery is not urgent: it waits for the cut-off.
    orders.openForLane(need('L2', 'cola-330', 6, { stockOutAt: DELIVERY + HOUR }), T0 + 2 * HOUR);
    expect(pos.list({ state: 'draft' })).toHaveLength(1);
  });

  it('keeps one order per lane, each sent at once, for a supplier without a schedule', () => {
    orders.openForLane(need('L5', 'chips', 12, { supplier: 'crunchy' }), T0);
    expect(pos.gathers('crunchy')).toBe(false);
    expect(pos.list()).toHaveLength(0);
    expect(store.outbox.list().map((e) => JSON.parse(e.body).state)).toEqual(['open']);
  });

  it('drives the lanes’ orders: acknowledged, shipped with the line’s quantity shared out', () => {
    const po = gatherAndSend();
    pos.acknowledge(po.id, supplier, CUTOFF + HOUR);
    expect(orders.list().map((o) => o.state)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    // 10 of 18 cola ship: L0 (12 ordered) gets 10, L1 gets none and its order is cancelled.
    const shipped = pos.ship(po.id, [{ sku: 'cola-330', quantity: 10 }], supplier, CUTOFF + 2 * HOUR);
    expect(shipped.state).toBe('shipped');
    expect(shipped.lines.map((l) => [l.sku, l.shippedQuantity])).toEqual([
      ['cola-330', 10],
      ['fanta-330', 24],
    ]);
    expect(orders.list().map((o) => [o.lane, o.state, o.shippedQuantity])).toEqual([
      ['L0', 'shipped', 10],
      ['L1', 'cancelled', null],
      ['L2', 'shipped', 24],
    ]);
    expect(pos.events(po.id).map((e) => [e.state, e.version])).toEqual([
      ['sent', po.version],
      ['acknowledged', po.version + 1],
      ['shipped', po.version + 2],
    ]);
  });

  it('is received once every lane counted its delivery; a short line opens a discrepancy', () => {
    const po = gatherAndSend();
    pos.acknowledge(po.id, supplier, CUTOFF + HOUR);
    pos.ship(po.id, undefined, supplier, CUTOFF + 2 * HOUR);
    const [l0, l1, l2] = orders.list();
    const t = DELIVERY;
    orders.transition(l0?.id as string, 'received', { receivedQuantity: 12, now: t });
    orders.transition(l1?.id as string, 'received', { receivedQuantity: 2, now: t + 1 });
    expect(pos.get(po.id)?.state).toBe('shipped');
    orders.transition(l2?.id as string, 'received', { receivedQuantity: 24, now: t + 2 });
    const received = pos.get(po.id);
    expect(received?.state).toBe('received');
    expect(received?.lines.map((l) => [l.sku, l.receivedQuantity])).toEqual([
      ['cola-330', 14],
      ['fanta-330', 24],
    ]);
    const [d] = pos.discrepancies(po.id);
    expect(d).toMatchObject({ sku: 'cola-330', kind: 'short', expected: 18, counted: 14, state: 'open' });
    // Not closed while the discrepancy is open, even once the lanes' orders have closed.
    orders.closeReceived(t + 10, t + 10);
    expect(pos.get(po.id)?.state).toBe('received');
    expect(codeOf(() => pos.close(po.id, operator, t + 11))).toBe('SHELF_ERR_CONFLICT');
    // Re-delivery orders the 4 missing items on the next PO, and the settled PO closes.
    pos.resolve(d?.id as string, 'redeliver', 'four cans missing', operator, t + 12);
    expect(pos.get(po.id)?.state).toBe('closed');
    const [next] = pos.list({ state: 'draft' });
    expect(next?.lines.map((l) => [l.sku, l.quantity, l.manualQuantity])).toEqual([['cola-330', 4, 4]]);
    expect(codeOf(() => pos.resolve(d?.id as string, 'accept', null, operator, t + 13))).toBe(
      'SHELF_ERR_TRANSITION',
    );
    const actions = store.audit.list({ limit: 100 }).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'purchase_order.discrepancy',
        'purchase_order.discrepancy_resolved',
        'purchase_order.line_added',
        'purchase_order.closed',
      ]),
    );
  });

  it('lets the supplier propose a quantity that the operator accepts or declines, all audited', () => {
    const po = gatherAndSend();
    pos.propose(po.id, 'fanta-330', 30, 'full trays only', supplier, CUTOFF + 1);
    expect(pos.get(po.id)?.lines[1]?.proposedQuantity).toBe(30);
    const accepted = pos.decide(po.id, 'fanta-330', true, null, operator, CUTOFF + 2);
    expect(accepted.lines[1]).toMatchObject({ quantity: 30, proposedQuantity: null });
    // The supplier is sent the revised PO, a new version.
    const last = pos.events(po.id).at(-1);
    expect(last).toMatchObject({ state: 'sent', version: accepted.version });
    expect(last?.lines[1]?.quantity).toBe(30);
    pos.propose(po.id, 'cola-330', 100, null, supplier, CUTOFF + 3);
    expect(pos.decide(po.id, 'cola-330', false, 'too many', operator, CUTOFF + 4).lines[0]?.quantity).toBe(
      18,
    );
    expect(codeOf(() => pos.decide(po.id, 'cola-330', true, null, operator, CUTOFF + 5))).toBe(
      'SHELF_ERR_TRANSITION',
    );
    const actions = store.audit.list({ limit: 100 }).map((a) => a.action);
    expect(actions.filter((a) => a === 'purchase_order.proposed')).toHaveLength(2);
    expect(actions).toEqual(expect.arrayContaining(['purchase_order.accepted', 'purchase_order.declined']));
    pos.acknowledge(po.id, supplier, CUTOFF + 6);
    expect(codeOf(() => pos.propose(po.id, 'cola-330', 20, null, supplier, CUTOFF + 7))).toBe(
      'SHELF_ERR_TRANSITION',
    );
  });

  it('adds a manual line to the draft, and sends it at once for a supplier without a schedule', () => {
    const po = pos.addManualLine(
      { site: 'store-1', supplier: 'acme', sku: 'cola-330', quantity: 6, reason: 'promotion' },
      operator,
      T0,
    );
    expect(po).toMatchObject({ state: 'draft' });
    expect(po.lines.map((l) => [l.sku, l.quantity, l.manualQuantity])).toEqual([['cola-330', 6, 6]]);
    const at = pos.addManualLine(
      { site: 'store-1', supplier: 'crunchy', sku: 'chips', quantity: 12, reason: 'party' },
      operator,
      T0,
    );
    expect(at.state).toBe('sent');
    expect(store.audit.list({ limit: 10 }).some((a) => a.detail?.['reason'] === 'party')).toBe(true);
  });

  it('refuses bad input with a clear error and changes nothing', () => {
    const before = JSON.stringify(pos.list());
    // A SKU the supplier does not supply, an unknown SKU, an unknown site.
    expect(() =>
      pos.addManualLine(
        { site: 'store-1', supplier: 'acme', sku: 'chips', quantity: 1, reason: 'x' },
        operator,
        T0,
      ),
    ).toThrow(/acme does not supply chips/);
    expect(
      codeOf(() =>
        pos.addManualLine(
          { site: 'store-1', supplier: 'acme', sku: 'nope', quantity: 1, reason: 'x' },
          operator,
          T0,
        ),
      ),
    ).toBe('SHELF_ERR_INVALID');
    expect(
      codeOf(() =>
        pos.addManualLine(
          { site: 'mars', supplier: 'acme', sku: 'cola-330', quantity: 1, reason: 'x' },
          operator,
          T0,
        ),
      ),
    ).toBe('SHELF_ERR_INVALID');
    expect(JSON.stringify(pos.list())).toBe(before);
    // Out of order: shipping a draft, acknowledging a shipped PO, receiving before anything shipped.
    orders.openForLane(need('L0', 'cola-330', 12), T0);
    const draft = pos.list({ state: 'draft' })[0]?.id as string;
    expect(codeOf(() => pos.ship(draft, undefined, supplier, T0 + 1))).toBe('SHELF_ERR_TRANSITION');
    expect(pos.get(draft)?.state).toBe('draft');
    const [sent] = pos.sendDue(CUTOFF);
    expect(codeOf(() => pos.ship(sent?.id as string, undefined, supplier, CUTOFF + 1))).toBe(
      'SHELF_ERR_TRANSITION',
    );
    expect(
      codeOf(() => pos.receive(sent?.id as string, [{ sku: 'cola-330', quantity: 1 }], operator, CUTOFF)),
    ).toBe('SHELF_ERR_TRANSITION');
    pos.acknowledge(sent?.id as string, supplier, CUTOFF + 2);
    // A line that is not on the PO, named by its index.
    expect(() =>
      pos.ship(sent?.id as string, [{ sku: 'fanta-330', quantity: 1 }], supplier, CUTOFF + 3),
    ).toThrow(/lines\.0\.sku/);
    expect(pos.get(sent?.id as string)?.state).toBe('acknowledged');
    expect(orders.list()[0]?.state).toBe('acknowledged');
    expect(pos.events(sent?.id as string).map((e) => e.state)).toEqual(['sent', 'acknowledged']);
  });

  it('cancels a PO and its lanes’ orders, so the needs come back', () => {
    const po = gatherAndSend();
    pos.cancel(po.id, operator, CUTOFF + 1, 'store closed for works');
    expect(orders.list().every((o) => o.state === 'cancelled')).toBe(true);
    expect(pos.events(po.id).map((e) => e.state)).toEqual(['sent', 'cancelled']);
    expect(codeOf(() => pos.acknowledge(po.id, supplier, CUTOFF + 2))).toBe('SHELF_ERR_TRANSITION');
  });

  it('shares a shipped quantity out over lanes in order, the surplus to the last', () => {
    const lanes = [{ quantity: 12 }, { quantity: 6 }];
    expect(shareOut(18, lanes).map(([, q]) => q)).toEqual([12, 6]);
    expect(shareOut(10, lanes).map(([, q]) => q)).toEqual([10, 0]);
    expect(shareOut(20, lanes).map(([, q]) => q)).toEqual([12, 8]);
    expect(shareOut(0, lanes).map(([, q]) => q)).toEqual([0, 0]);
  });
});
