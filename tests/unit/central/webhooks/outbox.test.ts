import { OrderService } from '@shelfsense/central/orders';
import { isReplenishmentError, ReplenishmentErrorCodes, Store } from '@shelfsense/central/store';
import { OutboxRepo } from '@shelfsense/central/webhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from '../store/fixtures.js';

const T0 = 1_700_000_000_000;

describe('webhooks: the durable outbox', () => {
  let tmp: TempDir;
  let store: Store;
  let orders: OrderService;

  beforeEach(() => {
    tmp = tempDir('shelfsense-outbox-');
    store = Store.open(tmp.file());
    orders = new OrderService(store);
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  function order(lane = 'l1') {
    return orders.openForLane(
      { ...LANE, lane, sku: 'cola-330', supplier: 'acme', quantity: 6, reason: { trigger: 'rules' } },
      T0,
    ).order;
  }

  it("sends one order's events in order: a later event waits while an earlier one is pending", () => {
    const a = order('l1');
    orders.transition(a.id, 'acknowledged', { now: T0 });
    const b = order('l2');
    const claimed = orders.outbox.claimDue(T0, 10, 1_000);
    // a:open and b:open are due; a:acknowledged waits for a:open.
    expect(claimed.map((e) => e.idempotencyKey)).toEqual([`${a.id}:open`, `${b.id}:open`]);
    expect(claimed.every((e) => e.attempts === 1)).toBe(true);
    expect(orders.outbox.claimDue(T0, 10, 1_000)).toEqual([]);
    orders.outbox.markDelivered(claimed[0]?.id as number, 200, T0 + 1);
    // Still leased: nothing new until the lease ends, then a:acknowledged is next.
    expect(orders.outbox.claimDue(T0 + 2, 10, 1_000).map((e) => e.idempotencyKey)).toEqual([
      `${a.id}:acknowledged`,
    ]);
  });

  it('a lease keeps a second connection from claiming the same entry; an expired lease frees it', () => {
    order();
    const otherStore = Store.open(tmp.file());
    const other = new OutboxRepo(otherStore.db);
    try {
      expect(orders.outbox.claimDue(T0, 10, 5_000)).toHaveLength(1);
      expect(other.claimDue(T0 + 1_000, 10, 5_000)).toEqual([]);
      // The first worker died mid-request: after the lease the entry is claimable again, attempt 2.
      expect(other.claimDue(T0 + 5_000, 10, 5_000).map((e) => e.attempts)).toEqual([2]);
    } finally {
      otherStore.close();
    }
  });

  it('records retries, dead letters, skips; dead letters can be re-queued', () => {
    order();
    const [e] = orders.outbox.claimDue(T0, 1, 1_000);
    const id = e?.id as number;
    orders.outbox.markFailed(id, { status: 500, error: 'HTTP 500' }, T0 + 100, T0);
    expect(orders.outbox.get(id)).toMatchObject({
      state: 'pending',
      lastStatus: 500,
      nextAttemptAt: T0 + 100,
    });
    expect(orders.outbox.nextDueAt()).toBe(T0 + 100);
    expect(orders.outbox.claimDue(T0 + 99, 1, 1_000)).toEqual([]);
    orders.outbox.claimDue(T0 + 100, 1, 1_000);
    orders.outbox.markFailed(id, { status: null, error: 'ECONNREFUSED' }, null, T0 + 200);
    expect(orders.outbox.dead()).toEqual([
      expect.objectContaining({ id, state: 'dead', attempts: 2, lastError: 'ECONNREFUSED' }),
    ]);
    expect(orders.outbox.counts()).toEqual({ pending: 0, delivered: 0, dead: 1, skipped: 0 });
    expect(orders.outbox.nextDueAt()).toBeNull();
    expect(orders.outbox.requeue(id, T0 + 300)).toMatchObject({
      state: 'pending',
      attempts: 0,
      nextAttemptAt: T0 + 300,
    });
    try {
      orders.outbox.requeue(id, T0);
      expect.unreachable();
    } catch (err) {
      expect(isReplenishmentError(err, ReplenishmentErrorCodes.TRANSITION)).toBe(true);
    }
    orders.outbox.markSkipped(id, 'no webhook', T0);
    expect(orders.outbox.list({ state: 'skipped' })).toHaveLength(1);
  });
});
