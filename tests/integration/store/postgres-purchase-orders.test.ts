/**
 * Purchase orders as a cluster runs them: two processes (two SyncPgStores, each with its own order
 * and purchase-order services, as two workers or web nodes have) on one real Postgres. Needs from
 * both join one draft per site and supplier; both run the cut-off, and the PO is sent once; a need
 * added by both stays on one line.
 */
import { OrderService, PurchaseOrderService } from '@shelfsense/central/orders';
import { SyncPgStore } from '@shelfsense/central/pg';
import type { CentralConfig } from '@shelfsense/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

const T0 = Date.parse('2026-01-05T10:00:00Z');
const CUTOFF = Date.parse('2026-01-05T14:00:00Z');
const CONFIG = {
  suppliers: [
    {
      id: 'acme',
      schedule: {
        timezone: 'UTC',
        cycles: [{ cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'wed', at: '08:00' } }],
      },
    },
  ],
  skus: [{ id: 'cola-330', unitWeightG: 352, supplier: 'acme' }],
  sites: [{ id: 'store-1', shelves: [] }],
} as unknown as CentralConfig;

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('purchase orders on Postgres, from two processes', () => {
  let stores: SyncPgStore[];
  let nodes: { orders: OrderService; pos: PurchaseOrderService }[];

  beforeEach(() => {
    const schema = server.schema();
    stores = [0, 1].map(() => SyncPgStore.open({ url: server.url, schema, poolSize: 2 }));
    nodes = stores.map((store) => {
      const orders = new OrderService(store);
      const pos = new PurchaseOrderService(store, orders, { config: () => CONFIG });
      orders.gatherer = pos;
      return { orders, pos };
    });
  });
  afterEach(() => {
    for (const s of stores) s.close();
  });

  const need = (lane: string) => ({
    site: 'store-1',
    shelf: 'shelf-a',
    lane,
    sku: 'cola-330',
    supplier: 'acme',
    quantity: 6,
    reason: { trigger: 'rules' as const },
  });

  it('gathers both processes’ needs on one draft and sends it once at the cut-off', () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const first = a.orders.openForLane(need('L0'), T0).order;
    b.orders.openForLane(need('L1'), T0 + 1);
    // The same need gathered again by the other process stays where it is.
    b.pos.addNeed(first, T0 + 2);
    const drafts = a.pos.list({ state: 'draft' });
    expect(drafts).toHaveLength(1);
    expect(drafts[0]?.lines.map((l) => [l.sku, l.quantity])).toEqual([['cola-330', 12]]);
    expect(drafts[0]?.needs).toHaveLength(2);
    expect(stores[0]?.outbox.list()).toEqual([]);
    const sent = [...a.pos.sendDue(CUTOFF), ...b.pos.sendDue(CUTOFF)];
    expect(sent.map((p) => p.state)).toEqual(['sent']);
    expect(stores[1]?.outbox.list().map((e) => JSON.parse(e.body).state)).toEqual(['sent']);
    // The next need after the cut-off starts the next cycle's draft, whoever sees it.
    b.orders.openForLane(need('L2'), CUTOFF + 1);
    expect(a.pos.list({ state: 'draft' })[0]?.cutoffAt).toBe(CUTOFF + 7 * 86_400_000);
  });
});
