/**
 * A lane whose last order is `received` (the shelf counted the goods) but not yet closed, because
 * `receipt.closeAfterMs` keeps it listed for a while: the goods are on the shelf, so that order
 * covers no need any more. A real new need raises exactly one new order (closing the received one
 * in the same transaction, since a lane has one live order); anything else raises none.
 */

import { OrderService } from '@shelfsense/central/orders';
import { RulesEngine } from '@shelfsense/central/rules';
import { Store } from '@shelfsense/central/store';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, L1, T0 } from './harness.js';

const S = 1_000;
const M = 60 * S;
const config = {
  defaults: { reorderPoint: 4, orderUpTo: 24, packSize: 6, debounceMs: '60s', hysteresis: 2 },
  receipt: { toleranceItems: 1, toleranceFraction: 0.1, moveWindowMs: '10s', closeAfterMs: '10m' },
};
// No lane goes silent while the tests move the central clock on to close received orders.
const OFFLINE_AFTER = 86_400_000;

describe('rules: a new need while the last order is still listed as received', () => {
  let h: Harness;
  afterEach(() => h.close());

  /** Orders at 3 on the shelf (24 = 4 packs), ships, and shelves the delivery: received at 111 s. */
  function received(): string {
    h = harness(config, [L1], OFFLINE_AFTER);
    h.feed(h.level(3, 0), h.level(3, 60 * S));
    const order = h.orders.live(L1);
    if (!order) throw new Error('no order opened');
    h.orders.transition(order.id, 'acknowledged');
    h.orders.transition(order.id, 'shipped');
    h.feed(h.event('restock', 24, 27, 100 * S), h.level(27, 100 * S), h.level(27, 111 * S));
    expect(h.orders.get(order.id)).toMatchObject({ state: 'received', receivedQuantity: 24 });
    return order.id;
  }

  it('[one need = one order] a need that arises while the previous order is received raises one new order', () => {
    const first = received();
    // Customers sell the lane down again before the received order is due to close.
    h.feed(h.event('pick', -24, 3, 200 * S), h.level(3, 200 * S), h.level(3, 230 * S));
    expect(h.orders.list()).toHaveLength(1);
    const out = h.feed(h.level(3, 260 * S));
    // The delivered order is closed and the new need ordered, in that order.
    expect(out.orders.map((e) => [e.orderId === first ? 'first' : 'new', e.state])).toEqual([
      ['first', 'closed'],
      ['new', 'open'],
    ]);
    expect(h.orders.get(first)).toMatchObject({ state: 'closed', receivedQuantity: 24 });
    const next = h.orders.live(L1);
    expect(next).toMatchObject({ state: 'open', quantity: 24 });
    expect(next?.reason).toMatchObject({ trigger: 'rules', units: 3, readingTs: T0 + 260 * S });

    // The same need goes on: more low readings, the close sweep, a restart and a replayed backlog
    // open nothing more.
    const backlog = [h.level(3, 300 * S), h.level(2, 400 * S)];
    h.feed(...backlog);
    h.now.t += 11 * M;
    expect(h.engine.tick().orders).toEqual([]);
    h.restart();
    expect(h.feed(...backlog, h.level(2, 900 * S)).orders).toEqual([]);
    expect(h.orders.list()).toHaveLength(2);
    expect(h.orderEvents.filter((e) => e.state === 'open')).toHaveLength(2);
  });

  it('[one need = one order] a need whose debounce ends after the received order closed raises one order', () => {
    const first = received();
    h.feed(h.level(3, 200 * S));
    // The received order closes on the sweep while the lane is still in its debounce.
    h.now.t += 11 * M;
    expect(h.engine.tick().orders.map((e) => [e.orderId, e.state])).toEqual([[first, 'closed']]);
    expect(h.orders.list({ state: 'live' })).toEqual([]);
    h.feed(h.level(3, 230 * S));
    expect(h.orders.list({ state: 'live' })).toEqual([]);
    h.feed(h.level(3, 260 * S), h.level(3, 300 * S));
    expect(h.orders.list({ state: 'live' })).toHaveLength(1);
    expect(h.orders.list()).toHaveLength(2);
  });

  it('[no false orders] a received order that is still listed raises nothing while the lane is stocked', () => {
    const first = received();
    h.feed(h.level(20, 200 * S), h.level(12, 400 * S), h.level(5, 600 * S));
    // A dip shorter than the debounce is not a need either.
    h.feed(h.level(4, 650 * S), h.level(5, 700 * S));
    expect(h.orders.list()).toHaveLength(1);
    expect(h.orders.get(first)?.state).toBe('received');
    h.now.t += 11 * M;
    expect(h.engine.tick().orders.map((e) => e.state)).toEqual(['closed']);
    h.feed(h.level(5, 900 * S));
    expect(h.orders.list()).toHaveLength(1);
  });

  it('[one need = one order] a lane left disarmed although its last order was delivered orders again', () => {
    // Lane state stored by an earlier version, which disarmed a lane that fell to its reorder
    // point while its last order was still received — and never re-armed it.
    const first = received();
    h.now.t += 11 * M;
    h.engine.tick();
    expect(h.orders.get(first)?.state).toBe('closed');
    h.feed(h.level(3, 200 * S));
    h.engine.stop();
    h.store.db.prepare(`UPDATE rule_state SET state = json_set(state, '$.armed', json('false'))`).run();
    h.restart();
    expect(h.engine.status(L1)?.armed).toBe(false);
    h.feed(h.level(3, 230 * S), h.level(3, 260 * S));
    expect(h.orders.list({ state: 'live' })).toHaveLength(1);
    h.feed(h.level(3, 400 * S));
    expect(h.orders.list()).toHaveLength(2);
  });

  it('[never two orders for one need] two rules instances replacing one received order open one order', () => {
    const first = received();
    const second = Store.open(h.tmp.file());
    const other = new RulesEngine({
      store: second,
      orders: new OrderService(second),
      config: ReplenishmentConfig.parse(config),
      lanes: [L1],
      offlineAfterMs: OFFLINE_AFTER,
    });
    try {
      const readings = [h.level(3, 200 * S), h.level(3, 260 * S)];
      // Both instances see the same readings (each would order on its own).
      const a = h.engine.onReadings(readings);
      const b = other.onReadings(readings);
      expect([...a.orders, ...b.orders].map((e) => e.state).sort()).toEqual(['closed', 'open']);
      expect(h.orders.get(first)?.state).toBe('closed');
      expect(h.orders.list()).toHaveLength(2);
    } finally {
      other.stop();
      second.close();
    }
  });

  it('[hysteresis] a cancelled order still leaves its lane disarmed until it is refilled', () => {
    h = harness(config, [L1], OFFLINE_AFTER);
    h.feed(h.level(3, 0), h.level(3, 60 * S));
    const order = h.orders.live(L1);
    h.orders.transition(order?.id as string, 'cancelled');
    h.feed(h.level(3, 200 * S), h.level(3, 400 * S));
    expect(h.orders.list({ state: 'live' })).toEqual([]);
  });
});
