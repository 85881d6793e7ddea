/**
 * The replenishment rules as pure functions: readings update a lane's state, `assess` turns the
 * state into decisions (open an order, receive one, open or clear an alert). No I/O, no clock: all
 * timing is on reading timestamps, so a replayed backlog is judged exactly as it was live.
 *
 * - Debounce: a lane must be stable, healthy and at or below its reorder point continuously for
 *   `debounceMs` of reading time before it orders; any reading above it, or unstable, restarts it.
 * - Hysteresis: after ordering, the lane re-arms only once the count rises above reorder point +
 *   `hysteresis`, or the order is delivered (received, or closed after receipt). A cancelled order
 *   leaves it disarmed until the count rises, or someone re-arms it.
 * - An order on its way (open, acknowledged, shipped) covers the lane's need. A received one does
 *   not — its goods are on the shelf, it only waits to close — so a new need while it is still
 *   listed raises the next order, which closes it (the lane keeps one live order).
 * - An unstable, anomalous, faulty or offline lane never orders; it raises an alert instead
 *   (anomaly after `anomalyAfterMs` of instability, sensor fault and offline at once).
 */
import type { EventPayload, LevelPayload, OrderState } from '@shelfsense/protocol';
import { orderQuantity } from '../orders/quantity.js';
import { confirmedDelivery, type ReceiptSettings, settledDelivery } from '../orders/receipt.js';
import type { AlertKind } from '../store/alerts.js';
import type { LaneRuleState } from './lane-state.js';
import type { LanePolicy } from './policy.js';
import { addDemand, addPick, observe } from './rate.js';

export type Condition = LaneRuleState['reported'];

export type Decision =
  | {
      type: 'order';
      quantity: number;
      units: number;
      reorderPoint: number;
      readingTs: number;
      stockOutAt: number | null;
    }
  | { type: 'receive'; orderId: string; counted: number }
  | { type: 'open-alert'; kind: AlertKind; message: string }
  | { type: 'clear-alert'; kind: AlertKind };

export interface LiveOrderView {
  id: string;
  state: OrderState;
  /** What should arrive: the shipped quantity, else the ordered one. */
  expected: number;
}

export interface AssessContext {
  /** null: the lane is not managed (no orders, alerts only). */
  policy: LanePolicy | null;
  /** The reorder point in force (static or dynamic). */
  reorderPoint: number | null;
  liveOrder: LiveOrderView | null;
  /**
   * The lane's newest order has been delivered: it is `received`, or `closed` (which only follows
   * a receipt). The engine need look only while the lane is disarmed.
   */
  delivered: boolean;
  receipt: ReceiptSettings;
  anomalyAfterMs: number;
  /** When the lane is forecast to run out at its consumption rate (null: not in sight). */
  stockOutAt?: number | null;
}

/** The lane's condition, worst first: offline, fault, then what the agent reported. */
export function condition(s: LaneRuleState): Condition {
  if (s.agentOffline || s.stale || s.reported === 'offline') return 'offline';
  if (s.healthFault || s.reported === 'fault') return 'fault';
  return s.reported;
}

/** A lane whose count can be trusted right now. */
export function usable(s: LaneRuleState): boolean {
  return condition(s) === 'ok' && s.stable && s.units !== null;
}

/** Applies a level reading; returns null when it is older than what the rules already saw. */
export function applyLevel(s: LaneRuleState, p: LevelPayload): LaneRuleState | null {
  if (s.lastTs !== null && p.ts < s.lastTs) return null;
  return {
    ...s,
    units: p.units,
    stable: p.stable,
    reported: p.state,
    lastTs: p.ts,
    stale: false,
    rate: observe(s.rate, p.ts),
  };
}

/**
 * Applies a pick/restock/adjust event: picks feed the consumption rate (late ones too); the event's
 * count becomes the lane's count unless a newer reading was already seen.
 */
export function applyEvent(s: LaneRuleState, e: EventPayload, tauMs: number): LaneRuleState {
  const pick = e.kind === 'pick' && e.delta < 0;
  const rate = pick ? addPick(s.rate, -e.delta, e.ts, tauMs) : s.rate;
  const demand = pick ? addDemand(s.demand, -e.delta, e.ts) : s.demand;
  const next = demand === undefined ? { ...s, rate } : { ...s, rate, demand };
  if (s.lastTs !== null && e.ts < s.lastTs) return next;
  return { ...next, units: e.units, lastTs: e.ts, stale: false };
}

/** The alert kinds the lane's condition decides (observations open and clear the others). */
type ConditionAlertKind = 'offline' | 'sensor-fault' | 'anomaly' | 'stock-out';

const MESSAGES: Record<ConditionAlertKind, (s: LaneRuleState) => string> = {
  offline: (s) =>
    s.agentOffline
      ? 'the shelf agent is offline'
      : s.stale
        ? 'no readings from this lane'
        : 'the lane reports offline',
  'sensor-fault': (s) =>
    s.healthFault
      ? 'a load cell of this lane is saturated or disconnected'
      : 'the lane reports a sensor fault',
  anomaly: (s) => `the lane has been ${s.reported === 'anomalous' ? 'anomalous' : 'unstable'} too long`,
  'stock-out': () => 'the lane is empty',
};

/** Turns the state into decisions at reading time `ts`. Returns the new state; `s` is not changed. */
export function assess(
  prev: LaneRuleState,
  ctx: AssessContext,
  ts: number,
): { state: LaneRuleState; decisions: Decision[] } {
  const s: LaneRuleState = { ...prev, alerts: [...prev.alerts], receipt: { ...prev.receipt } };
  const decisions: Decision[] = [];
  const alert = (kind: ConditionAlertKind, on: boolean) => {
    const live = s.alerts.includes(kind);
    if (on && !live) {
      s.alerts.push(kind);
      decisions.push({ type: 'open-alert', kind, message: MESSAGES[kind](s) });
    } else if (!on && live) {
      s.alerts = s.alerts.filter((k) => k !== kind);
      decisions.push({ type: 'clear-alert', kind });
    }
  };

  const cond = condition(s);
  alert('offline', cond === 'offline');
  // While offline nothing is known about the cells: keep a fault alert until the lane reports again.
  if (cond !== 'offline') alert('sensor-fault', cond === 'fault');

  const shaky = cond === 'unstable' || cond === 'anomalous' || (cond === 'ok' && !s.stable);
  if (shaky) {
    s.shakySince ??= ts;
    if (ts - s.shakySince >= ctx.anomalyAfterMs) alert('anomaly', true);
  } else if (cond === 'ok') {
    s.shakySince = null;
    alert('anomaly', false);
  }

  const ok = usable(s);
  const units = s.units ?? 0;
  if (ok) alert('stock-out', units === 0);

  const rop = ctx.reorderPoint;
  const policy = ctx.policy;
  const live = ctx.liveOrder;
  if (ok && rop !== null && policy && units > rop + policy.hysteresis) s.armed = true;
  // The delivery ends the hysteresis even when another instance saw it (or an older version of
  // the rules left the lane disarmed): what is on the shelf now is all that counts.
  if (ctx.delivered) s.armed = true;
  s.belowSince = ok && rop !== null && units <= rop ? (s.belowSince ?? ts) : null;

  if (
    policy?.enabled &&
    rop !== null &&
    s.armed &&
    s.belowSince !== null &&
    ts - s.belowSince >= policy.debounceMs
  ) {
    if (live && live.state !== 'received') {
      // Another instance (or a person) already ordered for this lane, and it is on its way.
      s.armed = false;
    } else {
      // No order, or a received one that the new order replaces (closes) as it opens.
      const quantity = orderQuantity(policy, units);
      if (quantity > 0) {
        s.armed = false;
        const stockOutAt = ctx.stockOutAt ?? null;
        decisions.push({ type: 'order', quantity, units, reorderPoint: rop, readingTs: ts, stockOutAt });
      }
    }
  }

  if (live && (live.state === 'acknowledged' || live.state === 'shipped') && ok) {
    if (s.receipt.orderId === live.id && s.receipt.steps.length > 0) {
      const steps = [...s.receipt.steps];
      // Read before confirmedDelivery forgets old steps: a shipped delivery that stopped short (or
      // over) is received as counted, and its purchase order opens a discrepancy.
      const settled = live.state === 'shipped' ? settledDelivery(steps, ts, ctx.receipt) : null;
      const counted = confirmedDelivery(steps, live.expected, ts, ctx.receipt) ?? settled;
      s.receipt = { orderId: live.id, steps: counted === null ? steps : [] };
      if (counted !== null) decisions.push({ type: 'receive', orderId: live.id, counted });
    }
  }
  return { state: s, decisions };
}
