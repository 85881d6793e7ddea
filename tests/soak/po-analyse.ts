/**
 * Scores a finished purchase-order week from what central stored (central.db) and what the
 * supplier saw, against the simulator's ground truth.
 *
 * - Needs: every fall of a lane's true count to its reorder point. Each must be answered by one
 *   lane order, matched in device time as the soak matches orders (analyse.ts `matchOrders`), and
 *   for the scheduled supplier that order must sit on exactly one line of a PO of its site and
 *   supplier (`po_needs`), whose quantity is the sum of its lanes'. The order's time is when its
 *   PO reached the supplier (or the end of the week for a need still on a draft).
 * - Webhooks: one request per PO version, i.e. per `po_events` row, and none per lane for the
 *   scheduled supplier; the control supplier's orders come one per lane.
 * - Discrepancies: opened for exactly the lines the van brought short, on POs the shelf counted.
 * - Lead time: sent → received of the delivered POs, against the supplier's true lead times.
 */
import { crossings, type Simulator, type SoakWeek } from '@shelfsense/firmware-sim';
import Database from 'better-sqlite3';
import { matchOrders } from './analyse.js';
import type { HookStats, OrderRecord, PoRecord } from './po-supplier.js';
import { CONTROL, SCHEDULED } from './po-world.js';

export interface NeedScore {
  needs: number;
  orders: number;
  matched: number;
  missed: number;
  duplicate: number;
  false: number;
}

export interface PoAnalysis {
  scheduled: NeedScore & {
    /** Lane needs on PO lines (po_needs rows). */
    onLines: number;
    /** Orders of the scheduled supplier on no PO line. */
    offLine: number;
    /** Orders on a PO of another site or supplier, or a line of another SKU. */
    misplaced: number;
    /** Lines whose quantity is not the sum of their lanes' orders. */
    badLineQuantity: number;
    /** Needs on a draft when the week ended (on a line, not yet sent). */
    onDrafts: number;
    /** Orders on a sent PO whose webhook the supplier never processed. */
    unheard: number;
  };
  control: NeedScore & { unheard: number; onPos: number };
  pos: {
    total: number;
    lines: number;
    byState: Record<string, number>;
    urgent: number;
    /** POs sent at their cut-off (not urgent, not by hand). */
    atCutoff: number;
    /** Distinct cut-offs that sent a PO. */
    cutoffs: number;
    /** POs the van brought in full (every lane), and of those how many the shelf counted. */
    delivered: number;
    received: number;
    deliveredNotReceived: string[];
  };
  webhooks: {
    poEvents: number;
    poKeysReceived: number;
    missing: string[];
    /** Keys received for no stored event. */
    unknown: string[];
    /** Keys received more than once. */
    redelivered: number;
    perLaneScheduled: number;
    perLaneControl: number;
    badSignature: number;
  };
  discrepancies: {
    expected: string[];
    opened: string[];
    missing: string[];
    extra: string[];
    declaredShortLines: number;
  };
  lead: LeadSamples;
}

export interface LeadSamples {
  /** Delivered and received POs, newest sent first: what the learning sees. */
  samples: { id: string; sentAt: number; receivedAt: number; drawnMs: number; appliedMs: number }[];
  /** receivedAt − last lane on the shelf (the shelf's counting), max and mean, ms. */
  countingMaxMs: number;
  countingMeanMs: number;
  /** Last lane on the shelf − (sent + drawn lead): the van waiting for a quiet lane, max, ms. */
  waitMaxMs: number;
}

interface PoRow {
  id: string;
  site: string;
  supplier: string;
  state: string;
  urgent: number;
  cutoffAt: number | null;
  sentAt: number | null;
  receivedAt: number | null;
}

interface NeedRow {
  orderId: string;
  poId: string;
  shelf: string;
  lane: string;
  orderSku: string;
  lineSku: string;
  site: string;
  supplier: string;
}

export interface PoAnalyseInput {
  sim: Simulator;
  week: SoakWeek;
  db: string;
  site: string;
  shelfId: (index: number) => string;
  laneId: (lane: number) => string;
  pos: readonly PoRecord[];
  orders: readonly OrderRecord[];
  hooks: HookStats;
  /** `GET /api/discrepancies` at the end: `poId/sku`. */
  discrepancies: readonly { purchaseOrderId: string; sku: string }[];
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function analysePoWeek(input: PoAnalyseInput): PoAnalysis {
  const { sim, week } = input;
  const db = new Database(input.db, { readonly: true });
  try {
    const poRows = db
      .prepare(
        `SELECT id, site, supplier, state, urgent, cutoff_at AS cutoffAt, sent_at AS sentAt,
           received_at AS receivedAt FROM purchase_orders ORDER BY created_at, id`,
      )
      .all() as PoRow[];
    const poById = new Map(poRows.map((p) => [p.id, p]));
    const lines = db
      .prepare('SELECT id, po_id AS poId, sku, quantity, manual_quantity AS manual FROM po_lines')
      .all() as { id: number; poId: string; sku: string; quantity: number; manual: number }[];
    const needRows = db
      .prepare(
        `SELECT n.order_id AS orderId, n.po_id AS poId, o.shelf, o.lane, o.sku AS orderSku,
           l.sku AS lineSku, p.site, p.supplier
         FROM po_needs n JOIN orders o ON o.id = n.order_id JOIN po_lines l ON l.id = n.line_id
           JOIN purchase_orders p ON p.id = n.po_id`,
      )
      .all() as NeedRow[];
    const needOf = new Map(needRows.map((n) => [n.orderId, n]));
    const orderRows = db
      .prepare(
        'SELECT id, shelf, lane, sku, supplier, quantity FROM orders WHERE site = ? ORDER BY created_at, id',
      )
      .all(input.site) as {
      id: string;
      shelf: string;
      lane: string;
      sku: string;
      supplier: string;
      quantity: number;
    }[];
    const orderQty = new Map(orderRows.map((o) => [o.id, o.quantity]));
    const heardPo = new Map(input.pos.map((p) => [p.id, p]));
    const heardOrder = new Map(input.orders.map((o) => [o.id, o]));

    // ---- needs against orders, lane by lane --------------------------------------------------
    const scheduled = {
      needs: 0,
      orders: 0,
      matched: 0,
      missed: 0,
      duplicate: 0,
      false: 0,
      onLines: needRows.length,
      offLine: 0,
      misplaced: 0,
      badLineQuantity: 0,
      onDrafts: 0,
      unheard: 0,
    };
    const control = {
      needs: 0,
      orders: 0,
      matched: 0,
      missed: 0,
      duplicate: 0,
      false: 0,
      unheard: 0,
      onPos: 0,
    };
    for (const s of week.shelves) {
      const states = sim.groundTruth.states(s.serial);
      for (const l of s.lanes) {
        const shelf = input.shelfId(s.index);
        const lane = input.laneId(l.lane);
        const needs = crossings(states, l.lane, l.sku.reorderPoint).map((c) => c.deviceMs);
        const mine = orderRows.filter((o) => o.shelf === shelf && o.lane === lane);
        const times: number[] = [];
        if (l.sku.supplier === SCHEDULED) {
          for (const o of mine) {
            const n = needOf.get(o.id);
            if (!n) {
              scheduled.offLine++;
              continue;
            }
            if (n.site !== input.site || n.supplier !== SCHEDULED || n.lineSku !== o.sku)
              scheduled.misplaced++;
            const po = poById.get(n.poId);
            const heard = heardPo.get(n.poId)?.heardDeviceMs[s.serial];
            if (po?.state === 'draft') scheduled.onDrafts++;
            else if (heard === undefined) scheduled.unheard++;
            times.push(heard ?? Number.POSITIVE_INFINITY);
          }
          const m = matchOrders(
            needs,
            times.sort((a, b) => a - b),
          );
          scheduled.needs += needs.length;
          scheduled.orders += mine.length;
          scheduled.matched += m.matched;
          scheduled.missed += m.missed;
          scheduled.duplicate += m.duplicate;
          scheduled.false += m.false;
        } else {
          for (const o of mine) {
            if (needOf.has(o.id)) control.onPos++;
            const heard = heardOrder.get(o.id)?.heardDeviceMs;
            if (heard === undefined) control.unheard++;
            times.push(heard ?? Number.POSITIVE_INFINITY);
          }
          const m = matchOrders(
            needs,
            times.sort((a, b) => a - b),
          );
          control.needs += needs.length;
          control.orders += mine.length;
          control.matched += m.matched;
          control.missed += m.missed;
          control.duplicate += m.duplicate;
          control.false += m.false;
        }
      }
    }
    for (const line of lines) {
      const lanes = needRows.filter((n) => n.poId === line.poId && n.lineSku === line.sku);
      if (line.quantity !== line.manual + sum(lanes.map((n) => orderQty.get(n.orderId) ?? 0))) {
        scheduled.badLineQuantity++;
      }
    }

    // ---- POs ---------------------------------------------------------------------------------
    const byState: Record<string, number> = {};
    for (const p of poRows) byState[p.state] = (byState[p.state] ?? 0) + 1;
    const sent = poRows.filter((p) => p.sentAt !== null);
    // Sent by the cut-off timer: not urgent, and not before the cut-off (as an early send by hand is).
    const atCutoff = sent.filter(
      (p) => p.urgent === 0 && p.cutoffAt !== null && (p.sentAt as number) >= p.cutoffAt,
    );
    const isDelivered = (r: PoRecord) => r.drops.length > 0 && r.drops.every((d) => d.appliedWallMs !== null);
    const counted = (id: string) => ['received', 'closed'].includes(poById.get(id)?.state ?? '');
    const delivered = input.pos.filter(isDelivered);

    // ---- webhooks ----------------------------------------------------------------------------
    const eventKeys = (db.prepare('SELECT body FROM po_events').all() as { body: string }[]).map(
      (r) => (JSON.parse(r.body) as { idempotencyKey: string }).idempotencyKey,
    );
    const eventSet = new Set(eventKeys);
    const keys = input.hooks.poKeys;

    // ---- discrepancies -----------------------------------------------------------------------
    const expected = input.pos
      .filter((r) => isDelivered(r) && counted(r.id))
      .flatMap((r) => r.lines.filter((l) => l.fate === 'delivered-short').map((l) => `${r.id}/${l.sku}`))
      .sort();
    const opened = input.discrepancies.map((d) => `${d.purchaseOrderId}/${d.sku}`).sort();

    // ---- lead times --------------------------------------------------------------------------
    const samples = delivered
      .filter((r) => counted(r.id))
      .map((r) => {
        const row = poById.get(r.id) as PoRow;
        const applied = Math.max(...r.drops.map((d) => d.appliedWallMs as number));
        return {
          id: r.id,
          sentAt: row.sentAt as number,
          receivedAt: row.receivedAt as number,
          drawnMs: r.leadMs,
          appliedMs: applied - (row.sentAt as number),
        };
      })
      .sort((a, b) => b.sentAt - a.sentAt);
    const counting = samples.map((x) => x.receivedAt - x.sentAt - x.appliedMs);
    const waits = samples.map((x) => x.appliedMs - x.drawnMs);

    return {
      scheduled,
      control,
      pos: {
        total: poRows.length,
        lines: lines.length,
        byState,
        urgent: poRows.filter((p) => p.urgent === 1).length,
        atCutoff: atCutoff.length,
        cutoffs: new Set(atCutoff.map((p) => p.cutoffAt)).size,
        delivered: delivered.length,
        received: delivered.filter((r) => counted(r.id)).length,
        deliveredNotReceived: delivered.filter((r) => !counted(r.id)).map((r) => r.id),
      },
      webhooks: {
        poEvents: eventKeys.length,
        poKeysReceived: keys.size,
        missing: [...eventSet].filter((k) => !keys.has(k)),
        unknown: [...keys.keys()].filter((k) => !eventSet.has(k)),
        redelivered: [...keys.values()].filter((n) => n > 1).length,
        perLaneScheduled: input.hooks.orderEvents.get(SCHEDULED) ?? 0,
        perLaneControl: input.hooks.orderEvents.get(CONTROL) ?? 0,
        badSignature: input.hooks.badSignature,
      },
      discrepancies: {
        expected,
        opened,
        missing: expected.filter((k) => !opened.includes(k)),
        extra: opened.filter((k) => !expected.includes(k)),
        declaredShortLines: input.pos.flatMap((r) => r.lines.filter((l) => l.fate === 'declared-short'))
          .length,
      },
      lead: {
        samples,
        countingMaxMs: counting.length ? Math.max(...counting) : 0,
        countingMeanMs: counting.length ? sum(counting) / counting.length : 0,
        waitMaxMs: waits.length ? Math.max(...waits) : 0,
      },
    };
  } finally {
    db.close();
  }
}
