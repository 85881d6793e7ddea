/**
 * Figures of the fault-injection suite, scored against the simulator's ground truth:
 *
 * - readings lost: the agent's accepted sequence numbers (1..lastSeq of its outbox) that are not in
 *   central's `readings` table, less the records the outbox counted as dropped at its bound;
 * - orders: which lanes truly sat at or below their reorder point for longer than the debounce
 *   (needs, from the ground truth) against the orders central holds — a need with no order is
 *   missed, an order on a lane with no need is false, more than one per need is a duplicate, and
 *   so is an order transition the webhook receiver got under two different idempotency keys;
 * - recovery: ms from the end of a fault until central holds every reading the agent had accepted.
 *
 * With SHELFSENSE_FAULTS_REPORT=<file> each case appends one JSON line to that file.
 */
import { appendFileSync } from 'node:fs';
import type { Simulator } from '@shelfsense/firmware-sim';
import Database from 'better-sqlite3';

export const FULL = process.env.SHELFSENSE_FAULTS === 'full';
export const MODE: 'full' | 'reduced' = FULL ? 'full' : 'reduced';

/** The reduced figure by default, the full one with SHELFSENSE_FAULTS=full. */
export function scale<T>(reduced: T, full: T): T {
  return FULL ? full : reduced;
}

export interface FaultRow {
  case: string;
  mode: 'full' | 'reduced';
  readingsAccepted: number;
  readingsLost: number;
  duplicateOrders: number;
  falseOrders: number;
  missedOrders: number;
  recoveryMs: number | null;
  /** Anything else worth a column in the report (dropped at the bound, redeliveries...). */
  notes?: Record<string, number | string>;
}

/** Appends the row to the report file, when one is asked for. */
export function report(row: FaultRow): void {
  const file = process.env.SHELFSENSE_FAULTS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** Sequence numbers of `agent`'s readings in central's database, ascending. */
export function storedSeqs(dbFile: string, agent = 'pi-1'): number[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare('SELECT seq FROM readings WHERE agent = ? ORDER BY seq').all(agent) as { seq: number }[]
    ).map((r) => r.seq);
  } finally {
    db.close();
  }
}

/** Central's stored high-water mark for `agent` (0 when none). */
export function storedMark(dbFile: string, agent = 'pi-1'): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT mark FROM agent_marks WHERE agent = ?').get(agent) as
      | { mark: number }
      | undefined;
    return row?.mark ?? 0;
  } finally {
    db.close();
  }
}

export interface ReadingFigures {
  /** Records the agent accepted in (fromSeq, lastSeq]. */
  accepted: number;
  /** Of those, missing at central and not accounted for by counted drops. */
  lost: number;
  /** Missing at central (dropped or lost). */
  missing: number[];
}

/** Compares the agent's accepted range (fromSeq, lastSeq] with what central stored. */
export function readingFigures(
  stored: number[],
  fromSeq: number,
  lastSeq: number,
  dropped = 0,
): ReadingFigures {
  const have = new Set(stored);
  const missing: number[] = [];
  for (let s = fromSeq + 1; s <= lastSeq; s++) if (!have.has(s)) missing.push(s);
  return { accepted: lastSeq - fromSeq, lost: Math.max(0, missing.length - dropped), missing };
}

export interface OrderPolicy {
  reorderPoint: number;
  /** Debounce per lane index (device time a lane must stay at or below the point). */
  debounceMs: (lane: number) => number;
}

/**
 * Lanes (by index) that truly needed an order: the ground truth shows them at or below the reorder
 * point for longer than their debounce, by the shelf's device clock. `nowDeviceMs` closes the
 * last run. Runs within `marginMs` of the debounce are ambiguous; the suite's scenarios avoid them.
 */
export function trueNeeds(sim: Simulator, serial: string, policy: OrderPolicy, marginMs = 500): Set<number> {
  const states = sim.groundTruth.states(serial);
  const now = sim.shelf(serial).engine.nextDeviceMs;
  const needs = new Set<number>();
  const lanes = sim.shelf(serial).lanes.length;
  for (let lane = 0; lane < lanes; lane++) {
    let since: number | null = null;
    const close = (end: number) => {
      if (since !== null && end - since >= policy.debounceMs(lane) + marginMs) needs.add(lane);
      since = null;
    };
    for (const s of states) {
      const items = s.lanes[lane]?.items ?? Number.POSITIVE_INFINITY;
      if (items <= policy.reorderPoint) since ??= s.deviceMs;
      else close(s.deviceMs);
    }
    close(now);
  }
  return needs;
}

export interface OrderLike {
  id: string;
  lane: string;
  state: string;
}

export interface HookLike {
  orderId: string;
  state: string;
  idempotencyKey: string;
}

export interface OrderFigures {
  duplicateOrders: number;
  falseOrders: number;
  missedOrders: number;
}

/**
 * Orders against needs (one need = one order; no restock happens in the suite, so a lane needs at
 * most one), plus webhook transitions delivered under more than one idempotency key.
 */
export function orderFigures(
  needs: Set<number>,
  orders: OrderLike[],
  hooks: HookLike[] = [],
  laneId = (i: number) => `L${i}`,
): OrderFigures {
  const byLane = new Map<string, number>();
  for (const o of orders) byLane.set(o.lane, (byLane.get(o.lane) ?? 0) + 1);
  let duplicateOrders = 0;
  let falseOrders = 0;
  let missedOrders = 0;
  const needed = new Set([...needs].map(laneId));
  for (const [lane, n] of byLane) {
    if (needed.has(lane)) duplicateOrders += n - 1;
    else falseOrders += n;
  }
  for (const lane of needed) if (!byLane.has(lane)) missedOrders++;
  const keys = new Map<string, Set<string>>();
  for (const h of hooks) {
    const k = `${h.orderId}/${h.state}`;
    const set = keys.get(k) ?? new Set<string>();
    set.add(h.idempotencyKey);
    keys.set(k, set);
  }
  for (const set of keys.values()) duplicateOrders += set.size - 1;
  return { duplicateOrders, falseOrders, missedOrders };
}
