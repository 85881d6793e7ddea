/**
 * The durable webhook outbox on Postgres (see ../webhook-outbox.ts): one row per order event,
 * written in the transaction of the order change, claimed under a lease by any number of delivery
 * workers at once (`FOR UPDATE SKIP LOCKED`: none waits for, or takes, a row another is claiming),
 * retried on a stored schedule and dead-lettered after the attempt limit.
 *
 * Events of one order go out in order: a row is claimable only when no earlier row of the same
 * order is still pending. A leased row stays pending, so its successors wait for its outcome.
 */
import { ReplenishmentError, ReplenishmentErrorCodes } from '../errors.js';
import type { AsyncRepository, OutboxRepository } from '../repositories.js';
import { type OutboxEntry, type OutboxState, outboxKey, type WebhookEvent } from '../webhook-outbox.js';
import type { Param, PgDb, Row } from './db.js';

export const OUTBOX_SCHEMA = `
  -- Durable webhook outbox, written in the same transaction as the order change.
  CREATE TABLE webhook_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE REFERENCES order_events (event_id),
    order_id TEXT NOT NULL,
    supplier TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT
  );
  CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
  CREATE INDEX webhook_outbox_order ON webhook_outbox (order_id, id);
`;

const COLUMNS = `id, event_id AS "eventId", order_id AS "orderId", supplier, idempotency_key AS "idempotencyKey",
  body, state, attempts, next_attempt_at AS "nextAttemptAt", lease_until AS "leaseUntil",
  last_status AS "lastStatus", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
  delivered_at AS "deliveredAt"`;

type Rec = OutboxEntry & Row;

/** No earlier entry of the row's order is still pending (leased ones included). */
const FIRST_OF_ORDER = `NOT EXISTS (SELECT 1 FROM webhook_outbox p
  WHERE p.order_id = o.order_id AND p.state = 'pending' AND p.id < o.id)`;

export class PgOutboxRepo implements AsyncRepository<OutboxRepository> {
  constructor(private readonly db: PgDb) {}

  async enqueue(event: WebhookEvent, now: number): Promise<number> {
    const row = await this.db.one<{ id: number }>(
      `INSERT INTO webhook_outbox
         (event_id, order_id, supplier, idempotency_key, body, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING id`,
      [event.eventId, outboxKey(event), event.supplier, event.idempotencyKey, JSON.stringify(event), now],
    );
    return (row as { id: number }).id;
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    return this.db.transaction(async () => {
      // SKIP LOCKED: a row another worker is claiming right now is passed over, not waited for.
      // Should that worker commit before this one reaches the row, Postgres re-checks the lease
      // condition on the committed row, which now fails. The order check needs no lock: an
      // earlier row leaves `pending` only for a final state, so a row once first stays first.
      const rows = await this.db.query<Rec>(
        `WITH due AS (
           SELECT o.id AS claim_id FROM webhook_outbox o
           WHERE o.state = 'pending' AND o.next_attempt_at <= $1
             AND (o.lease_until IS NULL OR o.lease_until <= $1)
             AND ${FIRST_OF_ORDER}
           ORDER BY o.next_attempt_at, o.id LIMIT $2
           FOR UPDATE OF o SKIP LOCKED
         )
         UPDATE webhook_outbox w SET lease_until = $3, attempts = w.attempts + 1, updated_at = $1
         FROM due WHERE w.id = due.claim_id
         RETURNING ${COLUMNS}`,
        [now, Math.max(0, Math.floor(limit)), now + leaseMs],
      );
      // RETURNING keeps no order; the claim order is due time, then id.
      return rows.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
    });
  }

  async markDelivered(id: number, status: number, now: number): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE webhook_outbox SET state = 'delivered', lease_until = NULL, last_status = $1, last_error = NULL,
         delivered_at = $2, updated_at = $2 WHERE id = $3 AND state = 'pending'`,
      [status, now, id],
    );
    return n === 1;
  }

  markFailed(
    id: number,
    failure: { status: number | null; error: string },
    nextAttemptAt: number | null,
    now: number,
  ): Promise<boolean> {
    const state: OutboxState = nextAttemptAt === null ? 'dead' : 'pending';
    return this.failed(id, state, failure.status, failure.error, nextAttemptAt ?? now, now);
  }

  markSkipped(id: number, reason: string, now: number): Promise<boolean> {
    return this.failed(id, 'skipped', null, reason, now, now);
  }

  async release(id: number, now: number): Promise<void> {
    await this.db.run(
      `UPDATE webhook_outbox SET lease_until = NULL, attempts = greatest(0, attempts - 1), updated_at = $1
       WHERE id = $2 AND state = 'pending'`,
      [now, id],
    );
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.db.one<{ at: number | null }>(
      `SELECT min(greatest(o.next_attempt_at, coalesce(o.lease_until, 0))) AS at FROM webhook_outbox o
       WHERE o.state = 'pending' AND ${FIRST_OF_ORDER}`,
    );
    return row?.at ?? null;
  }

  requeue(id: number, now: number): Promise<OutboxEntry> {
    return this.db.transaction(async () => {
      const row = await this.db.one<Rec>(
        `UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL,
           updated_at = $1 WHERE id = $2 AND state IN ('dead', 'skipped')
         RETURNING ${COLUMNS}`,
        [now, id],
      );
      if (row) return row;
      const e = await this.get(id);
      throw new ReplenishmentError(
        e ? ReplenishmentErrorCodes.TRANSITION : ReplenishmentErrorCodes.NOT_FOUND,
        e
          ? `outbox entry ${id} is ${e.state}; only dead or skipped entries can be re-queued`
          : `no outbox entry ${id}`,
      );
    });
  }

  get(id: number): Promise<OutboxEntry | undefined> {
    return this.db.one<Rec>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE id = $1`, [id]);
  }

  byEvent(eventId: string): Promise<OutboxEntry | undefined> {
    return this.db.one<Rec>(`SELECT ${COLUMNS} FROM webhook_outbox WHERE event_id = $1`, [eventId]);
  }

  list(
    q: { state?: OutboxState; supplier?: string; orderId?: string; limit?: number } = {},
  ): Promise<OutboxEntry[]> {
    const parts: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param) => {
      params.push(v);
      parts.push(sql.replace('?', `$${params.length}`));
    };
    if (q.state) add('state = ?', q.state);
    if (q.supplier) add('supplier = ?', q.supplier);
    if (q.orderId) add('order_id = ?', q.orderId);
    params.push(Math.max(1, Math.min(q.limit ?? 1_000, 100_000)));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return this.db.query<Rec>(
      `SELECT ${COLUMNS} FROM webhook_outbox ${w} ORDER BY id LIMIT $${params.length}`,
      params,
    );
  }

  dead(limit = 1_000): Promise<OutboxEntry[]> {
    return this.list({ state: 'dead', limit });
  }

  async counts(): Promise<Record<OutboxState, number>> {
    const out: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0, skipped: 0 };
    const rows = await this.db.query<{ state: OutboxState; n: number }>(
      'SELECT state, count(*) AS n FROM webhook_outbox GROUP BY state',
    );
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  private async failed(
    id: number,
    state: OutboxState,
    status: number | null,
    error: string,
    nextAttemptAt: number,
    now: number,
  ): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE webhook_outbox SET state = $1, lease_until = NULL, last_status = $2, last_error = $3,
         next_attempt_at = $4, updated_at = $5 WHERE id = $6 AND state = 'pending'`,
      [state, status, error.slice(0, 1_000), nextAttemptAt, now, id],
    );
    return n === 1;
  }
}
