/**
 * The `orders` and `order_events` tables. A partial unique index allows one live (not closed, not
 * cancelled) order per lane, so inserting a second one for a lane changes nothing. The order
 * service (orders/orders.ts) owns the state machine, the events' content and the transactions;
 * this repository only reads and writes rows. An order's `reason` is stored as JSON text.
 */
import type { OrderState } from '@shelfsense/protocol';
import type { Db } from './database.js';
import type { LaneRef } from './records.js';
import type { OrdersRepository } from './repositories.js';

export interface OrderRow extends LaneRef {
  id: string;
  sku: string;
  supplier: string;
  state: OrderState;
  quantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
  /** JSON text. */
  reason: string;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface NewOrderRow extends LaneRef {
  id: string;
  sku: string;
  supplier: string;
  quantity: number;
  /** JSON text. */
  reason: string;
  now: number;
}

export interface OrderUpdate {
  id: string;
  from: OrderState;
  to: OrderState;
  shipped: number | null;
  received: number | null;
  now: number;
}

export interface OrderEventRow {
  eventId: string;
  orderId: string;
  state: OrderState;
  /** JSON text of the actor, null for the system. */
  actor: string | null;
  /** JSON text of the event. */
  body: string;
  ts: number;
}

export type OrderListQuery = Partial<LaneRef> & {
  supplier?: string;
  state?: OrderState | 'live';
  from?: number;
  to?: number;
  limit?: number;
};

const COLUMNS = `id, site, shelf, lane, sku, supplier, state, quantity, shipped_quantity AS shippedQuantity,
  received_quantity AS receivedQuantity, reason, created_at AS createdAt, updated_at AS updatedAt, version`;

export class OrdersRepo implements OrdersRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      insert: db.prepare(
        `INSERT INTO orders (id, site, shelf, lane, sku, supplier, state, quantity, reason, created_at, updated_at)
         VALUES (@id, @site, @shelf, @lane, @sku, @supplier, 'open', @quantity, @reason, @now, @now)
         ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare<[string], OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = ?`),
      live: db.prepare<[string, string, string], OrderRow>(
        `SELECT ${COLUMNS} FROM orders WHERE site = ? AND shelf = ? AND lane = ?
         AND state NOT IN ('closed', 'cancelled')`,
      ),
      update: db.prepare(
        `UPDATE orders SET state = @to, shipped_quantity = @shipped, received_quantity = @received,
           updated_at = @now, version = version + 1
         WHERE id = @id AND state = @from`,
      ),
      insertEvent: db.prepare(
        'INSERT INTO order_events (event_id, order_id, state, actor, body, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      events: db
        .prepare<[string], string>('SELECT body FROM order_events WHERE order_id = ? ORDER BY rowid')
        .pluck(),
      latest: db.prepare<[string, string, string], OrderRow>(
        `SELECT ${COLUMNS} FROM orders WHERE site = ? AND shelf = ? AND lane = ?
         ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      ),
      receivedBefore: db.prepare<[number], OrderRow>(
        `SELECT ${COLUMNS} FROM orders WHERE state = 'received' AND updated_at <= ? ORDER BY updated_at`,
      ),
    };
  }

  /** Inserts a new open order; false when the lane already has a live one (nothing written). */
  insert(row: NewOrderRow): boolean {
    return this.q.insert.run(row).changes !== 0;
  }

  get(id: string): OrderRow | undefined {
    return this.q.get.get(id);
  }

  /** The lane's live order, if any. */
  live(ref: LaneRef): OrderRow | undefined {
    return this.q.live.get(ref.site, ref.shelf, ref.lane);
  }

  /** The lane's newest order, live or not. */
  latest(ref: LaneRef): OrderRow | undefined {
    return this.q.latest.get(ref.site, ref.shelf, ref.lane);
  }

  /** Orders in `received` last changed at or before `ts`, oldest change first. */
  receivedBefore(ts: number): OrderRow[] {
    return this.q.receivedBefore.all(ts);
  }

  /** Moves an order from `from` to `to`; false when it was no longer in `from`. */
  update(u: OrderUpdate): boolean {
    return this.q.update.run(u).changes === 1;
  }

  insertEvent(e: OrderEventRow): void {
    this.q.insertEvent.run(e.eventId, e.orderId, e.state, e.actor, e.body, e.ts);
  }

  /** The JSON text of every event of an order, oldest first. */
  eventBodies(orderId: string): string[] {
    return this.q.events.all(orderId);
  }

  /** How many orders are in each state (states with none are absent). */
  counts(): { state: string; n: number }[] {
    return this.db
      .prepare<[], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM orders GROUP BY state')
      .all();
  }

  list(q: OrderListQuery = {}): OrderRow[] {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    for (const k of ['site', 'shelf', 'lane', 'supplier'] as const) {
      const v = q[k];
      if (v !== undefined) {
        parts.push(`${k} = @${k}`);
        params[k] = v;
      }
    }
    if (q.state === 'live') parts.push(`state NOT IN ('closed', 'cancelled')`);
    else if (q.state) {
      parts.push('state = @state');
      params['state'] = q.state;
    }
    if (q.from !== undefined) {
      parts.push('created_at >= @from');
      params['from'] = q.from;
    }
    if (q.to !== undefined) {
      parts.push('created_at < @to');
      params['to'] = q.to;
    }
    params['limit'] = Math.max(1, Math.min(q.limit ?? 1_000, 100_000));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return this.db
      .prepare(`SELECT ${COLUMNS} FROM orders ${w} ORDER BY created_at, id LIMIT @limit`)
      .all(params) as OrderRow[];
  }
}
