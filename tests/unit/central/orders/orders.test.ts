import { OrderService } from '@shelfsense/central/orders';
import { isReplenishmentError, ReplenishmentErrorCodes, Store } from '@shelfsense/central/store';
import { ErrorCodes, isShelfError, type OrderEvent } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from '../store/fixtures.js';

const T0 = 1_700_000_000_000;
const supplier = { user: 'acme-bot', role: 'supplier' };

function input(lane = 'l1', quantity = 12) {
  return {
    ...LANE,
    lane,
    sku: 'cola-330',
    supplier: 'acme',
    quantity,
    reason: { trigger: 'rules' as const, units: 2, reorderPoint: 4, orderUpTo: 24 },
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

describe('orders: lifecycle, one live order per lane, outbox in the same transaction', () => {
  let tmp: TempDir;
  let store: Store;
  let orders: OrderService;
  let seen: OrderEvent[];

  beforeEach(() => {
    tmp = tempDir('shelfsense-orders-');
    store = Store.open(tmp.file());
    seen = [];
    orders = new OrderService(store, { onEvent: (e) => seen.push(e) });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('[never two orders for one need] opening twice for a lane returns the live order', () => {
    const a = orders.openForLane(input(), T0);
    expect(a.created).toBe(true);
    expect(a.order).toMatchObject({ state: 'open', quantity: 12, supplier: 'acme', createdAt: T0 });
    const b = orders.openForLane(input('l1', 6), T0 + 1);
    expect(b).toMatchObject({ created: false, event: null });
    expect(b.order.id).toBe(a.order.id);
    expect(orders.list({ ...LANE })).toHaveLength(1);
    expect(seen.map((e) => e.state)).toEqual(['open']);
  });

  it('[never two orders for one need] the database itself refuses a second live order for a lane', () => {
    orders.openForLane(input(), T0);
    const raw = store.db.prepare(
      `INSERT INTO orders (id, site, shelf, lane, sku, supplier, state, quantity, reason, created_at, updated_at)
       VALUES (?, 's1', 'a', 'l1', 'cola-330', 'acme', ?, 6, '{}', 0, 0)`,
    );
    for (const state of ['open', 'acknowledged', 'shipped', 'received']) {
      expect(() => raw.run(`x-${state}`, state)).toThrow(/UNIQUE constraint failed/);
    }
    // Final states do not count: history can hold any number of them.
    expect(() => raw.run('x-closed', 'closed')).not.toThrow();
    expect(() => raw.run('x-cancelled', 'cancelled')).not.toThrow();
  });

  it('walks open → acknowledged → shipped → received → closed, one event and one outbox row per step', () => {
    const { order } = orders.openForLane(input(), T0);
    orders.transition(order.id, 'acknowledged', { actor: supplier, now: T0 + 1 });
    orders.transition(order.id, 'shipped', { actor: supplier, now: T0 + 2, shippedQuantity: 10 });
    const rec = orders.transition(order.id, 'received', { now: T0 + 3, receivedQuantity: 10 });
    expect(rec.order).toMatchObject({
      state: 'received',
      shippedQuantity: 10,
      receivedQuantity: 10,
      version: 4,
    });
    orders.transition(order.id, 'closed', { now: T0 + 4 });

    const events = orders.events(order.id);
    expect(events.map((e) => e.state)).toEqual(['open', 'acknowledged', 'shipped', 'received', 'closed']);
    expect(events.map((e) => e.idempotencyKey)).toEqual(events.map((e) => `${order.id}:${e.state}`));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(5);
    expect(events[3]).toMatchObject({ receivedQuantity: 10, quantity: 12, ts: T0 + 3 });
    expect(seen).toEqual(events);

    const outbox = orders.outbox.list({ orderId: order.id });
    expect(outbox.map((o) => o.eventId)).toEqual(events.map((e) => e.eventId));
    expect(outbox.every((o) => o.state === 'pending' && o.supplier === 'acme')).toBe(true);
    expect(JSON.parse(outbox[2]?.body ?? '{}')).toEqual(events[2]);

    // The lane is free again once the order is final.
    expect(orders.live(LANE)).toBeUndefined();
    expect(orders.openForLane(input(), T0 + 5).created).toBe(true);
  });

  it('rejects illegal transitions with a code and changes nothing', () => {
    const { order } = orders.openForLane(input(), T0);
    expect(codeOf(() => orders.transition(order.id, 'shipped'))).toBe(ReplenishmentErrorCodes.TRANSITION);
    expect(codeOf(() => orders.transition(order.id, 'received'))).toBe(ReplenishmentErrorCodes.TRANSITION);
    expect(codeOf(() => orders.transition(order.id, 'closed'))).toBe(ReplenishmentErrorCodes.TRANSITION);
    orders.transition(order.id, 'cancelled', { actor: supplier });
    expect(codeOf(() => orders.transition(order.id, 'acknowledged'))).toBe(
      ReplenishmentErrorCodes.TRANSITION,
    );
    expect(codeOf(() => orders.transition('ord_nope', 'acknowledged'))).toBe(
      ReplenishmentErrorCodes.NOT_FOUND,
    );
    expect(orders.events(order.id).map((e) => e.state)).toEqual(['open', 'cancelled']);

    const b = orders.openForLane(input(), T0).order;
    // Optimistic check: the caller saw "open" but it is acknowledged now.
    orders.transition(b.id, 'acknowledged');
    expect(codeOf(() => orders.transition(b.id, 'shipped', { expectedState: 'open' }))).toBe(
      ReplenishmentErrorCodes.CONFLICT,
    );
    // Repeating the transition that made the current state is harmless: no new event.
    expect(orders.transition(b.id, 'acknowledged').event).toBeNull();
    // Bad input names the field.
    try {
      orders.transition(b.id, 'shipped', { shippedQuantity: -3 });
      expect.unreachable();
    } catch (err) {
      expect(isShelfError(err, ErrorCodes.INVALID)).toBe(true);
      expect((err as Error).message).toMatch(/shippedQuantity/);
    }
    expect(() => orders.openForLane({ ...input(), quantity: 0 })).toThrow(/quantity/);
    expect(isReplenishmentError(new Error('x'))).toBe(false);
  });

  it('[one need = one order] replaceReceived closes a received order and opens the next in one transaction', () => {
    const { order: first } = orders.openForLane(input(), T0);
    orders.transition(first.id, 'acknowledged', { now: T0 + 1 });
    orders.transition(first.id, 'received', { now: T0 + 2, receivedQuantity: 12 });
    // Without the option a received order is the lane's live order, as any other.
    expect(orders.openForLane(input(), T0 + 3)).toMatchObject({ created: false, replaced: null });
    expect(orders.live(LANE)?.id).toBe(first.id);
    seen.length = 0;

    const next = orders.openForLane(input('l1', 6), T0 + 4, null, { replaceReceived: true });
    expect(next).toMatchObject({ created: true, order: { state: 'open', quantity: 6 } });
    expect(next.replaced).toMatchObject({ orderId: first.id, state: 'closed', receivedQuantity: 12 });
    expect(orders.get(first.id)).toMatchObject({ state: 'closed', receivedQuantity: 12, updatedAt: T0 + 4 });
    expect(orders.live(LANE)?.id).toBe(next.order.id);
    expect(orders.latest(LANE)?.id).toBe(next.order.id);
    // Closed first, then opened: listeners and the webhook outbox see them in that order.
    expect(seen.map((e) => [e.orderId, e.state])).toEqual([
      [first.id, 'closed'],
      [next.order.id, 'open'],
    ]);
    expect(
      orders.outbox
        .list()
        .slice(-2)
        .map((o) => o.eventId),
    ).toEqual(seen.map((e) => e.eventId));

    // Asked again (a replay, a second rules instance): the new order is on its way, nothing changes.
    const again = orders.openForLane(input(), T0 + 5, null, { replaceReceived: true });
    expect(again).toMatchObject({ created: false, replaced: null, event: null });
    expect(again.order.id).toBe(next.order.id);
    expect(orders.list({ ...LANE })).toHaveLength(2);
    expect(seen).toHaveLength(2);
  });

  it('[never two orders for one need] replaceReceived leaves an order on its way alone', () => {
    const { order } = orders.openForLane(input(), T0);
    for (const step of ['open', 'acknowledged', 'shipped'] as const) {
      if (step !== 'open') orders.transition(order.id, step, { now: T0 + 1 });
      const r = orders.openForLane(input(), T0 + 2, null, { replaceReceived: true });
      expect(r).toMatchObject({ created: false, replaced: null, event: null, order: { id: order.id } });
    }
    expect(orders.list({ ...LANE })).toHaveLength(1);
    expect(orders.events(order.id).map((e) => e.state)).toEqual(['open', 'acknowledged', 'shipped']);
  });

  it('closes received orders on the sweep', () => {
    const { order } = orders.openForLane(input(), T0);
    orders.transition(order.id, 'acknowledged', { now: T0 });
    orders.transition(order.id, 'received', { now: T0 + 10, receivedQuantity: 12 });
    expect(orders.closeReceived(T0 + 9, T0 + 20)).toEqual([]);
    expect(orders.closeReceived(T0 + 10, T0 + 20).map((e) => e.state)).toEqual(['closed']);
    expect(orders.get(order.id)?.state).toBe('closed');
  });
});
