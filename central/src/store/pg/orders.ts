/**
 * Orders and their events on Postgres (see ../orders.ts). A partial unique index allows one live
 * (not closed, not cancelled) order per lane, so of two processes inserting one for the same lane
 * at once, one writes it and the other is told false. A state change is a compare-and-set on the
 * state the caller read. An order's `reason` and each event's body are kept as the JSON text given.
 */
import type { NewOrderRow, OrderEventRow, OrderListQuery, OrderRow, OrderUpdate } from '../orders.js';
import type { LaneRef } from '../records.js';
import type { AsyncRepository, OrdersRepository } from '../repositories.js';
import type { Param, PgDb, Row } from './db.js';

export const ORDERS_SCHEMA = `
  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    -- Insertion order, what SQLite's rowid gives: the tie-break between orders created in one ms.
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    sku TEXT NOT NULL,
    supplier TEXT NOT NULL,
    state TEXT NOT NULL
      CHECK (state IN ('open', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled')),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    shipped_quantity INTEGER,
    received_quantity INTEGER,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
  );
  -- At most one order per lane in a non-final state, whoever tries to open a second one:
  -- a restart, a replayed backlog or two workers on two machines.
  CREATE UNIQUE INDEX orders_one_live_per_lane ON orders (site, shelf, lane)
    WHERE state NOT IN ('closed', 'cancelled');
  CREATE INDEX orders_lane_created ON orders (site, shelf, lane, created_at);
  CREATE INDEX orders_supplier_state ON orders (supplier, state, created_at);
  CREATE INDEX orders_state_updated ON orders (state, updated_at);

  -- Every transition, in order: the audit trail and the body of each order event.
  CREATE TABLE order_events (
    event_id TEXT PRIMARY KEY,
    -- Insertion order, what SQLite's rowid gives: an order's events read back oldest first.
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders (id),
    state TEXT NOT NULL,
    actor TEXT,
    body TEXT NOT NULL,
    ts BIGINT NOT NULL
  );
  CREATE INDEX order_events_order ON order_events (order_id, seq);
`;

const COLUMNS = `id, site, shelf, lane, sku, supplier, state, quantity, shipped_quantity AS "shippedQuantity",
  received_quantity AS "receivedQuantity", reason, created_at AS "createdAt", updated_at AS "updatedAt", version`;

type Rec = OrderRow & Row;

export class PgOrdersRepo implements AsyncRepository<OrdersRepository> {
  constructor(private readonly db: PgDb) {}

  async insert(row: NewOrderRow): Promise<boolean> {
    // No conflict target, as SQLite's ON CONFLICT DO NOTHING: every unique index arbitrates, so a
    // second live order for the lane (even one inserted concurrently) and a reused id both write
    // nothing instead of throwing.
    const n = await this.db.run(
      `INSERT INTO orders (id, site, shelf, lane, sku, supplier, state, quantity, reason, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $9)
       ON CONFLICT DO NOTHING`,
      [row.id, row.site, row.shelf, row.lane, row.sku, row.supplier, row.quantity, row.reason, row.now],
    );
    return n !== 0;
  }

  get(id: string): Promise<OrderRow | undefined> {
    return this.db.one<Rec>(`SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
  }

  live(ref: LaneRef): Promise<OrderRow | undefined> {
    return this.db.one<Rec>(
      `SELECT ${COLUMNS} FROM orders WHERE site = $1 AND shelf = $2 AND lane = $3
       AND state NOT IN ('closed', 'cancelled')`,
      [ref.site, ref.shelf, ref.lane],
    );
  }

  latest(ref: LaneRef): Promise<OrderRow | undefined> {
    return this.db.one<Rec>(
      `SELECT ${COLUMNS} FROM orders WHERE site = $1 AND shelf = $2 AND lane = $3
       ORDER BY created_at DESC, seq DESC LIMIT 1`,
      [ref.site, ref.shelf, ref.lane],
    );
  }

  receivedBefore(ts: number): Promise<OrderRow[]> {
    return this.db.query<Rec>(
      `SELECT ${COLUMNS} FROM orders WHERE state = 'received' AND updated_at <= $1 ORDER BY updated_at, seq`,
      [ts],
    );
  }

  async update(u: OrderUpdate): Promise<boolean> {
    // Compare-and-set: a concurrent change of the same order holds the row lock, and once it
    // commits this statement re-checks `state = from` on the new row and changes nothing.
    const n = await this.db.run(
      `UPDATE orders SET state = $1, shipped_quantity = $2, received_quantity = $3, updated_at = $4,
         version = version + 1
       WHERE id = $5 AND state = $6`,
      [u.to, u.shipped, u.received, u.now, u.id, u.from],
    );
    return n === 1;
  }

  async insertEvent(e: OrderEventRow): Promise<void> {
    await this.db.run(
      'INSERT INTO order_events (event_id, order_id, state, actor, body, ts) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.eventId, e.orderId, e.state, e.actor, e.body, e.ts],
    );
  }

  async eventBodies(orderId: string): Promise<string[]> {
    const rows = await this.db.query<{ body: string }>(
      'SELECT body FROM order_events WHERE order_id = $1 ORDER BY seq',
      [orderId],
    );
    return rows.map((r) => r.body);
  }

  counts(): Promise<{ state: string; n: number }[]> {
    return this.db.query<{ state: string; n: number }>(
      'SELECT state, count(*) AS n FROM orders GROUP BY state',
    );
  }

  list(q: OrderListQuery = {}): Promise<OrderRow[]> {
    const parts: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param) => {
      params.push(v);
      parts.push(sql.replace('?', `$${params.length}`));
    };
    for (const k of ['site', 'shelf', 'lane', 'supplier'] as const) {
      const v = q[k];
      if (v !== undefined) add(`${k} = ?`, v);
    }
    if (q.state === 'live') parts.push(`state NOT IN ('closed', 'cancelled')`);
    else if (q.state) add('state = ?', q.state);
    if (q.from !== undefined) add('created_at >= ?', q.from);
    if (q.to !== undefined) add('created_at < ?', q.to);
    params.push(Math.max(1, Math.min(q.limit ?? 1_000, 100_000)));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    // Ids compare bytewise, as SQLite's BINARY collation does, whatever the database's locale.
    return this.db.query<Rec>(
      `SELECT ${COLUMNS} FROM orders ${w} ORDER BY created_at, id COLLATE "C" LIMIT $${params.length}`,
      params,
    );
  }
}
