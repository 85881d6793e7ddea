/**
 * Every store contract suite, run against one implementation of the central store: a runner
 * passes a factory of fresh, empty stores (see tests/integration/store/sqlite.contract.test.ts),
 * as MQTT.js runs test/node/abstract_store.ts against each of its stores. Also the store-wide
 * promise the order service and ingest rely on: a transaction spans repositories.
 */
import type { AsyncCentralStore, AsyncRepository, StoreRepositories } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, levelReading } from '../../unit/central/store/fixtures.js';
import { alertsContract } from './alerts.contract.js';
import { catalogueContract } from './catalogue.contract.js';
import { healthContract } from './health.contract.js';
import { historyContract } from './history.contract.js';
import { newOrder, ordersContract } from './orders.contract.js';
import { outboxContract } from './outbox.contract.js';
import { purchaseOrdersContract } from './purchase-orders.contract.js';
import { readingsContract } from './readings.contract.js';
import { ruleStateContract } from './rule-state.contract.js';
import { type Opened, type OpenedStore, type StoreFactory, type StoreFactoryOptions, T0 } from './types.js';

/** One repository of each store the factory opens, with the store kept for the suites that seed. */
async function openRepo<K extends keyof StoreRepositories>(
  make: StoreFactory,
  key: K,
  o?: StoreFactoryOptions,
): Promise<Opened<StoreRepositories[K]> & { store: AsyncCentralStore }> {
  const s = await make(o);
  // An AsyncCentralStore's repository under key K is AsyncRepository<StoreRepositories[K]>;
  // TypeScript cannot see that through the indexed access.
  type Repo = AsyncRepository<StoreRepositories[K]>;
  return {
    repo: s.store[key] as unknown as Repo,
    store: s.store,
    connect: async () => (await s.connect())[key] as unknown as Repo,
    close: () => s.close(),
  };
}

export function storeContract(make: StoreFactory): void {
  readingsContract((o) => openRepo(make, 'readings', o));
  historyContract(async (o) => {
    const r = await openRepo(make, 'history', o);
    return { ...r, readings: r.store.readings };
  });
  healthContract((o) => openRepo(make, 'health', o));
  alertsContract((o) => openRepo(make, 'alerts', o));
  ordersContract((o) => openRepo(make, 'orders', o));
  outboxContract(async (o) => {
    const r = await openRepo(make, 'outbox', o);
    return { ...r, orders: r.store.orders };
  });
  purchaseOrdersContract((o) => openRepo(make, 'purchaseOrders', o));
  ruleStateContract((o) => openRepo(make, 'ruleState', o));
  catalogueContract((o) => openRepo(make, 'catalogue', o));
  transactionContract(make);
}

function transactionContract(make: StoreFactory): void {
  describe('store transactions', () => {
    let opened: OpenedStore;
    let store: AsyncCentralStore;

    beforeEach(async () => {
      opened = await make();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.close();
    });

    const boom = new Error('rolled back on purpose');

    it('returns what the function returns, and its writes are seen by every repository', async () => {
      const n = await store.transaction(async () => {
        await store.orders.insert(newOrder('ord_1'));
        await store.ruleState.saveAll([{ ref: LANE, state: '{}' }], T0);
        return 42;
      });
      expect(n).toBe(42);
      expect((await store.orders.get('ord_1'))?.state).toBe('open');
      expect(await (await opened.connect()).ruleState.load(LANE)).toBe('{}');
    });

    it('[nothing lost] a throw rolls back every repository, the readings and their marks included', async () => {
      await store.readings.commit([levelReading(1, 10, T0)], T0);
      await expect(async () =>
        store.transaction(async () => {
          await store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 1);
          await store.orders.insert(newOrder('ord_1'));
          await store.ruleState.saveAll([{ ref: LANE, state: '{"v":1}' }], T0);
          await store.alerts.open(LANE, 'stock-out', 'empty', T0);
          await store.health.put([
            {
              site: LANE.site,
              shelf: LANE.shelf,
              payload: { agent: 'pi-1', serial: 'SN0001', status: 'ok', channels: [], rejects: {}, ts: T0 },
            },
          ]);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.readings.mark(LANE.site, 'pi-1')).toBe(1);
      expect(await store.history.latest(LANE)).toEqual([
        expect.objectContaining({ level: expect.objectContaining({ seq: 1 }) }),
      ]);
      expect(await store.orders.get('ord_1')).toBeUndefined();
      expect(await store.ruleState.load(LANE)).toBeUndefined();
      expect(await store.alerts.liveCount()).toBe(0);
      expect(await store.health.query()).toEqual([]);
      // The record that was rolled back is new again, not a duplicate.
      const resent = await store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 2);
      expect(resent.accepted).toHaveLength(1);
      expect(await store.readings.mark(LANE.site, 'pi-1')).toBe(2);
      // Its level is a change: the history keeps it, as if the rolled-back attempt never happened.
      expect((await store.history.levels(LANE)).map((r) => r.seq)).toEqual([1, 2]);
    });

    it('a transaction inside another joins it: the outer throw undoes the inner writes', async () => {
      await expect(async () =>
        store.transaction(async () => {
          await store.transaction(() => store.orders.insert(newOrder('ord_1')));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.orders.get('ord_1')).toBeUndefined();
    });

    it('is open until its owner closes it', async () => {
      const own = await make();
      expect(own.store.isOpen).toBe(true);
      await own.close();
      expect(own.store.isOpen).toBe(false);
    });
  });
}
