/**
 * The Postgres store behind the synchronous interface (SyncPgStore), on a real server: what the
 * rules, the order service and the webhook worker need of it — calls that answer at once,
 * transactions that span repositories and roll back whole, savepoints, errors that keep their
 * code, values that cross the thread intact — and the order service running on it unchanged.
 * The thread runs central's built script (dist/), which the test command builds first.
 */
import { OrderService } from '@shelfsense/central/orders';
import { PgStore, SyncPgStore } from '@shelfsense/central/pg';
import { isReplenishmentError, ReplenishmentErrorCodes } from '@shelfsense/central/store';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newOrder } from '../../contract/store/orders.contract.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { LANE } from '../../unit/central/store/fixtures.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('SyncPgStore', () => {
  let schema: string;
  let store: SyncPgStore;
  beforeEach(() => {
    schema = server.schema();
    store = SyncPgStore.open({ url: server.url, schema, poolSize: 2 });
  });
  afterEach(() => {
    store.close();
  });

  it('answers synchronously, and another process sees what it wrote', async () => {
    expect(store.orders.insert(newOrder('ord_1'))).toBe(true);
    expect(store.orders.insert(newOrder('ord_2'))).toBe(false);
    expect(store.orders.live(LANE)?.id).toBe('ord_1');
    const other = await PgStore.open({ url: server.url, schema });
    try {
      expect((await other.orders.get('ord_1'))?.state).toBe('open');
    } finally {
      await other.close();
    }
  });

  it('[all or nothing] a transaction spans repositories and a throw rolls it all back', () => {
    const boom = new Error('rolled back on purpose');
    expect(() =>
      store.transaction(() => {
        store.orders.insert(newOrder('ord_1'));
        store.ruleState.saveAll([{ ref: LANE, state: '{"v":1}' }], 1);
        store.alerts.open(LANE, 'stock-out', 'empty', 1);
        throw boom;
      }),
    ).toThrow(boom);
    expect(store.orders.get('ord_1')).toBeUndefined();
    expect(store.ruleState.load(LANE)).toBeUndefined();
    expect(store.alerts.liveCount()).toBe(0);
    const n = store.transaction(() => {
      store.orders.insert(newOrder('ord_1'));
      return 7;
    });
    expect(n).toBe(7);
    expect(store.orders.get('ord_1')?.id).toBe('ord_1');
  });

  it('a nested transaction that throws undoes only its own writes', () => {
    store.transaction(() => {
      store.ruleState.saveAll([{ ref: LANE, state: 'outer' }], 1);
      expect(() =>
        store.transaction(() => {
          store.orders.insert(newOrder('ord_1'));
          throw new Error('inner');
        }),
      ).toThrow('inner');
    });
    expect(store.ruleState.load(LANE)).toBe('outer');
    expect(store.orders.get('ord_1')).toBeUndefined();
  });

  it('keeps error codes, Maps and iterables across the thread', () => {
    let caught: unknown;
    try {
      store.alerts.acknowledge('no-such-alert', { user: 'alice', role: 'operator' }, 1);
    } catch (err) {
      caught = err;
    }
    expect(isReplenishmentError(caught, ReplenishmentErrorCodes.NOT_FOUND)).toBe(true);
    expect(store.catalogue.revisions()).toBeInstanceOf(Map);
    // A Map's values are an iterator, which cannot cross as it is.
    const rows = new Map([['l1', { ref: LANE, state: 'from-a-map' }]]);
    store.ruleState.saveAll(rows.values(), 2);
    expect(store.ruleState.load(LANE)).toBe('from-a-map');
  });

  it('runs the order service unchanged: the order, its outbox entry and its audit row in one go', () => {
    const orders = new OrderService(store);
    const r = orders.openForLane(
      { ...LANE, sku: 'cola-330', supplier: 'acme', quantity: 6, reason: { trigger: 'manual' } },
      1_000,
      { user: 'alice', role: 'operator' },
    );
    expect(r.created).toBe(true);
    const again = orders.openForLane(
      { ...LANE, sku: 'cola-330', supplier: 'acme', quantity: 6, reason: { trigger: 'manual' } },
      2_000,
    );
    expect(again.created).toBe(false);
    expect(again.order.id).toBe(r.order.id);
    expect(store.outbox.list({ orderId: r.order.id })).toHaveLength(1);
    expect(store.audit.list({}).map((a) => a.action)).toContain('order.open');
  });

  it('refuses calls once closed', () => {
    const own = SyncPgStore.open({ url: server.url, schema: server.schema(), poolSize: 1 });
    own.close();
    expect(own.isOpen).toBe(false);
    expect(() => own.orders.get('x')).toThrow();
  });
});
