import { OrderService } from '@shelfsense/central/orders';
import { RulesEngine } from '@shelfsense/central/rules';
import { Store } from '@shelfsense/central/store';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, L1, L2, T0 } from './harness.js';

const S = 1_000;
const config = {
  defaults: { reorderPoint: 4, orderUpTo: 24, packSize: 6, debounceMs: '60s', hysteresis: 2 },
  alerts: { anomalyAfterMs: '120s' },
};

describe('rules: debounce, hysteresis and no orders on doubtful lanes', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('[no false orders] a dip shorter than the debounce never orders', () => {
    h = harness(config);
    h.feed(h.level(10, 0), h.level(3, 10 * S), h.level(3, 40 * S), h.level(3, 69 * S), h.level(10, 70 * S));
    h.feed(h.level(10, 200 * S));
    expect(h.orders.list()).toEqual([]);
    expect(h.orderEvents).toEqual([]);
  });

  it('orders once the lane has been stable at or below the reorder point for the debounce, on reading time', () => {
    h = harness(config);
    h.feed(h.level(10, 0), h.level(4, 10 * S), h.level(3, 40 * S));
    expect(h.orders.list()).toEqual([]);
    // The debounce completes on the reading's own timestamp, not on when it is processed.
    const out = h.feed(h.level(3, 70 * S));
    expect(out.orders).toHaveLength(1);
    expect(out.orders[0]).toMatchObject({ state: 'open', quantity: 24, sku: 'cola-330', supplier: 'acme' });
    expect(h.orders.live(L1)?.reason).toMatchObject({
      trigger: 'rules',
      units: 3,
      reorderPoint: 4,
      orderUpTo: 24,
    });
    // More low readings, or the same backlog replayed, open nothing more.
    h.feed(h.level(2, 200 * S), h.level(2, 400 * S));
    expect(h.orders.list()).toHaveLength(1);
    expect(h.orderEvents.map((e) => e.state)).toEqual(['open']);
  });

  it('[no false orders] an unstable reading (a hand on the shelf) restarts the debounce', () => {
    h = harness(config);
    h.feed(h.level(3, 0), h.level(3, 50 * S, { stable: false }), h.level(3, 70 * S), h.level(3, 100 * S));
    expect(h.orders.list()).toEqual([]);
    h.feed(h.level(3, 130 * S));
    expect(h.orders.list()).toHaveLength(1);
  });

  it('hysteresis: re-arms only above reorder point + margin, or on receipt', () => {
    h = harness(config);
    h.feed(h.level(3, 0), h.level(3, 60 * S));
    const first = h.orders.live(L1);
    expect(first).toBeDefined();
    h.orders.transition(first?.id as string, 'cancelled');
    // Still low after the cancel: no new order (not re-armed).
    h.feed(h.level(3, 200 * S), h.level(3, 400 * S));
    expect(h.orders.list({ state: 'live' })).toEqual([]);
    // Back to exactly reorder point + margin: still not re-armed.
    h.feed(h.level(6, 410 * S), h.level(3, 420 * S), h.level(3, 500 * S));
    expect(h.orders.list({ state: 'live' })).toEqual([]);
    // Above it: re-armed; the next dip orders again after the debounce.
    h.feed(h.level(7, 510 * S), h.level(3, 520 * S), h.level(3, 580 * S));
    expect(h.orders.list({ state: 'live' })).toHaveLength(1);
    expect(h.orders.list()).toHaveLength(2);
  });

  it('[no false orders] a faulty lane raises a sensor-fault alert instead of ordering', () => {
    h = harness(config);
    h.feed(h.level(10, 0), h.level(0, 10 * S, { state: 'fault' }), h.level(0, 100 * S, { state: 'fault' }));
    expect(h.orders.list()).toEqual([]);
    expect(h.store.alerts.list({ state: 'live' }).map((a) => a.kind)).toEqual(['sensor-fault']);
    expect(h.alertEvents.map((a) => [a.kind, a.state])).toEqual([['sensor-fault', 'open']]);
    // Repaired: the alert clears.
    h.feed(h.level(10, 110 * S));
    expect(h.store.alerts.list({ state: 'live' })).toEqual([]);
    expect(h.alertEvents.at(-1)).toMatchObject({ kind: 'sensor-fault', state: 'cleared' });
  });

  it('[no false orders] a saturated or disconnected channel in shelf health is a sensor fault', () => {
    h = harness(config);
    h.feed(h.level(3, 0, {}, L1), h.level(3, 0, {}, L2));
    const health = (status: 'ok' | 'saturated', ts: number) => ({
      agent: 'pi-1',
      serial: 'SN0001',
      status,
      channels: [
        { channel: 0, status, noiseG: 0.5, driftG: 0 },
        { channel: 1, status: 'ok' as const, noiseG: 0.5, driftG: 0 },
      ],
      rejects: {},
      ts,
    });
    const out = h.engine.onHealth('s1', 'a', health('saturated', T0 + S));
    expect(out.alerts.map((a) => [a.lane, a.kind])).toEqual([['l1', 'sensor-fault']]);
    h.feed(h.level(3, 61 * S, {}, L1), h.level(3, 61 * S, {}, L2));
    // l2 (healthy) orders; l1 (faulty channel) does not.
    expect(h.orders.list().map((o) => o.lane)).toEqual(['l2']);
    h.engine.onHealth('s1', 'a', health('ok', T0 + 62 * S));
    expect(h.store.alerts.list({ state: 'live' })).toEqual([]);
  });

  it('[no false orders] an offline shelf (agent last will) raises offline alerts and never orders', () => {
    h = harness(config);
    h.feed(h.level(3, 0));
    const status = (state: 'online' | 'offline') => ({
      agent: 'pi-1',
      site: 's1',
      state,
      shelves: [],
      ts: T0 + S,
    });
    const out = h.engine.onAgentStatus('s1', status('offline'));
    expect(out.alerts.map((a) => [a.lane, a.kind, a.state])).toEqual([
      ['l1', 'offline', 'open'],
      ['l2', 'offline', 'open'],
    ]);
    // The retained last reading replayed late does not make an offline lane order.
    h.engine.onReadings([h.level(3, 90 * S)]);
    expect(h.orders.list()).toEqual([]);
    h.engine.onAgentStatus('s1', status('online'));
    expect(h.store.alerts.list({ state: 'live' })).toEqual([]);
  });

  it('[no false orders] a silent lane goes offline on the tick (central clock) and comes back with data', () => {
    h = harness(config, [L1], 30_000);
    h.engine.start();
    h.feed(h.level(3, 0));
    h.now.t += 29 * S;
    expect(h.engine.tick().alerts).toEqual([]);
    h.now.t += 2 * S;
    expect(h.engine.tick().alerts.map((a) => [a.kind, a.state])).toEqual([['offline', 'open']]);
    expect(h.engine.status(L1)?.condition).toBe('offline');
    h.feed(h.level(3, 40 * S));
    expect(h.engine.status(L1)?.condition).toBe('ok');
    expect(h.store.alerts.list({ state: 'live' })).toEqual([]);
  });

  it('[no false orders] an unstable or anomalous lane raises an anomaly alert after a while, never an order', () => {
    h = harness(config);
    h.feed(
      h.level(0, 0, { stable: false, state: 'unstable' }),
      h.level(0, 100 * S, { stable: false, state: 'unstable' }),
    );
    expect(h.store.alerts.list()).toEqual([]);
    h.feed(h.level(0, 121 * S, { state: 'anomalous' }));
    expect(h.store.alerts.list({ state: 'live' }).map((a) => a.kind)).toEqual(['anomaly']);
    h.feed(h.level(0, 500 * S, { state: 'anomalous' }));
    expect(h.orders.list()).toEqual([]);
  });

  it('raises a stock-out alert at zero and clears it when stock returns', () => {
    h = harness({ ...config, defaults: { ...config.defaults, enabled: false } });
    h.feed(h.level(1, 0), h.level(0, 10 * S));
    expect(h.alertEvents.map((a) => [a.kind, a.state])).toEqual([['stock-out', 'open']]);
    h.feed(h.level(5, 20 * S));
    expect(h.alertEvents.map((a) => [a.kind, a.state])).toEqual([
      ['stock-out', 'open'],
      ['stock-out', 'cleared'],
    ]);
    // Ordering is disabled for the lane: alerts only.
    h.feed(h.level(0, 30 * S), h.level(0, 300 * S));
    expect(h.orders.list()).toEqual([]);
  });

  it('[nothing lost] keeps its debounce across a restart, and a replayed backlog opens nothing twice', () => {
    h = harness(config);
    const backlog = [h.level(10, 0), h.level(3, 10 * S), h.level(3, 40 * S)];
    h.feed(...backlog);
    h.restart();
    h.feed(h.level(3, 71 * S));
    expect(h.orders.list()).toHaveLength(1);
    h.restart();
    // The whole backlog again (an agent resending): the store drops it, the rules never see it.
    const out = h.feed(...backlog, h.level(3, 200 * S));
    expect(out.orders).toEqual([]);
    expect(h.orders.list()).toHaveLength(1);
  });

  it('[never two orders for one need] two rules instances on two connections to one file open one order', () => {
    h = harness(config);
    const second = Store.open(h.tmp.file());
    try {
      const other = new RulesEngine({
        store: second,
        orders: new OrderService(second),
        config: ReplenishmentConfig.parse(config),
        lanes: [L1, L2],
      });
      const readings = [h.level(3, 0), h.level(3, 30 * S), h.level(3, 61 * S)];
      // Both instances see the same readings (each would order on its own).
      const a = h.engine.onReadings(readings);
      const b = other.onReadings(readings);
      expect(a.orders.length + b.orders.length).toBe(1);
      expect(h.orders.list()).toHaveLength(1);
      other.stop();
    } finally {
      second.close();
    }
  });
});
