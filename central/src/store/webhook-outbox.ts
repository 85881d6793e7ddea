/**
 * The durable webhook outbox: one row per order event, written in the same transaction as the
 * order change (so an order never exists without its notification, nor the reverse), claimed by the
 * delivery worker with a lease, retried on a persisted schedule, and dead-lettered — visibly, and
 * re-queueable — after the attempt limit.
 *
 * Events of one order go out in order: a row is claimable only when no earlier row of the same
 * order is still pending, so a supplier never sees `shipped` before `acknowledged`.
 */
import type { OrderEvent, PurchaseOrderEvent } from '@shelfsense/protocol';
import type { Db } from './database.js';
import { ReplenishmentError, ReplenishmentErrorCodes } from './errors.js';
import type { OutboxRepository } from './repositories.js';

/** What a supplier's webhook is sent: a lane order's event, or a purchase order's. */
export type WebhookEvent = OrderEvent | PurchaseOrderEvent;

/** The outbox row's key for ordering: a PO's events, like an order's, go out in order. */
export function outboxKey(event: WebhookEvent): string {
  return 'purchaseOrderId' in event ? event.purchaseOrderId : event.orderId;
}

export const OutboxStates = ['pending', 'delivered', 'dead', 'skipped'] as const;
export type OutboxState = (typeof OutboxStates)[number];

export interface OutboxEntry {
  id: number;
  eventId: string;
  orderId: string;
  supplier: string;
  idempotencyKey: string;
  /** The exact JSON text that is signed and sent. */
  body: string;
  state: OutboxState;
  /** Attempts started so far. */
  attempts: number;
  nextAttemptAt: number;
  leaseUntil: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

const COLUMNS = `id, event_id AS eventId, order_id AS orderId, supplier, idempotency_key AS idempotencyKey,
  body, state, attempts, next_attempt_at AS nextAttemptAt, lease_until AS leaseUntil,
  last_status AS lastStatus, last_error AS lastError, created_at AS createdAt, updated_at AS updatedAt,
  delivered_at AS deliveredAt`;

export class OutboxRepo implements OutboxRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO webhook_outbox
           (event_id, order_id, supplier, idempotency_key, body, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      due: db.prepare<{ now: number; limit: number }, OutboxEntry>(
        `SELECT ${COLUMNS} FROM webhook_outbox o
         WHERE o.state = 'pending' AND o.next_attempt_at <= @now
           AND (o.lease_until IS NULL OR o.lease_until <= @now)
           AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                           WHERE p.order_id = o.order_id AND p.state = 'pending' AND p.id < o.id)
         ORDER BY o.next_attempt_at, o.id LIMIT @limit`,
      ),
      lease: db.prepare(
        `UPDATE webhook_outbox SET lease_until = ?, attempts = attempts + 1, updated_at = ?
         WHERE id = ? AND state = 'pending'`,
      ),
      get: db.prepare<[number], OutboxEntry>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE id = ?`),
      byEvent: db.prepare<[string], OutboxEntry>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE event_id = ?`),
      delivered: db.prepare(
        `UPDATE webhook_outbox SET state = 'delivered', lease_until = NULL, last_status = ?, last_error = NULL,
           delivered_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      failed: db.prepare(
        `UPDATE webhook_outbox SET state = ?, lease_until = NULL, last_status = ?, last_error = ?,
           next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      release: db.prepare(
        `UPDATE webhook_outbox SET lease_until = NULL, attempts = max(0, attempts - 1), updated_at = ?
         WHERE id = ? AND state = 'pending'`,
      ),
      nextDue: db
        .prepare<[], number | null>(
          `SELECT min(max(o.next_attempt_at, coalesce(o.lease_until, 0))) FROM webhook_outbox o
           WHERE o.state = 'pending' AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
             WHERE p.order_id = o.order_id AND p.state = 'pending' AND p.id < o.id)`,
        )
        .pluck(),
      requeue: db.prepare(
        `UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL,
           updated_at = ? WHERE id = ? AND state IN ('dead', 'skipped')`,
      ),
      counts: db.prepare<[], { state: OutboxState; n: number }>(
        'SELECT state, count(*) AS n FROM webhook_outbox GROUP BY state',
      ),
    };
  }

  /** Adds an event for delivery now; call inside the transaction that made the order change. */
  enqueue(event: WebhookEvent, now: number): number {
    const body = JSON.stringify(event);
    const r = this.q.insert.run(
      event.eventId,
      outboxKey(event),
      event.supplier,
      event.idempotencyKey,
      body,
      now,
      now,
      now,
    );
    return Number(r.lastInsertRowid);
  }

  /**
   * Claims up to `limit` due entries for one attempt each: leases them until `now + leaseMs` (so a
   * second worker on the same file does not send them too) and counts the attempt.
   */
  claimDue(now: number, limit: number, leaseMs: number): OutboxEntry[] {
    return this.db
      .transaction(() => {
        const rows = this.q.due.all({ now, limit });
        for (const r of rows) this.q.lease.run(now + leaseMs, now, r.id);
        return rows.map((r) => this.q.get.get(r.id) as OutboxEntry);
      })
      .immediate();
  }

  markDelivered(id: number, status: number, now: number): boolean {
    return this.q.delivered.run(status, now, now, id).changes === 1;
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or dead-lettered when that is null. */
  markFailed(
    id: number,
    failure: { status: number | null; error: string },
    nextAttemptAt: number | null,
    now: number,
  ) {
    const state: OutboxState = nextAttemptAt === null ? 'dead' : 'pending';
    return (
      this.q.failed.run(state, failure.status, failure.error.slice(0, 1_000), nextAttemptAt ?? now, now, id)
        .changes === 1
    );
  }

  /** Nobody to send to (the supplier has no webhook configured). */
  markSkipped(id: number, reason: string, now: number): boolean {
    return this.q.failed.run('skipped', null, reason.slice(0, 1_000), now, now, id).changes === 1;
  }

  /** Gives a claimed entry back without counting the attempt (the worker stopped mid-request). */
  release(id: number, now: number): void {
    this.q.release.run(now, id);
  }

  /** When the earliest pending entry falls due (null when nothing is pending). */
  nextDueAt(): number | null {
    return this.q.nextDue.get() ?? null;
  }

  /** Puts a dead-lettered (or skipped) entry back in the queue with a fresh attempt budget. */
  requeue(id: number, now: number): OutboxEntry {
    if (this.q.requeue.run(now, now, id).changes !== 1) {
      const e = this.q.get.get(id);
      throw new ReplenishmentError(
        e ? ReplenishmentErrorCodes.TRANSITION : ReplenishmentErrorCodes.NOT_FOUND,
        e
          ? `outbox entry ${id} is ${e.state}; only dead or skipped entries can be re-queued`
          : `no outbox entry ${id}`,
      );
    }
    return this.q.get.get(id) as OutboxEntry;
  }

  get(id: number): OutboxEntry | undefined {
    return this.q.get.get(id);
  }

  byEvent(eventId: string): OutboxEntry | undefined {
    return this.q.byEvent.get(eventId);
  }

  list(q: { state?: OutboxState; supplier?: string; orderId?: string; limit?: number } = {}): OutboxEntry[] {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    if (q.state) {
      parts.push('state = @state');
      params['state'] = q.state;
    }
    if (q.supplier) {
      parts.push('supplier = @supplier');
      params['supplier'] = q.supplier;
    }
    if (q.orderId) {
      parts.push('order_id = @orderId');
      params['orderId'] = q.orderId;
    }
    params['limit'] = Math.max(1, Math.min(q.limit ?? 1_000, 100_000));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return this.db
      .prepare(`SELECT ${COLUMNS} FROM webhook_outbox ${w} ORDER BY id LIMIT @limit`)
      .all(params) as OutboxEntry[];
  }

  /** Dead letters: events that used up their attempts. */
  dead(limit = 1_000): OutboxEntry[] {
    return this.list({ state: 'dead', limit });
  }

  counts(): Record<OutboxState, number> {
    const out: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0, skipped: 0 };
    for (const r of this.q.counts.all()) out[r.state] = r.n;
    return out;
  }
}
