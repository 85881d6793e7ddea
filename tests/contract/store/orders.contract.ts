/**
 * The orders repository: order rows and their events. At most one live (not closed, not
 * cancelled) order per lane, whoever inserts it; a state change applies only from the state the
 * caller read (the order service owns which changes are legal).
 */
import type { AsyncRepository, NewOrderRow, OrdersRepository, OrderUpdate } from '@shelfsense/central/store';
import type { OrderState } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE } from '../../unit/central/store/fixtures.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const L2 = { ...LANE, lane: 'l2' };

export function newOrder(id: string, over: Partial<NewOrderRow> = {}): NewOrderRow {
  return {
    ...LANE,
    id,
    sku: 'cola-330',
    supplier: 'acme',
    quantity: 6,
    reason: JSON.stringify({ trigger: 'rules', units: 2 }),
    now: T0,
    ...over,
  };
}

const move = (
  id: string,
  from: OrderState,
  to: OrderState,
  now: number,
  over: Partial<OrderUpdate> = {},
): OrderUpdate => ({ id, from, to, shipped: null, received: null, now, ...over });

export function ordersContract(make: RepoFactory<OrdersRepository>): void {
  describe('orders repository', () => {
    let opened: Opened<OrdersRepository>;
    let repo: AsyncRepository<OrdersRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('inserts an open order and reads it back whole', async () => {
      expect(await repo.insert(newOrder('ord_1'))).toBe(true);
      const row = await repo.get('ord_1');
      expect(row).toEqual({
        ...LANE,
        id: 'ord_1',
        sku: 'cola-330',
        supplier: 'acme',
        state: 'open',
        quantity: 6,
        shippedQuantity: null,
        receivedQuantity: null,
        reason: JSON.stringify({ trigger: 'rules', units: 2 }),
        createdAt: T0,
        updatedAt: T0,
        version: 1,
      });
      expect(await repo.live(LANE)).toEqual(row);
      expect(await repo.latest(LANE)).toEqual(row);
      expect(await repo.get('ord_none')).toBeUndefined();
      expect(await repo.live(L2)).toBeUndefined();
      expect(await repo.latest(L2)).toBeUndefined();
    });

    it('[one live order per lane] a second live order for a lane is not written, on any connection', async () => {
      expect(await repo.insert(newOrder('ord_1'))).toBe(true);
      expect(await repo.insert(newOrder('ord_2', { now: T0 + 1 }))).toBe(false);
      expect(await repo.get('ord_2')).toBeUndefined();
      const other = await opened.connect();
      expect(await other.insert(newOrder('ord_3', { now: T0 + 2 }))).toBe(false);
      expect(await repo.insert(newOrder('ord_4', L2))).toBe(true);
      expect((await repo.list()).map((o) => o.id)).toEqual(['ord_1', 'ord_4']);
    });

    it('moves an order only from the state it is in, bumping its version', async () => {
      await repo.insert(newOrder('ord_1'));
      expect(await repo.update(move('ord_1', 'open', 'acknowledged', T0 + 10))).toBe(true);
      expect(await repo.get('ord_1')).toMatchObject({
        state: 'acknowledged',
        updatedAt: T0 + 10,
        version: 2,
      });
      // A stale caller (it read `open`) changes nothing.
      expect(await repo.update(move('ord_1', 'open', 'cancelled', T0 + 11))).toBe(false);
      expect(await repo.update(move('ord_1', 'acknowledged', 'shipped', T0 + 20, { shipped: 5 }))).toBe(true);
      expect(
        await repo.update(move('ord_1', 'shipped', 'received', T0 + 30, { shipped: 5, received: 4 })),
      ).toBe(true);
      expect(await repo.get('ord_1')).toMatchObject({
        state: 'received',
        shippedQuantity: 5,
        receivedQuantity: 4,
        createdAt: T0,
        updatedAt: T0 + 30,
        version: 4,
      });
      expect(await repo.update(move('ord_none', 'open', 'acknowledged', T0))).toBe(false);
    });

    it('a closed or cancelled order frees the lane; latest is the newest order, live or not', async () => {
      await repo.insert(newOrder('ord_1'));
      await repo.update(move('ord_1', 'open', 'cancelled', T0 + 1));
      expect(await repo.live(LANE)).toBeUndefined();
      expect((await repo.latest(LANE))?.id).toBe('ord_1');
      expect(await repo.insert(newOrder('ord_2', { now: T0 + 2 }))).toBe(true);
      expect((await repo.live(LANE))?.id).toBe('ord_2');
      expect((await repo.latest(LANE))?.id).toBe('ord_2');
    });

    it('lists received orders last changed at or before a time, oldest change first', async () => {
      for (const [id, lane, at] of [
        ['ord_1', 'l1', T0 + 30],
        ['ord_2', 'l2', T0 + 10],
        ['ord_3', 'l3', T0 + 50],
      ] as const) {
        await repo.insert(newOrder(id, { lane }));
        await repo.update(move(id, 'open', 'received', at));
      }
      await repo.insert(newOrder('ord_4', { lane: 'l4' }));
      expect((await repo.receivedBefore(T0 + 30)).map((o) => o.id)).toEqual(['ord_2', 'ord_1']);
      expect(await repo.receivedBefore(T0)).toEqual([]);
    });

    it('keeps every event of an order, oldest first', async () => {
      await repo.insert(newOrder('ord_1'));
      await repo.insert(newOrder('ord_2', L2));
      const body = (state: string) => JSON.stringify({ orderId: 'ord_1', state });
      await repo.insertEvent({
        eventId: 'evt_1',
        orderId: 'ord_1',
        state: 'open',
        actor: null,
        body: body('open'),
        ts: T0,
      });
      await repo.insertEvent({
        eventId: 'evt_2',
        orderId: 'ord_1',
        state: 'acknowledged',
        actor: JSON.stringify({ user: 'sup-1', role: 'supplier' }),
        body: body('acknowledged'),
        ts: T0 + 1,
      });
      await repo.insertEvent({
        eventId: 'evt_3',
        orderId: 'ord_2',
        state: 'open',
        actor: null,
        body: '{}',
        ts: T0,
      });
      expect(await repo.eventBodies('ord_1')).toEqual([body('open'), body('acknowledged')]);
      expect(await repo.eventBodies('ord_none')).toEqual([]);
    });

    it('counts orders per state and lists by lane, supplier, state and creation time within a limit', async () => {
      await repo.insert(newOrder('ord_1'));
      await repo.update(move('ord_1', 'open', 'closed', T0 + 1));
      await repo.insert(newOrder('ord_2', { now: T0 + 2 }));
      await repo.insert(newOrder('ord_3', { ...L2, supplier: 'globex', now: T0 + 3 }));
      await repo.update(move('ord_3', 'open', 'shipped', T0 + 4));
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

      const counts = await repo.counts();
      expect([...counts].sort((a, b) => a.state.localeCompare(b.state))).toEqual([
        { state: 'closed', n: 1 },
        { state: 'open', n: 1 },
        { state: 'shipped', n: 1 },
      ]);
      expect(ids(await repo.list())).toEqual(['ord_1', 'ord_2', 'ord_3']);
      expect(ids(await repo.list(LANE))).toEqual(['ord_1', 'ord_2']);
      expect(ids(await repo.list({ supplier: 'globex' }))).toEqual(['ord_3']);
      expect(ids(await repo.list({ state: 'live' }))).toEqual(['ord_2', 'ord_3']);
      expect(ids(await repo.list({ state: 'closed' }))).toEqual(['ord_1']);
      expect(ids(await repo.list({ from: T0 + 2, to: T0 + 3 }))).toEqual(['ord_2']);
      expect(ids(await repo.list({ limit: 1 }))).toEqual(['ord_1']);
      expect(await repo.list({ site: 's9' })).toEqual([]);
    });
  });
}
