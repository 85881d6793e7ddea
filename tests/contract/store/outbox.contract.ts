/**
 * The webhook outbox repository: one entry per order event, claimed under a lease (one attempt
 * each), delivered, retried on a stored schedule, dead-lettered, re-queued. One order's events go
 * out in order: an entry is claimable only when no earlier entry of its order is pending.
 */

import type { AsyncRepository } from '@shelfsense/central/store';
import {
  isReplenishmentError,
  type OrdersRepository,
  type OutboxRepository,
  ReplenishmentErrorCodes,
} from '@shelfsense/central/store';
import type { OrderEvent, OrderState } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE } from '../../unit/central/store/fixtures.js';
import { newOrder } from './orders.contract.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

export interface OutboxFixture {
  /** An entry belongs to a recorded order event: the suite records them here first. */
  orders: AsyncRepository<OrdersRepository>;
}

const LEASE_MS = 1_000;

/** An order event on a lane of its own (named as the order), as the order service makes one. */
export function orderEvent(
  orderId: string,
  state: OrderState,
  ts = T0,
  over: Partial<OrderEvent> = {},
): OrderEvent {
  return {
    eventId: `evt_${orderId}_${state}`,
    idempotencyKey: `${orderId}:${state}`,
    orderId,
    state,
    ...LANE,
    lane: orderId,
    sku: 'cola-330',
    supplier: 'acme',
    quantity: 6,
    receivedQuantity: null,
    ts,
    ...over,
  };
}

export function outboxContract(make: RepoFactory<OutboxRepository, OutboxFixture>): void {
  describe('webhook outbox repository', () => {
    let opened: Opened<OutboxRepository> & OutboxFixture;
    let repo: AsyncRepository<OutboxRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    /** Records an order event (and its order, the first time) and queues it, due at `now`. */
    async function enqueue(
      orderId: string,
      state: OrderState,
      now = T0,
      over: Partial<OrderEvent> = {},
    ): Promise<{ id: number; event: OrderEvent }> {
      const event = orderEvent(orderId, state, now, over);
      if (!(await opened.orders.get(orderId))) {
        await opened.orders.insert(newOrder(orderId, { lane: event.lane, supplier: event.supplier }));
      }
      const body = JSON.stringify(event);
      await opened.orders.insertEvent({ eventId: event.eventId, orderId, state, actor: null, body, ts: now });
      return { id: await repo.enqueue(event, now), event };
    }

    it('queues an event due now, keeping the exact text that is signed and sent', async () => {
      const { id, event } = await enqueue('ord_a', 'open');
      const entry = await repo.get(id);
      expect(entry).toEqual({
        id,
        eventId: event.eventId,
        orderId: 'ord_a',
        supplier: 'acme',
        idempotencyKey: 'ord_a:open',
        body: JSON.stringify(event),
        state: 'pending',
        attempts: 0,
        nextAttemptAt: T0,
        leaseUntil: null,
        lastStatus: null,
        lastError: null,
        createdAt: T0,
        updatedAt: T0,
        deliveredAt: null,
      });
      expect(await repo.byEvent(event.eventId)).toEqual(entry);
      expect(await repo.byEvent('evt_none')).toBeUndefined();
      expect(await repo.get(id + 1_000)).toBeUndefined();
      expect(await repo.nextDueAt()).toBe(T0);
    });

    it("claims due entries under a lease, one attempt each, and holds back an order's later events", async () => {
      const a = await enqueue('ord_a', 'open');
      const a2 = await enqueue('ord_a', 'acknowledged');
      const b = await enqueue('ord_b', 'open');
      const claimed = await repo.claimDue(T0, 10, LEASE_MS);
      expect(claimed.map((e) => e.id)).toEqual([a.id, b.id]);
      expect(claimed.every((e) => e.attempts === 1 && e.leaseUntil === T0 + LEASE_MS)).toBe(true);
      // Leased: not claimed again; a:acknowledged waits for a:open.
      expect(await repo.claimDue(T0 + 1, 10, LEASE_MS)).toEqual([]);

      expect(await repo.markDelivered(a.id, 200, T0 + 2)).toBe(true);
      expect(await repo.get(a.id)).toMatchObject({
        state: 'delivered',
        lastStatus: 200,
        deliveredAt: T0 + 2,
        leaseUntil: null,
      });
      expect(await repo.markDelivered(a.id, 200, T0 + 3)).toBe(false);
      expect((await repo.claimDue(T0 + 3, 10, LEASE_MS)).map((e) => e.id)).toEqual([a2.id]);
    });

    it('claims at most `limit` entries, earliest due first', async () => {
      const late = await enqueue('ord_a', 'open', T0 + 5);
      const early = await enqueue('ord_b', 'open', T0);
      await enqueue('ord_c', 'open', T0 + 9);
      expect((await repo.claimDue(T0 + 10, 2, LEASE_MS)).map((e) => e.id)).toEqual([early.id, late.id]);
      expect(await repo.claimDue(T0 - 1, 10, LEASE_MS)).toEqual([]);
    });

    it('a lease keeps another connection from claiming the entry; an expired lease frees it for the next attempt', async () => {
      const { id } = await enqueue('ord_a', 'open');
      const other = await opened.connect();
      expect(await repo.claimDue(T0, 10, 5 * LEASE_MS)).toHaveLength(1);
      expect(await other.claimDue(T0 + LEASE_MS, 10, 5 * LEASE_MS)).toEqual([]);
      expect(await repo.nextDueAt()).toBe(T0 + 5 * LEASE_MS);
      const retaken = await other.claimDue(T0 + 5 * LEASE_MS, 10, 5 * LEASE_MS);
      expect(retaken.map((e) => [e.id, e.attempts])).toEqual([[id, 2]]);
    });

    it('a released entry is claimable at once, its attempt not counted', async () => {
      const { id } = await enqueue('ord_a', 'open');
      await repo.claimDue(T0, 10, LEASE_MS);
      await repo.release(id, T0 + 1);
      expect(await repo.get(id)).toMatchObject({ state: 'pending', attempts: 0, leaseUntil: null });
      expect((await repo.claimDue(T0 + 1, 10, LEASE_MS)).map((e) => e.attempts)).toEqual([1]);
    });

    it('retries on a stored schedule, dead-letters after the last attempt, and re-queues a dead letter', async () => {
      const { id } = await enqueue('ord_a', 'open');
      await repo.claimDue(T0, 1, LEASE_MS);
      expect(await repo.markFailed(id, { status: 500, error: 'HTTP 500' }, T0 + 100, T0)).toBe(true);
      expect(await repo.get(id)).toMatchObject({
        state: 'pending',
        lastStatus: 500,
        lastError: 'HTTP 500',
        nextAttemptAt: T0 + 100,
        leaseUntil: null,
      });
      expect(await repo.nextDueAt()).toBe(T0 + 100);
      expect(await repo.claimDue(T0 + 99, 1, LEASE_MS)).toEqual([]);
      await repo.claimDue(T0 + 100, 1, LEASE_MS);
      const long = 'x'.repeat(5_000);
      expect(await repo.markFailed(id, { status: null, error: long }, null, T0 + 200)).toBe(true);
      const dead = await repo.dead();
      expect(dead).toEqual([expect.objectContaining({ id, state: 'dead', attempts: 2, lastStatus: null })]);
      // The error kept is bounded.
      expect(dead[0]?.lastError?.length).toBeLessThanOrEqual(1_000);
      expect(await repo.counts()).toEqual({ pending: 0, delivered: 0, dead: 1, skipped: 0 });
      expect(await repo.nextDueAt()).toBeNull();
      expect(await repo.markFailed(id, { status: 500, error: 'late' }, T0 + 300, T0 + 300)).toBe(false);

      expect(await repo.requeue(id, T0 + 300)).toMatchObject({
        state: 'pending',
        attempts: 0,
        nextAttemptAt: T0 + 300,
      });
      expect(await repo.nextDueAt()).toBe(T0 + 300);
    });

    it('skips an entry nobody can receive; skipped entries can be re-queued, others not', async () => {
      const { id } = await enqueue('ord_a', 'open');
      const pending = await enqueue('ord_b', 'open');
      expect(await repo.markSkipped(id, 'no webhook for acme', T0)).toBe(true);
      expect(await repo.get(id)).toMatchObject({ state: 'skipped', lastError: 'no webhook for acme' });
      expect(await repo.requeue(id, T0 + 1)).toMatchObject({ state: 'pending', attempts: 0 });
      const codeOf = async (fn: () => unknown) => {
        try {
          await fn();
          return undefined;
        } catch (err) {
          return isReplenishmentError(err) ? err.code : String(err);
        }
      };
      expect(await codeOf(() => repo.requeue(pending.id, T0))).toBe(ReplenishmentErrorCodes.TRANSITION);
      expect(await codeOf(() => repo.requeue(pending.id + 1_000, T0))).toBe(
        ReplenishmentErrorCodes.NOT_FOUND,
      );
    });

    it('lists by state, supplier and order in id order, within a limit, and counts per state', async () => {
      const a = await enqueue('ord_a', 'open');
      const a2 = await enqueue('ord_a', 'acknowledged');
      const b = await enqueue('ord_b', 'open', T0, { supplier: 'globex' });
      await repo.claimDue(T0, 10, LEASE_MS);
      await repo.markDelivered(a.id, 204, T0 + 1);
      const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
      expect(ids(await repo.list())).toEqual([a.id, a2.id, b.id]);
      expect(ids(await repo.list({ state: 'pending' }))).toEqual([a2.id, b.id]);
      expect(ids(await repo.list({ supplier: 'globex' }))).toEqual([b.id]);
      expect(ids(await repo.list({ orderId: 'ord_a' }))).toEqual([a.id, a2.id]);
      expect(ids(await repo.list({ limit: 2 }))).toEqual([a.id, a2.id]);
      expect(await repo.counts()).toEqual({ pending: 2, delivered: 1, dead: 0, skipped: 0 });
    });
  });
}
