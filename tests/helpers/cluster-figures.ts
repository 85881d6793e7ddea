/**
 * Figures of the cluster fault suite, scored against the simulator's ground truth and what
 * Postgres and the supplier's endpoint hold:
 *
 * - readings lost: seqs the agent accepted (fromSeq, lastSeq] missing from `readings`, less those
 *   its outbox counted as dropped; duplicated: a (site, agent, seq) stored more than once;
 * - lane order: per lane, level readings in seq order whose timestamp goes back (must be 0); and,
 *   as a note, readings committed after a newer one of their lane (commit order: the transaction
 *   that wrote them, then seq) — what an agent's redelivery from its mark causes after an outage;
 *   the rules ignore such a level as old, so a lane's state never goes back;
 * - orders: needs from the ground truth against the orders in Postgres (faults-figures.ts: missed,
 *   false, duplicate — including an order transition sent under two idempotency keys);
 * - webhooks: every event of the outbox must reach the supplier answered 2xx (missing otherwise),
 *   and one idempotency key must always carry the same event (conflicting otherwise). The same
 *   event sent again under its key is allowed by the contract (at least once) and only counted.
 */
import type { PgStore } from '@shelfsense/central/pg';
import { type FaultRow, orderFigures, readingFigures } from './faults-figures.js';
import type { FaultyWebhook } from './faults-webhook.js';

export interface OrderSnapshot {
  lane: string;
  quantity: number;
  /** The lane's count when the rules ordered. */
  units: number | null;
}

export interface Snapshot {
  seqs: number[];
  duplicated: number;
  /** Level readings in seq order, and in commit order. */
  levels: { seq: number; lane: string; ts: number }[];
  committed: { seq: number; lane: string; ts: number }[];
  orders: (OrderSnapshot & { id: string; state: string })[];
  outbox: { key: string; eventId: string; orderId: string; state: string }[];
}

export async function readSnapshot(store: PgStore): Promise<Snapshot> {
  const seqs = (
    await store.db.query<{ seq: number }>("SELECT seq FROM readings WHERE agent = 'pi-1' ORDER BY seq")
  ).map((r) => r.seq);
  const dup = await store.db.query<{ n: number }>(
    "SELECT (count(*) - count(DISTINCT (site, agent, seq)))::int AS n FROM readings WHERE agent = 'pi-1'",
  );
  const levels = await store.db.query<{ seq: number; lane: string; ts: number }>(
    `SELECT seq, lane, ts FROM readings WHERE agent = 'pi-1' AND kind = 'level' ORDER BY seq`,
  );
  // xmin is the writing transaction: with one transaction per batch, its order is commit order.
  const committed = await store.db.query<{ seq: number; lane: string; ts: number }>(
    `SELECT seq, lane, ts FROM readings WHERE agent = 'pi-1' AND kind = 'level'
     ORDER BY xmin::text::bigint, seq`,
  );
  const orders = (
    await store.db.query<{ id: string; lane: string; quantity: number; reason: string; state: string }>(
      'SELECT id, lane, quantity, reason, state FROM orders ORDER BY seq',
    )
  ).map((r) => {
    const reason = JSON.parse(r.reason) as { units?: number };
    return { id: r.id, lane: r.lane, quantity: r.quantity, units: reason.units ?? null, state: r.state };
  });
  const outbox = await store.db.query<{ key: string; eventId: string; orderId: string; state: string }>(
    `SELECT idempotency_key AS key, event_id AS "eventId", order_id AS "orderId", state
     FROM webhook_outbox ORDER BY id`,
  );
  return { seqs, duplicated: dup[0]?.n ?? 0, levels, committed, orders, outbox };
}

export interface ClusterFigures {
  readingsAccepted: number;
  readingsLost: number;
  readingsDuplicated: number;
  laneOrderViolations: number;
  /** Readings committed after a newer one of their lane (ignored by the rules as old). */
  lateReadings: number;
  duplicateOrders: number;
  falseOrders: number;
  missedOrders: number;
  webhookEvents: number;
  webhooksMissing: number;
  webhooksConflicting: number;
  /** Requests beyond one per event (at least once: allowed, counted). */
  webhooksResent: number;
}

export type ClusterRow = ClusterFigures &
  Pick<FaultRow, 'case' | 'mode' | 'recoveryMs' | 'notes'> & {
    workers: number;
  };

/** Per lane, readings after `fromSeq` older than one before them in the list's order. */
export function laneOrderViolations(
  levels: { seq: number; lane: string; ts: number }[],
  fromSeq = 0,
): number {
  const newest = new Map<string, number>();
  let bad = 0;
  for (const l of levels) {
    const n = newest.get(l.lane);
    if (n !== undefined && l.ts < n) bad += l.seq > fromSeq ? 1 : 0;
    else newest.set(l.lane, l.ts);
  }
  return bad;
}

export function clusterFigures(
  s: Snapshot,
  hooks: FaultyWebhook,
  needs: Set<number>,
  fromSeq: number,
  lastSeq: number,
  dropped: number,
): ClusterFigures {
  const r = readingFigures(s.seqs, fromSeq, lastSeq, dropped);
  const live = s.orders.filter((o) => o.state !== 'cancelled');
  const answered = hooks.requests.filter((q) => q.status >= 200 && q.status < 300);
  const keyOf = (q: (typeof hooks.requests)[number]) =>
    String(q.headers['idempotency-key'] ?? q.json.idempotencyKey);
  const delivered = new Set(answered.map(keyOf));
  const events = new Map<string, Set<string>>();
  for (const q of hooks.requests) {
    const set = events.get(keyOf(q)) ?? new Set<string>();
    set.add(String(q.json.eventId));
    events.set(keyOf(q), set);
  }
  const outboxKeys = new Map(s.outbox.map((e) => [e.key, e.eventId]));
  let conflicting = 0;
  for (const [key, ids] of events) {
    // A key carrying two events, or an event the outbox does not hold under that key.
    if (ids.size > 1 || outboxKeys.get(key) !== [...ids][0]) conflicting++;
  }
  const of = orderFigures(
    needs,
    live,
    hooks.processed().map((h) => ({ orderId: h.orderId, state: h.state, idempotencyKey: h.idempotencyKey })),
  );
  return {
    readingsAccepted: r.accepted,
    readingsLost: r.lost,
    readingsDuplicated: s.duplicated,
    laneOrderViolations: laneOrderViolations(s.levels, fromSeq),
    lateReadings: laneOrderViolations(s.committed, fromSeq),
    ...of,
    webhookEvents: s.outbox.length,
    webhooksMissing: s.outbox.filter((e) => !delivered.has(e.key)).length,
    webhooksConflicting: conflicting,
    webhooksResent: Math.max(0, answered.length - delivered.size),
  };
}
