/**
 * Purchase orders as rows: `purchase_orders`, their SKU lines (`po_lines`), the lane needs on each
 * line (`po_needs`), their events and their receipt discrepancies. The guarantees live in the
 * schema: at most one draft per site and supplier (a partial unique index), one line per SKU of a
 * PO, and a lane order on one line of one PO, ever (`po_needs` is keyed by the order), so neither a
 * restart nor a replay can put a need on two lines. The purchase-order service (orders/
 * purchase-orders.ts) owns the lifecycle and the transactions.
 *
 * The statements are written once, with `?` placeholders, for both SQLite and Postgres.
 */
import type { DiscrepancyKinds, DiscrepancyResolutions, PurchaseOrderState } from '@shelfsense/protocol';
import type { Db } from './database.js';
import type { PurchaseOrdersRepository } from './repositories.js';

export interface PoRow {
  id: string;
  site: string;
  supplier: string;
  state: PurchaseOrderState;
  /** 0 or 1. */
  urgent: number;
  cutoffAt: number | null;
  deliveryDueAt: number | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  acknowledgedAt: number | null;
  shippedAt: number | null;
  receivedAt: number | null;
  closedAt: number | null;
  version: number;
}

export interface NewPoRow {
  id: string;
  site: string;
  supplier: string;
  cutoffAt: number | null;
  deliveryDueAt: number | null;
  now: number;
}

export interface PoLineRow {
  id: number;
  poId: string;
  sku: string;
  quantity: number;
  manualQuantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
  proposedQuantity: number | null;
  proposalNote: string | null;
  proposedBy: string | null;
  proposedAt: number | null;
}

/** A lane need on a line, with its lane order's figures. */
export interface PoNeedRow {
  orderId: string;
  lineId: number;
  shelf: string;
  lane: string;
  sku: string;
  quantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
  orderState: string;
}

export type DiscrepancyKind = (typeof DiscrepancyKinds)[number];
export type DiscrepancyResolution = (typeof DiscrepancyResolutions)[number];

export interface DiscrepancyRow {
  id: string;
  poId: string;
  site: string;
  supplier: string;
  sku: string;
  kind: DiscrepancyKind;
  expected: number;
  counted: number;
  state: 'open' | 'resolved';
  resolution: DiscrepancyResolution | null;
  note: string | null;
  openedAt: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
}

export interface PoEventRow {
  eventId: string;
  poId: string;
  state: PurchaseOrderState;
  actor: string | null;
  body: string;
  ts: number;
}

export interface PoListQuery {
  site?: string;
  supplier?: string;
  state?: PurchaseOrderState;
  limit?: number;
}

/** Which time column each state stamps when entered. */
export const STATE_STAMP: Readonly<Partial<Record<PurchaseOrderState, string>>> = {
  sent: 'sent_at',
  acknowledged: 'acknowledged_at',
  shipped: 'shipped_at',
  received: 'received_at',
  closed: 'closed_at',
  cancelled: 'closed_at',
};

const PO_COLUMNS = `id, site, supplier, state, urgent, cutoff_at AS "cutoffAt", delivery_due_at AS "deliveryDueAt",
  created_at AS "createdAt", updated_at AS "updatedAt", sent_at AS "sentAt",
  acknowledged_at AS "acknowledgedAt", shipped_at AS "shippedAt", received_at AS "receivedAt",
  closed_at AS "closedAt", version`;
const LINE_COLUMNS = `id, po_id AS "poId", sku, quantity, manual_quantity AS "manualQuantity",
  shipped_quantity AS "shippedQuantity", received_quantity AS "receivedQuantity",
  proposed_quantity AS "proposedQuantity", proposal_note AS "proposalNote",
  proposed_by AS "proposedBy", proposed_at AS "proposedAt"`;
const DISCREPANCY_COLUMNS = `d.id, d.po_id AS "poId", p.site, p.supplier, d.sku, d.kind, d.expected, d.counted,
  d.state, d.resolution, d.note, d.opened_at AS "openedAt", d.resolved_at AS "resolvedAt",
  d.resolved_by AS "resolvedBy"`;

/** The statements, with positional `?` parameters (Postgres numbers them). */
export const PO_SQL = {
  insert: `INSERT INTO purchase_orders (id, site, supplier, state, urgent, cutoff_at, delivery_due_at,
      created_at, updated_at) VALUES (?, ?, ?, 'draft', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  get: `SELECT ${PO_COLUMNS} FROM purchase_orders WHERE id = ?`,
  draft: `SELECT ${PO_COLUMNS} FROM purchase_orders WHERE site = ? AND supplier = ? AND state = 'draft'`,
  dueDrafts: `SELECT ${PO_COLUMNS} FROM purchase_orders WHERE state = 'draft' AND cutoff_at <= ?
      ORDER BY cutoff_at, id`,
  nextCutoff: `SELECT min(cutoff_at) AS "at" FROM purchase_orders WHERE state = 'draft'`,
  markUrgent: `UPDATE purchase_orders SET urgent = 1, updated_at = ? WHERE id = ?`,
  touch: `UPDATE purchase_orders SET updated_at = ?, version = version + 1 WHERE id = ?`,
  line: `SELECT ${LINE_COLUMNS} FROM po_lines WHERE po_id = ? AND sku = ?`,
  lineById: `SELECT ${LINE_COLUMNS} FROM po_lines WHERE id = ?`,
  lines: `SELECT ${LINE_COLUMNS} FROM po_lines WHERE po_id = ? ORDER BY sku`,
  insertLine: `INSERT INTO po_lines (po_id, sku, quantity, manual_quantity) VALUES (?, ?, ?, ?)
      ON CONFLICT (po_id, sku) DO UPDATE SET quantity = po_lines.quantity + excluded.quantity,
        manual_quantity = po_lines.manual_quantity + excluded.manual_quantity
      RETURNING id`,
  setLineQuantity: 'UPDATE po_lines SET quantity = ? WHERE id = ?',
  setLineShipped: 'UPDATE po_lines SET shipped_quantity = ? WHERE id = ?',
  setLineReceived: 'UPDATE po_lines SET received_quantity = ? WHERE id = ?',
  setProposal: `UPDATE po_lines SET proposed_quantity = ?, proposal_note = ?, proposed_by = ?, proposed_at = ?
      WHERE id = ?`,
  addNeed: `INSERT INTO po_needs (order_id, po_id, line_id, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT DO NOTHING`,
  unattached: `SELECT o.id FROM orders o WHERE o.state = 'open'
      AND NOT EXISTS (SELECT 1 FROM po_needs n WHERE n.order_id = o.id)
      AND NOT EXISTS (SELECT 1 FROM webhook_outbox w WHERE w.order_id = o.id)
      ORDER BY o.created_at LIMIT ?`,
  needOf: `SELECT po_id AS "poId", line_id AS "lineId" FROM po_needs WHERE order_id = ?`,
  needs: `SELECT n.order_id AS "orderId", n.line_id AS "lineId", o.shelf, o.lane, o.sku, o.quantity,
        o.shipped_quantity AS "shippedQuantity", o.received_quantity AS "receivedQuantity",
        o.state AS "orderState"
      FROM po_needs n JOIN orders o ON o.id = n.order_id WHERE n.po_id = ? ORDER BY o.shelf, o.lane`,
  insertEvent: 'INSERT INTO po_events (event_id, po_id, state, actor, body, ts) VALUES (?, ?, ?, ?, ?, ?)',
  events: 'SELECT body FROM po_events WHERE po_id = ? ORDER BY rowid',
  openDiscrepancy: `INSERT INTO po_discrepancies (id, po_id, sku, kind, expected, counted, state, opened_at)
      VALUES (?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT DO NOTHING`,
  discrepancy: `SELECT ${DISCREPANCY_COLUMNS} FROM po_discrepancies d JOIN purchase_orders p ON p.id = d.po_id
      WHERE d.id = ?`,
  discrepancies: `SELECT ${DISCREPANCY_COLUMNS} FROM po_discrepancies d
      JOIN purchase_orders p ON p.id = d.po_id ORDER BY d.opened_at, d.id LIMIT ?`,
  discrepanciesOf: `SELECT ${DISCREPANCY_COLUMNS} FROM po_discrepancies d
      JOIN purchase_orders p ON p.id = d.po_id WHERE d.po_id = ? ORDER BY d.sku`,
  resolveDiscrepancy: `UPDATE po_discrepancies SET state = 'resolved', resolution = ?, note = ?, resolved_at = ?,
      resolved_by = ? WHERE id = ? AND state = 'open'`,
  /** Sent → received time of received or closed POs, newest first. */
  leadTimes: `SELECT sent_at AS "sentAt", received_at AS "receivedAt" FROM purchase_orders
      WHERE site = ? AND supplier = ? AND sent_at IS NOT NULL AND received_at IS NOT NULL
      ORDER BY received_at DESC LIMIT ?`,
} as const;

/** `UPDATE` moving a PO from one state to another (compare-and-set), stamping the state's time. */
export function moveSql(to: PurchaseOrderState): string {
  const stamp = STATE_STAMP[to];
  return `UPDATE purchase_orders SET state = ?, updated_at = ?, version = version + 1${
    stamp ? `, ${stamp} = ?` : ''
  } WHERE id = ? AND state = ?`;
}

/** Positional parameters for `moveSql(to)`. */
export function moveParams(id: string, from: PurchaseOrderState, to: PurchaseOrderState, now: number) {
  return STATE_STAMP[to] ? [to, now, now, id, from] : [to, now, id, from];
}

/** `SELECT` of POs matching a list query, oldest first, with its positional parameters. */
export function listSql(q: PoListQuery): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const k of ['site', 'supplier', 'state'] as const) {
    const v = q[k];
    if (v !== undefined) {
      parts.push(`${k} = ?`);
      params.push(v);
    }
  }
  params.push(Math.max(1, Math.min(q.limit ?? 1_000, 100_000)));
  const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  return { sql: `SELECT ${PO_COLUMNS} FROM purchase_orders ${w} ORDER BY created_at, id LIMIT ?`, params };
}

/** The SQLite schema (migration 9); the Postgres one is pg/purchase-orders.ts. */
export const PURCHASE_ORDERS_SQLITE = `
  CREATE TABLE purchase_orders (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    supplier TEXT NOT NULL,
    state TEXT NOT NULL
      CHECK (state IN ('draft', 'sent', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled')),
    urgent INTEGER NOT NULL DEFAULT 0,
    cutoff_at INTEGER,
    delivery_due_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    acknowledged_at INTEGER,
    shipped_at INTEGER,
    received_at INTEGER,
    closed_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
  );
  -- One PO gathering per supplier and site at a time.
  CREATE UNIQUE INDEX purchase_orders_one_draft ON purchase_orders (site, supplier) WHERE state = 'draft';
  CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier, state, created_at);
  CREATE INDEX purchase_orders_site ON purchase_orders (site, state, created_at);
  CREATE TABLE po_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    manual_quantity INTEGER NOT NULL DEFAULT 0 CHECK (manual_quantity >= 0),
    shipped_quantity INTEGER,
    received_quantity INTEGER,
    proposed_quantity INTEGER,
    proposal_note TEXT,
    proposed_by TEXT,
    proposed_at INTEGER,
    UNIQUE (po_id, sku)
  );
  -- One need, one line, ever: a lane order joins at most one line of one PO.
  CREATE TABLE po_needs (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    line_id INTEGER NOT NULL REFERENCES po_lines (id),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX po_needs_po ON po_needs (po_id);
  CREATE TABLE po_events (
    event_id TEXT PRIMARY KEY,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    state TEXT NOT NULL,
    actor TEXT,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL
  );
  CREATE INDEX po_events_po ON po_events (po_id, ts);
  -- A delivery counted on the shelf that differs from what was shipped: one per PO line.
  CREATE TABLE po_discrepancies (
    id TEXT PRIMARY KEY,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    sku TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('short', 'over', 'wrong-item')),
    expected INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
    resolution TEXT CHECK (resolution IN ('accept', 'credit', 'redeliver')),
    note TEXT,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT,
    UNIQUE (po_id, sku)
  );
  -- The outbox now carries PO events too (kept in po_events): its event no longer references
  -- order_events. SQLite drops a reference by rebuilding the table.
  CREATE TABLE webhook_outbox_v9 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    supplier TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER
  );
  INSERT INTO webhook_outbox_v9 SELECT id, event_id, order_id, supplier, idempotency_key, body, state, attempts,
    next_attempt_at, lease_until, last_status, last_error, created_at, updated_at, delivered_at
    FROM webhook_outbox;
  DROP TABLE webhook_outbox;
  ALTER TABLE webhook_outbox_v9 RENAME TO webhook_outbox;
  CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
  CREATE INDEX webhook_outbox_order ON webhook_outbox (order_id, id);
`;

export class PurchaseOrdersRepo implements PurchaseOrdersRepository {
  constructor(private readonly db: Db) {}

  private run(sql: string, params: readonly unknown[]): number {
    return this.db.prepare(sql).run(...params).changes;
  }
  private one<T>(sql: string, params: readonly unknown[]): T | undefined {
    return this.db.prepare(sql).get(...params) as T | undefined;
  }
  private all<T>(sql: string, params: readonly unknown[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }

  insert(r: NewPoRow): boolean {
    const p = [r.id, r.site, r.supplier, r.cutoffAt, r.deliveryDueAt, r.now, r.now];
    return this.run(PO_SQL.insert, p) !== 0;
  }
  get(id: string): PoRow | undefined {
    return this.one(PO_SQL.get, [id]);
  }
  draft(site: string, supplier: string): PoRow | undefined {
    return this.one(PO_SQL.draft, [site, supplier]);
  }
  dueDrafts(now: number): PoRow[] {
    return this.all(PO_SQL.dueDrafts, [now]);
  }
  nextCutoff(): number | null {
    return this.one<{ at: number | null }>(PO_SQL.nextCutoff, [])?.at ?? null;
  }
  markUrgent(id: string, now: number): void {
    this.run(PO_SQL.markUrgent, [now, id]);
  }
  touch(id: string, now: number): void {
    this.run(PO_SQL.touch, [now, id]);
  }
  move(id: string, from: PurchaseOrderState, to: PurchaseOrderState, now: number): boolean {
    return this.run(moveSql(to), moveParams(id, from, to, now)) === 1;
  }
  list(q: PoListQuery = {}): PoRow[] {
    const { sql, params } = listSql(q);
    return this.all(sql, params);
  }
  line(poId: string, sku: string): PoLineRow | undefined {
    return this.one(PO_SQL.line, [poId, sku]);
  }
  lineById(id: number): PoLineRow | undefined {
    return this.one(PO_SQL.lineById, [id]);
  }
  lines(poId: string): PoLineRow[] {
    return this.all(PO_SQL.lines, [poId]);
  }
  addToLine(poId: string, sku: string, quantity: number, manualQuantity: number): number {
    return (
      this.one<{ id: number }>(PO_SQL.insertLine, [poId, sku, quantity, manualQuantity]) as { id: number }
    ).id;
  }
  setLineQuantity(id: number, quantity: number): void {
    this.run(PO_SQL.setLineQuantity, [quantity, id]);
  }
  setLineShipped(id: number, quantity: number | null): void {
    this.run(PO_SQL.setLineShipped, [quantity, id]);
  }
  setLineReceived(id: number, quantity: number | null): void {
    this.run(PO_SQL.setLineReceived, [quantity, id]);
  }
  setProposal(id: number, p: { quantity: number; note: string | null; by: string; at: number } | null): void {
    this.run(PO_SQL.setProposal, [p?.quantity ?? null, p?.note ?? null, p?.by ?? null, p?.at ?? null, id]);
  }
  addNeed(orderId: string, poId: string, lineId: number, now: number): boolean {
    return this.run(PO_SQL.addNeed, [orderId, poId, lineId, now]) !== 0;
  }
  unattached(limit: number): string[] {
    return this.all<{ id: string }>(PO_SQL.unattached, [limit]).map((r) => r.id);
  }
  needOf(orderId: string): { poId: string; lineId: number } | undefined {
    return this.one(PO_SQL.needOf, [orderId]);
  }
  needs(poId: string): PoNeedRow[] {
    return this.all(PO_SQL.needs, [poId]);
  }
  insertEvent(e: PoEventRow): void {
    this.run(PO_SQL.insertEvent, [e.eventId, e.poId, e.state, e.actor, e.body, e.ts]);
  }
  eventBodies(poId: string): string[] {
    return this.all<{ body: string }>(PO_SQL.events, [poId]).map((r) => r.body);
  }
  openDiscrepancy(d: {
    id: string;
    poId: string;
    sku: string;
    kind: DiscrepancyKind;
    expected: number;
    counted: number;
    now: number;
  }): boolean {
    return (
      this.run(PO_SQL.openDiscrepancy, [d.id, d.poId, d.sku, d.kind, d.expected, d.counted, d.now]) !== 0
    );
  }
  discrepancy(id: string): DiscrepancyRow | undefined {
    return this.one(PO_SQL.discrepancy, [id]);
  }
  discrepancies(limit: number): DiscrepancyRow[] {
    return this.all(PO_SQL.discrepancies, [limit]);
  }
  discrepanciesOf(poId: string): DiscrepancyRow[] {
    return this.all(PO_SQL.discrepanciesOf, [poId]);
  }
  resolveDiscrepancy(
    id: string,
    r: { resolution: DiscrepancyResolution; note: string | null; by: string; now: number },
  ): boolean {
    return this.run(PO_SQL.resolveDiscrepancy, [r.resolution, r.note, r.now, r.by, id]) === 1;
  }
  leadTimes(site: string, supplier: string, limit: number): { sentAt: number; receivedAt: number }[] {
    return this.all(PO_SQL.leadTimes, [site, supplier, limit]);
  }
}
