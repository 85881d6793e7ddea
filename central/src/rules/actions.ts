/**
 * Carries out one decision of the rules against the store: open an order (the database keeps it
 * to one live order per lane; a received one is closed by it), confirm a delivery (received, then
 * closed unless a delay is configured), open or clear an alert. Returns the lane state after the
 * action.
 */
import type { AlertEvent, OrderEvent } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { OrderService } from '../orders/orders.js';
import { alertEvent } from '../store/alerts.js';
import type { CentralStore } from '../store/repositories.js';
import type { ReceiptConfig } from './config.js';
import type { Decision } from './evaluate.js';
import type { LaneRuleState } from './lane-state.js';
import { type LaneInfo, laneKey } from './lanes.js';
import type { LanePolicy } from './policy.js';

/** What the rules did with a batch: order events and alert changes, in order. */
export interface RuleOutcome {
  orders: OrderEvent[];
  alerts: AlertEvent[];
}

export interface ActionContext {
  store: CentralStore;
  orders: OrderService;
  receipt: ReceiptConfig;
  clock: () => number;
  log: Logger | undefined;
}

export function carryOut(
  ctx: ActionContext,
  lane: LaneInfo,
  policy: LanePolicy | null,
  s: LaneRuleState,
  d: Decision,
  out: RuleOutcome,
): LaneRuleState {
  const now = ctx.clock();
  switch (d.type) {
    case 'order': {
      if (!policy) return s;
      const r = ctx.orders.openForLane(
        {
          site: lane.site,
          shelf: lane.shelf,
          lane: lane.lane,
          sku: lane.sku,
          supplier: lane.supplier,
          quantity: d.quantity,
          reason: {
            trigger: 'rules',
            units: d.units,
            reorderPoint: d.reorderPoint,
            orderUpTo: policy.orderUpTo,
            readingTs: d.readingTs,
            ...(d.stockOutAt === null ? {} : { stockOutAt: d.stockOutAt }),
          },
        },
        now,
        null,
        // The rules order only when no order is on its way; a received one is closed by this one.
        { replaceReceived: true },
      );
      if (r.replaced) out.orders.push(r.replaced);
      if (r.event) out.orders.push(r.event);
      return { ...s, receipt: { orderId: r.order.id, steps: [] } };
    }
    case 'receive': {
      const r = ctx.orders.transition(d.orderId, 'received', { receivedQuantity: d.counted, now });
      if (r.event) out.orders.push(r.event);
      if (ctx.receipt.closeAfterMs === 0) {
        const c = ctx.orders.transition(d.orderId, 'closed', { now, expectedState: 'received' });
        if (c.event) out.orders.push(c.event);
      }
      ctx.log?.info(
        { lane: laneKey(lane), orderId: d.orderId, counted: d.counted },
        'delivery confirmed by weight',
      );
      // Receipt re-arms the lane (hysteresis).
      return { ...s, armed: true, receipt: { orderId: null, steps: [] } };
    }
    case 'open-alert': {
      const r = ctx.store.alerts.open(lane, d.kind, d.message, now);
      if (r.created) out.alerts.push(alertEvent(r.alert));
      return s;
    }
    case 'clear-alert': {
      const a = ctx.store.alerts.clearKind(lane, d.kind, now);
      if (a) out.alerts.push(alertEvent(a));
      return s;
    }
  }
}
