import { matchesDelivery, receiptTolerance } from '@shelfsense/central/orders';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, L1, L2 } from '../rules/harness.js';

const S = 1_000;
const tol = { toleranceItems: 1, toleranceFraction: 0.1 };

describe('orders: receipt tolerance', () => {
  it('tolerance is the larger of an item count and a fraction of the shipped quantity', () => {
    expect(receiptTolerance(24, tol)).toBe(3);
    expect(receiptTolerance(6, tol)).toBe(1);
    expect(matchesDelivery(21, 24, tol)).toBe(true);
    expect(matchesDelivery(20, 24, tol)).toBe(false);
    expect(matchesDelivery(27, 24, tol)).toBe(true);
    expect(matchesDelivery(0, 0, tol)).toBe(false);
  });
});

describe('orders: weight-confirmed goods receipt', () => {
  let h: Harness;
  afterEach(() => h.close());

  /** Opens an order on l1 (3 on the shelf → 24 ordered unless orderUpTo says otherwise) and ships it. */
  function shipped(orderUpTo = 24, state: 'shipped' | 'acknowledged' = 'shipped', shippedQuantity?: number) {
    h = harness({
      defaults: {
        reorderPoint: 4,
        orderUpTo,
        packSize: orderUpTo === 24 ? 6 : 1,
        debounceMs: 0,
        hysteresis: 1,
      },
      receipt: { toleranceItems: 1, toleranceFraction: 0.1, moveWindowMs: '10s', windowMs: '30m' },
    });
    h.feed(h.level(10, 0, {}, L2), h.level(3, 0));
    const order = h.orders.live(L1);
    if (!order) throw new Error('no order opened');
    h.orders.transition(order.id, 'acknowledged');
    if (state === 'shipped') h.orders.transition(order.id, 'shipped', { shippedQuantity });
    return order.id;
  }

  it('a restock within tolerance of the shipped quantity marks the order received with the counted quantity', () => {
    const id = shipped();
    h.feed(h.event('restock', 22, 25, 100 * S), h.level(25, 100 * S));
    // Not yet: a pick next door could still show it was an item moved.
    expect(h.orders.get(id)?.state).toBe('shipped');
    h.feed(h.level(25, 111 * S));
    expect(h.orders.get(id)).toMatchObject({ state: 'closed', receivedQuantity: 22 });
    expect(h.orders.events(id).map((e) => e.state)).toEqual([
      'open',
      'acknowledged',
      'shipped',
      'received',
      'closed',
    ]);
    expect(h.orders.events(id)[3]?.receivedQuantity).toBe(22);
    // Receipt re-arms the lane: the next dip orders again.
    h.feed(h.level(3, 200 * S));
    expect(h.orders.live(L1)?.id).not.toBe(id);
  });

  it('a delivery shelved in several handfuls adds up; a gain far off the shipped quantity does not count', () => {
    const id = shipped(24, 'shipped', 18);
    h.feed(h.event('restock', 5, 8, 100 * S), h.level(8, 100 * S), h.level(8, 120 * S));
    expect(h.orders.get(id)?.state).toBe('shipped'); // 5 of 18: no
    h.feed(h.event('restock', 12, 20, 200 * S), h.level(20, 200 * S), h.level(20, 220 * S));
    expect(h.orders.get(id)).toMatchObject({ state: 'closed', shippedQuantity: 18, receivedQuantity: 17 });
  });

  it('a shipped delivery that stops short is received as counted once no step came for the window', () => {
    const id = shipped(24, 'shipped', 18);
    h.feed(h.event('restock', 10, 13, 100 * S), h.level(13, 100 * S), h.level(13, 120 * S));
    // 10 of 18, and the window (30 min) still open: more may come.
    h.feed(h.level(13, 100 * S + 29 * 60 * S));
    expect(h.orders.get(id)?.state).toBe('shipped');
    h.feed(h.level(13, 100 * S + 30 * 60 * S));
    expect(h.orders.get(id)).toMatchObject({ state: 'closed', shippedQuantity: 18, receivedQuantity: 10 });
  });

  it('an acknowledged order is never received short: staff restocking is not its delivery', () => {
    const id = shipped(24, 'acknowledged');
    h.feed(h.event('restock', 5, 8, 100 * S), h.level(8, 120 * S), h.level(8, 100 * S + 31 * 60 * S));
    expect(h.orders.get(id)?.state).toBe('acknowledged');
  });

  it('a receipt also confirms an acknowledged order the supplier never marked shipped', () => {
    const id = shipped(24, 'acknowledged');
    h.feed(h.event('restock', 24, 27, 100 * S), h.level(27, 111 * S));
    expect(h.orders.get(id)).toMatchObject({ state: 'closed', receivedQuantity: 24 });
  });

  it('a restock while the order is only open is not a receipt', () => {
    h = harness({
      defaults: { reorderPoint: 4, orderUpTo: 24, debounceMs: 0 },
      receipt: { moveWindowMs: 0 },
    });
    h.feed(h.level(3, 0));
    const order = h.orders.live(L1);
    h.feed(h.event('restock', 21, 24, 100 * S), h.level(24, 200 * S));
    expect(h.orders.get(order?.id as string)?.state).toBe('open');
  });

  it('[no false receipt] a gain matching a pick on the neighbouring lane (an item moved) is not a receipt', () => {
    const id = shipped(10); // 3 on the shelf, 7 ordered
    h.feed(
      h.event('pick', -7, 3, 100 * S, L2),
      h.level(3, 100 * S, {}, L2),
      h.event('restock', 7, 10, 103 * S),
      h.level(10, 103 * S),
      h.level(10, 150 * S),
    );
    expect(h.orders.get(id)?.state).toBe('shipped');
    expect(h.engine.counters.movedItems).toBe(1);
  });

  it("[no false receipt] ...also when the neighbour's pick is reported after the gain", () => {
    const id = shipped(10);
    h.feed(h.event('restock', 7, 10, 100 * S), h.level(10, 100 * S));
    h.feed(h.event('pick', -7, 3, 104 * S, L2), h.level(3, 104 * S, {}, L2));
    h.feed(h.level(10, 150 * S));
    expect(h.orders.get(id)?.state).toBe('shipped');
    expect(h.engine.counters.movedItems).toBe(1);
    // A real delivery afterwards is still recognised.
    h.feed(h.event('restock', 7, 17, 200 * S), h.level(17, 200 * S), h.level(17, 215 * S));
    expect(h.orders.get(id)).toMatchObject({ state: 'closed', receivedQuantity: 7 });
  });

  it('a pick next door long before or after the gain does not hide a delivery', () => {
    const id = shipped(10);
    h.feed(
      h.event('pick', -7, 3, 50 * S, L2),
      h.event('restock', 7, 10, 100 * S),
      h.level(10, 100 * S),
      h.level(10, 111 * S),
    );
    expect(h.orders.get(id)?.state).toBe('closed');
  });
});
