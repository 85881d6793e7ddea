import { OrderService } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from '../store/fixtures.js';
import { type Child, requireBuilt, spawnFixture } from './fixtures/spawn.js';

const WORKER = './order-worker.mjs';

describe('orders: restarts and concurrent rules instances on one file', () => {
  let tmp: TempDir;
  const children: Child[] = [];

  beforeAll(() => requireBuilt());
  beforeEach(() => {
    tmp = tempDir('shelfsense-race-');
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exited;
    }
    tmp.remove();
  });

  it('[never two orders for one need] two processes racing to open orders for the same lanes create exactly one each', async () => {
    const lanes = 150;
    // Create the schema first so both start from the same file.
    Store.open(tmp.file()).close();
    const a = spawnFixture(WORKER, ['race', tmp.file(), String(lanes), 'a']);
    const b = spawnFixture(WORKER, ['race', tmp.file(), String(lanes), 'b']);
    children.push(a, b);
    expect(await a.line()).toBe('ready');
    expect(await b.line()).toBe('ready');
    a.proc.stdin?.write('go\n');
    b.proc.stdin?.write('go\n');
    const results = [JSON.parse(await a.line()), JSON.parse(await b.line())] as {
      created: number;
      existing: number;
    }[];
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);

    // Every attempt either created the lane's order or found it: exactly one per lane overall.
    expect(results.reduce((n, r) => n + r.created, 0)).toBe(lanes);
    expect(results.reduce((n, r) => n + r.created + r.existing, 0)).toBe(lanes * 4);
    const store = Store.open(tmp.file());
    try {
      const perLane = store.db
        .prepare(`SELECT lane, count(*) AS n FROM orders GROUP BY lane HAVING n <> 1`)
        .all();
      expect(perLane).toEqual([]);
      expect(store.db.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(lanes);
      // One open event and one webhook per order, no more.
      expect(store.db.prepare('SELECT count(*) FROM order_events').pluck().get()).toBe(lanes);
      expect(store.db.prepare('SELECT count(*) FROM webhook_outbox').pluck().get()).toBe(lanes);
    } finally {
      store.close();
    }
  });

  it('[nothing lost] an order and its outbox survive the process being killed, and reopening does not duplicate it', async () => {
    const c = spawnFixture(WORKER, ['crash', tmp.file()]);
    children.push(c);
    const { orderId } = JSON.parse(await c.line()) as { orderId: string };
    expect((await c.exited).signal).toBe('SIGKILL');

    const store = Store.open(tmp.file());
    try {
      const orders = new OrderService(store);
      expect(orders.get(orderId)).toMatchObject({ state: 'acknowledged', quantity: 12 });
      expect(orders.events(orderId).map((e) => e.state)).toEqual(['open', 'acknowledged']);
      expect(orders.outbox.list({ orderId }).map((o) => o.state)).toEqual(['pending', 'pending']);
      const again = orders.openForLane({
        ...LANE,
        sku: 'cola-330',
        supplier: 'acme',
        quantity: 12,
        reason: { trigger: 'rules' },
      });
      expect(again.created).toBe(false);
      expect(again.order.id).toBe(orderId);
    } finally {
      store.close();
    }
  });
});
