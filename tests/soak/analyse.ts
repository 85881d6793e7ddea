/**
 * Scores a finished soak run from what central stored (central.db) against the simulator's ground
 * truth: every stable level reading by the frame it is true of, the readings' sequence numbers for
 * gaps, and the orders against the reorder-point crossings of the true counts (the needs).
 */
import { crossings, type Simulator, type SoakWeek } from '@shelfsense/firmware-sim';
import Database from 'better-sqlite3';
import type { Delivery } from './run.js';

export interface LaneOrders {
  lane: string;
  needs: number;
  orders: number;
  matched: number;
  missed: number;
  duplicate: number;
  false: number;
}

export interface Analysis {
  readings: {
    rows: number;
    levels: number;
    events: number;
    minSeq: number;
    maxSeq: number;
    contiguous: boolean;
    gapRows: number;
    /** The agent's outbox after it stopped: the last number it handed out, what is still queued. */
    outbox: OutboxEnd;
    /** Every record appended is stored at central or still queued in the outbox; none dropped. */
    nothingLost: boolean;
  };
  stable: { readings: number; exact: number; changes: number; exactChanges: number; wrong: unknown[] };
  finalCounts: { lanes: number; exact: number; wrong: unknown[] };
  orders: {
    needs: number;
    orders: number;
    matched: number;
    missed: number;
    duplicate: number;
    false: number;
    unnotified: number;
    received: number;
    deliveredNotReceived: number;
    byState: Record<string, number>;
    lanes: LaneOrders[];
  };
}

export interface AnalyseInput {
  sim: Simulator;
  week: SoakWeek;
  db: string;
  site: string;
  shelfId: (index: number) => string;
  laneId: (lane: number) => string;
  deliveries: readonly Delivery[];
  outbox: OutboxEnd;
}

export interface OutboxEnd {
  lastSeq: number;
  queued: number;
  firstSeq: number | null;
  dropped: number;
}

/**
 * Matches one lane's orders to its needs, both as device times in increasing order. Each order
 * answers the newest need before it that no order answered yet; needs it skipped over, and needs
 * left at the end, are missed. An order with no unanswered need before it is a duplicate when the
 * lane already ordered for its last need, else false.
 */
export function matchOrders(
  needs: readonly number[],
  orders: readonly number[],
): { matched: number; missed: number; duplicate: number; false: number } {
  const r = { matched: 0, missed: 0, duplicate: 0, false: 0 };
  let ni = 0;
  let answered = false;
  for (const t of orders) {
    let open = -1;
    while (ni < needs.length && (needs[ni] as number) <= t) {
      if (open >= 0) r.missed++;
      open = ni++;
    }
    if (open >= 0) {
      r.matched++;
      answered = true;
    } else if (answered) r.duplicate++;
    else r.false++;
  }
  r.missed += needs.length - ni;
  return r;
}

interface LevelRow {
  shelf: string;
  lane: string;
  payload: string;
}

export function analyse(input: AnalyseInput): Analysis {
  const { sim, week } = input;
  const db = new Database(input.db, { readonly: true });
  try {
    const seqs = db.prepare('SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM readings').get() as {
      n: number;
      lo: number | null;
      hi: number | null;
    };
    const kinds = Object.fromEntries(
      (
        db.prepare('SELECT kind, COUNT(*) AS n FROM readings GROUP BY kind').all() as {
          kind: string;
          n: number;
        }[]
      ).map((r) => [r.kind, r.n]),
    );
    const contiguous = seqs.n > 0 && seqs.lo === 1 && seqs.hi === seqs.n;
    const gapRows = (db.prepare('SELECT COUNT(*) AS n FROM seq_gaps').get() as { n: number }).n;

    // Stable readings against the truth of the frame each one is true of.
    const stable = { readings: 0, exact: 0, changes: 0, exactChanges: 0, wrong: [] as unknown[] };
    const lastUnits = new Map<string, number>();
    const rows = db
      .prepare("SELECT shelf, lane, payload FROM readings WHERE kind = 'level' ORDER BY seq")
      .iterate() as IterableIterator<LevelRow>;
    for (const r of rows) {
      const p = JSON.parse(r.payload) as { serial: string; units: number; stable: boolean; frameSeq: number };
      if (!p.stable) continue;
      const key = `${r.shelf}/${r.lane}`;
      const change = lastUnits.get(key) !== p.units;
      lastUnits.set(key, p.units);
      const t = sim.truth(p.serial, p.frameSeq).lanes[Number(r.lane.slice(1))];
      const ok = t !== undefined && t.items === p.units && t.leanG === 0 && t.extraG === 0;
      stable.readings++;
      if (ok) stable.exact++;
      if (change) {
        stable.changes++;
        if (ok) stable.exactChanges++;
      }
      if (!ok && stable.wrong.length < 10) {
        stable.wrong.push({ lane: key, units: p.units, frameSeq: p.frameSeq, items: t?.items });
      }
    }

    // The last stable count of every lane against the shelf's final truth.
    const finalCounts = { lanes: 0, exact: 0, wrong: [] as unknown[] };
    for (const s of week.shelves) {
      const truth = sim.shelf(s.serial).engine.truth();
      for (const l of s.lanes) {
        const key = `${input.shelfId(s.index)}/${input.laneId(l.lane)}`;
        finalCounts.lanes++;
        const items = truth.lanes[l.lane]?.items;
        if (lastUnits.get(key) === items) finalCounts.exact++;
        else finalCounts.wrong.push({ lane: key, counted: lastUnits.get(key), items });
      }
    }

    // Orders against needs, lane by lane, in device time.
    const orderRows = db
      .prepare('SELECT id, shelf, lane, state FROM orders WHERE site = ? ORDER BY created_at, id')
      .all(input.site) as { id: string; shelf: string; lane: string; state: string }[];
    const orderedAt = new Map(input.deliveries.map((d) => [d.orderId, d]));
    const byState: Record<string, number> = {};
    for (const o of orderRows) byState[o.state] = (byState[o.state] ?? 0) + 1;
    const lanes: LaneOrders[] = [];
    let unnotified = 0;
    for (const s of week.shelves) {
      const states = sim.groundTruth.states(s.serial);
      for (const l of s.lanes) {
        const shelf = input.shelfId(s.index);
        const lane = input.laneId(l.lane);
        const needs = crossings(states, l.lane, l.sku.reorderPoint).map((c) => c.deviceMs);
        const times = orderRows
          .filter((o) => o.shelf === shelf && o.lane === lane)
          .map((o) => {
            const d = orderedAt.get(o.id);
            if (!d) unnotified++;
            return d?.orderedDeviceMs ?? Number.POSITIVE_INFINITY;
          })
          .sort((a, b) => a - b);
        lanes.push({
          lane: `${shelf}/${lane}`,
          needs: needs.length,
          orders: times.length,
          ...matchOrders(needs, times),
        });
      }
    }
    const sum = (k: keyof Omit<LaneOrders, 'lane'>) => lanes.reduce((n, x) => n + x[k], 0);
    const received = (byState.received ?? 0) + (byState.closed ?? 0);
    const receivedIds = new Set(
      orderRows.filter((o) => o.state === 'received' || o.state === 'closed').map((o) => o.id),
    );
    const deliveredNotReceived = input.deliveries.filter(
      (d) => d.deliveredDeviceMs !== null && !receivedIds.has(d.orderId),
    ).length;
    return {
      readings: {
        rows: seqs.n,
        levels: kinds.level ?? 0,
        events: kinds.event ?? 0,
        minSeq: seqs.lo ?? 0,
        maxSeq: seqs.hi ?? 0,
        contiguous,
        gapRows,
        outbox: input.outbox,
        nothingLost:
          contiguous &&
          gapRows === 0 &&
          input.outbox.dropped === 0 &&
          (input.outbox.lastSeq === (seqs.hi ?? 0) ||
            (input.outbox.firstSeq !== null && input.outbox.firstSeq <= (seqs.hi ?? 0) + 1)),
      },
      stable,
      finalCounts,
      orders: {
        needs: sum('needs'),
        orders: orderRows.length,
        matched: sum('matched'),
        missed: sum('missed'),
        duplicate: sum('duplicate'),
        false: sum('false'),
        unnotified,
        received,
        deliveredNotReceived,
        byState,
        lanes,
      },
    };
  } finally {
    db.close();
  }
}
