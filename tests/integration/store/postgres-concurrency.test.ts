/**
 * What the Postgres store promises when several worker processes share one database: four
 * PgStores on one schema (four pools, as four processes would open) race on the same lane, the
 * same alert and the same webhook outbox, and the database alone keeps the invariants.
 */
import { PgStore } from '@shelfsense/central/pg';
import type { OutboxEntry } from '@shelfsense/central/store';
import type { OrderState } from '@shelfsense/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newOrder } from '../../contract/store/orders.contract.js';
import { orderEvent } from '../../contract/store/outbox.contract.js';
import { T0 } from '../../contract/store/types.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { LANE } from '../../unit/central/store/fixtures.js';

const WORKERS = 4;

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

let stores: PgStore[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
});

/** Four stores on one fresh schema, opened at once as four processes starting together would. */
async function openWorkers(): Promise<PgStore[]> {
  const schema = server.schema();
  stores = await Promise.all(
    Array.from({ length: WORKERS }, () => PgStore.open({ url: server.url, schema, poolSize: 4 })),
  );
  return stores;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Postgres store under concurrent workers', () => {
  it('[one live order per lane] of concurrent inserts for one lane, exactly one wins', async () => {
    const workers = await openWorkers();
    for (let round = 0; round < 10; round++) {
      const lane = { ...LANE, lane: `l${round}` };
      // Half the rounds hold each insert in an open transaction for a moment, so the losers
      // collide with a winner that has not committed yet and must wait for it.
      const hold = round % 2 === 1;
      const results = await Promise.all(
        workers.flatMap((store, w) =>
          [0, 1, 2].map((k) => {
            const insert = () => store.orders.insert(newOrder(`ord_${round}_${w}_${k}`, lane));
            return hold
              ? store.transaction(async () => {
                  const ok = await insert();
                  await sleep(20);
                  return ok;
                })
              : insert();
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await workers[0]?.orders.list({ ...lane, state: 'live' })).toHaveLength(1);
    }
    expect(await workers[1]?.orders.counts()).toEqual([{ state: 'open', n: 10 }]);
  });

  it('a state change applies once, whichever worker makes it first', async () => {
    const workers = await openWorkers();
    await workers[0]?.orders.insert(newOrder('ord_1'));
    const targets: OrderState[] = ['acknowledged', 'cancelled', 'acknowledged', 'cancelled'];
    const results = await Promise.all(
      workers.map((store, w) =>
        store.orders.update({
          id: 'ord_1',
          from: 'open',
          to: targets[w] as OrderState,
          shipped: null,
          received: null,
          now: T0 + 1,
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const row = await workers[2]?.orders.get('ord_1');
    expect(row?.version).toBe(2);
    expect(row?.state).toBe(targets[results.indexOf(true)]);
  });

  it('[one live alert per lane and kind] concurrent opens create one alert', async () => {
    const workers = await openWorkers();
    for (let round = 0; round < 6; round++) {
      const lane = { ...LANE, lane: `l${round}` };
      const hold = round % 2 === 1;
      const results = await Promise.all(
        workers.flatMap((store, w) =>
          [0, 1, 2].map((k) => {
            const open = () => store.alerts.open(lane, 'stock-out', `worker ${w}.${k}`, T0 + round);
            return hold
              ? store.transaction(async () => {
                  const r = await open();
                  await sleep(20);
                  return r;
                })
              : open();
          }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      // Every caller is handed the one live alert.
      expect(new Set(results.map((r) => r.alert.id)).size).toBe(1);
    }
    expect(await workers[3]?.alerts.liveCount()).toBe(6);
  });

  it('[webhooks in order, once] concurrent claimers deliver every entry once, each order in order', async () => {
    const workers = await openWorkers();
    const [first] = workers as [PgStore];
    const states: OrderState[] = ['open', 'acknowledged', 'shipped', 'received'];
    const orders = Array.from({ length: 50 }, (_, i) => `ord_${String(i).padStart(2, '0')}`);
    for (const orderId of orders) {
      await first.orders.insert(newOrder(orderId, { lane: orderId }));
    }
    // Each order's events back to back: a claim that ignored the order would take several of one
    // order in one batch, or hand them to different workers at once.
    const enqueued = new Map<string, number[]>();
    for (const orderId of orders) {
      for (const state of states) {
        const event = orderEvent(orderId, state);
        const id = await first.transaction(async () => {
          await first.orders.insertEvent({
            eventId: event.eventId,
            orderId,
            state,
            actor: null,
            body: JSON.stringify(event),
            ts: T0,
          });
          return first.outbox.enqueue(event, T0);
        });
        enqueued.set(orderId, [...(enqueued.get(orderId) ?? []), id]);
      }
    }
    const previous = new Map<number, number>();
    for (const ids of enqueued.values()) {
      for (let i = 1; i < ids.length; i++) previous.set(ids[i] as number, ids[i - 1] as number);
    }

    // A shared clock: every claim and delivery gets a later `now`; the lease outlives the test,
    // so an entry handed out twice would be a broken lease, not an expired one.
    let clock = T0;
    const held = new Set<number>();
    const sent = new Set<number>();
    const violations: string[] = [];
    const delivered: OutboxEntry[] = [];
    const perWorker = Array.from({ length: WORKERS }, () => 0);
    let claims = 0;

    const claimer = async (store: PgStore, w: number) => {
      for (;;) {
        const batch = await store.outbox.claimDue(++clock, 3, 3_600_000);
        if (batch.length === 0) {
          if ((await store.outbox.counts()).pending === 0) return;
          await sleep(2);
          continue;
        }
        claims += batch.length;
        perWorker[w] = (perWorker[w] ?? 0) + batch.length;
        for (const e of batch) {
          if (held.has(e.id) || sent.has(e.id)) violations.push(`worker ${w} claimed ${e.id} again`);
          const before = previous.get(e.id);
          if (before !== undefined && !sent.has(before)) {
            violations.push(`worker ${w} claimed ${e.id} before ${before} of ${e.orderId} was delivered`);
          }
          held.add(e.id);
        }
        for (const e of batch) {
          await sleep(Math.random() * 3);
          sent.add(e.id);
          held.delete(e.id);
          if (!(await store.outbox.markDelivered(e.id, 200, ++clock))) {
            violations.push(`worker ${w} could not mark ${e.id} delivered`);
          }
          delivered.push(e);
        }
      }
    };
    await Promise.all(workers.map((store, w) => claimer(store, w)));

    expect(violations).toEqual([]);
    expect(claims).toBe(states.length * orders.length);
    expect(new Set(delivered.map((e) => e.id)).size).toBe(claims);
    expect(await first.outbox.counts()).toEqual({ pending: 0, delivered: claims, dead: 0, skipped: 0 });
    // Every entry went out on its first attempt, and each order's deliveries follow its enqueue order.
    const all = await workers[3]?.outbox.list({ limit: 1_000 });
    expect(all?.every((e) => e.attempts === 1 && e.leaseUntil === null)).toBe(true);
    for (const [orderId, ids] of enqueued) {
      const rows = (all ?? []).filter((e) => e.orderId === orderId);
      const byDelivery = [...rows].sort((a, b) => (a.deliveredAt ?? 0) - (b.deliveredAt ?? 0));
      expect(byDelivery.map((e) => e.id)).toEqual(ids);
    }
    // The work was shared, so the claims really raced.
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThan(1);
  }, 60_000);
});
