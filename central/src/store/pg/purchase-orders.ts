/**
 * Purchase orders on Postgres (see ../purchase-orders.ts, whose statements both stores share): the
 * one-draft-per-site-and-supplier and one-line-per-need guarantees are unique indexes here too, so
 * two workers gathering the same need write it once.
 */
import type { PurchaseOrderState } from '@shelfsense/protocol';
import {
  type DiscrepancyKind,
  type DiscrepancyResolution,
  type DiscrepancyRow,
  listSql,
  moveParams,
  moveSql,
  type NewPoRow,
  PO_SQL,
  type PoEventRow,
  type PoLineRow,
  type PoListQuery,
  type PoNeedRow,
  type PoRow,
} from '../purchase-orders.js';
import type { AsyncRepository, PurchaseOrdersRepository } from '../repositories.js';
import type { Param, PgDb, Row } from './db.js';

export const PURCHASE_ORDERS_SCHEMA = `
  CREATE TABLE purchase_orders (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    supplier TEXT NOT NULL,
    state TEXT NOT NULL
      CHECK (state IN ('draft', 'sent', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled')),
    urgent INTEGER NOT NULL DEFAULT 0,
    cutoff_at BIGINT,
    delivery_due_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    acknowledged_at BIGINT,
    shipped_at BIGINT,
    received_at BIGINT,
    closed_at BIGINT,
    version INTEGER NOT NULL DEFAULT 1
  );
  CREATE UNIQUE INDEX purchase_orders_one_draft ON purchase_orders (site, supplier) WHERE state = 'draft';
  CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier, state, created_at);
  CREATE INDEX purchase_orders_site ON purchase_orders (site, state, created_at);
  CREATE TABLE po_lines (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    manual_quantity INTEGER NOT NULL DEFAULT 0 CHECK (manual_quantity >= 0),
    shipped_quantity INTEGER,
    received_quantity INTEGER,
    proposed_quantity INTEGER,
    proposal_note TEXT,
    proposed_by TEXT,
    proposed_at BIGINT,
    UNIQUE (po_id, sku)
  );
  CREATE TABLE po_needs (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    line_id BIGINT NOT NULL REFERENCES po_lines (id),
    created_at BIGINT NOT NULL
  );
  CREATE INDEX po_needs_po ON po_needs (po_id);
  CREATE TABLE po_events (
    event_id TEXT PRIMARY KEY,
    -- Insertion order, what SQLite's rowid gives: a PO's events read back oldest first.
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    state TEXT NOT NULL,
    actor TEXT,
    body TEXT NOT NULL,
    ts BIGINT NOT NULL
  );
  CREATE INDEX po_events_po ON po_events (po_id, seq);
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
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    UNIQUE (po_id, sku)
  );
  -- The outbox now carries PO events too (kept in po_events).
  ALTER TABLE webhook_outbox DROP CONSTRAINT IF EXISTS webhook_outbox_event_id_fkey;
`;

/** `?` placeholders numbered for Postgres. */
function pg(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

// Ids compare bytewise, as SQLite's BINARY collation does, whatever the database's locale.
const byC = (sql: string) => sql.replace(/ORDER BY (.*?)\bid\b(?! COLLATE)/, 'ORDER BY $1id COLLATE "C"');

export class PgPurchaseOrdersRepo implements AsyncRepository<PurchaseOrdersRepository> {
  constructor(private readonly db: PgDb) {}

  private run(sql: string, params: readonly unknown[]): Promise<number> {
    return this.db.run(pg(sql), params as Param[]);
  }
  private one<T>(sql: string, params: readonly unknown[]): Promise<T | undefined> {
    return this.db.one<T & Row>(pg(sql), params as Param[]) as Promise<T | undefined>;
  }
  private all<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    return this.db.query<T & Row>(pg(sql), params as Param[]) as Promise<T[]>;
  }

  async insert(r: NewPoRow): Promise<boolean> {
    const p = [r.id, r.site, r.supplier, r.cutoffAt, r.deliveryDueAt, r.now, r.now];
    return (await this.run(PO_SQL.insert, p)) !== 0;
  }
  get(id: string): Promise<PoRow | undefined> {
    return this.one(PO_SQL.get, [id]);
  }
  draft(site: string, supplier: string): Promise<PoRow | undefined> {
    return this.one(PO_SQL.draft, [site, supplier]);
  }
  dueDrafts(now: number): Promise<PoRow[]> {
    return this.all(byC(PO_SQL.dueDrafts), [now]);
  }
  async nextCutoff(): Promise<number | null> {
    return (await this.one<{ at: number | null }>(PO_SQL.nextCutoff, []))?.at ?? null;
  }
  async markUrgent(id: string, now: number): Promise<void> {
    await this.run(PO_SQL.markUrgent, [now, id]);
  }
  async touch(id: string, now: number): Promise<void> {
    await this.run(PO_SQL.touch, [now, id]);
  }
  async move(id: string, from: PurchaseOrderState, to: PurchaseOrderState, now: number): Promise<boolean> {
    return (await this.run(moveSql(to), moveParams(id, from, to, now))) === 1;
  }
  list(q: PoListQuery = {}): Promise<PoRow[]> {
    const { sql, params } = listSql(q);
    return this.all(byC(sql), params);
  }
  line(poId: string, sku: string): Promise<PoLineRow | undefined> {
    return this.one(PO_SQL.line, [poId, sku]);
  }
  lineById(id: number): Promise<PoLineRow | undefined> {
    return this.one(PO_SQL.lineById, [id]);
  }
  lines(poId: string): Promise<PoLineRow[]> {
    return this.all(PO_SQL.lines.replace('ORDER BY sku', 'ORDER BY sku COLLATE "C"'), [poId]);
  }
  async addToLine(poId: string, sku: string, quantity: number, manualQuantity: number): Promise<number> {
    const r = await this.one<{ id: number }>(PO_SQL.insertLine, [poId, sku, quantity, manualQuantity]);
    return (r as { id: number }).id;
  }
  async setLineQuantity(id: number, quantity: number): Promise<void> {
    await this.run(PO_SQL.setLineQuantity, [quantity, id]);
  }
  async setLineShipped(id: number, quantity: number | null): Promise<void> {
    await this.run(PO_SQL.setLineShipped, [quantity, id]);
  }
  async setLineReceived(id: number, quantity: number | null): Promise<void> {
    await this.run(PO_SQL.setLineReceived, [quantity, id]);
  }
  async setProposal(
    id: number,
    p: { quantity: number; note: string | null; by: string; at: number } | null,
  ): Promise<void> {
    await this.run(PO_SQL.setProposal, [
      p?.quantity ?? null,
      p?.note ?? null,
      p?.by ?? null,
      p?.at ?? null,
      id,
    ]);
  }
  async addNeed(orderId: string, poId: string, lineId: number, now: number): Promise<boolean> {
    return (await this.run(PO_SQL.addNeed, [orderId, poId, lineId, now])) !== 0;
  }
  async unattached(limit: number): Promise<string[]> {
    return (await this.all<{ id: string }>(PO_SQL.unattached, [limit])).map((r) => r.id);
  }
  needOf(orderId: string): Promise<{ poId: string; lineId: number } | undefined> {
    return this.one(PO_SQL.needOf, [orderId]);
  }
  needs(poId: string): Promise<PoNeedRow[]> {
    return this.all(PO_SQL.needs.replace('o.shelf, o.lane', 'o.shelf COLLATE "C", o.lane COLLATE "C"'), [
      poId,
    ]);
  }
  async insertEvent(e: PoEventRow): Promise<void> {
    await this.run(PO_SQL.insertEvent, [e.eventId, e.poId, e.state, e.actor, e.body, e.ts]);
  }
  async eventBodies(poId: string): Promise<string[]> {
    const rows = await this.all<{ body: string }>(PO_SQL.events.replace('rowid', 'seq'), [poId]);
    return rows.map((r) => r.body);
  }
  async openDiscrepancy(d: {
    id: string;
    poId: string;
    sku: string;
    kind: DiscrepancyKind;
    expected: number;
    counted: number;
    now: number;
  }): Promise<boolean> {
    const p = [d.id, d.poId, d.sku, d.kind, d.expected, d.counted, d.now];
    return (await this.run(PO_SQL.openDiscrepancy, p)) !== 0;
  }
  discrepancy(id: string): Promise<DiscrepancyRow | undefined> {
    return this.one(PO_SQL.discrepancy, [id]);
  }
  discrepancies(limit: number): Promise<DiscrepancyRow[]> {
    return this.all(PO_SQL.discrepancies.replace('d.opened_at, d.id', 'd.opened_at, d.id COLLATE "C"'), [
      limit,
    ]);
  }
  discrepanciesOf(poId: string): Promise<DiscrepancyRow[]> {
    return this.all(PO_SQL.discrepanciesOf.replace('d.sku', 'd.sku COLLATE "C"'), [poId]);
  }
  async resolveDiscrepancy(
    id: string,
    r: { resolution: DiscrepancyResolution; note: string | null; by: string; now: number },
  ): Promise<boolean> {
    return (await this.run(PO_SQL.resolveDiscrepancy, [r.resolution, r.note, r.now, r.by, id])) === 1;
  }
  leadTimes(
    site: string,
    supplier: string,
    limit: number,
  ): Promise<{ sentAt: number; receivedAt: number }[]> {
    return this.all(PO_SQL.leadTimes, [site, supplier, limit]);
  }
}
