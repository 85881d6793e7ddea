/**
 * The order state machine: open → acknowledged → shipped → received → closed, or cancelled.
 * `received` is also reachable from `acknowledged`, because the shelf itself confirms a delivery
 * by weight even when the supplier never marked the order shipped.
 */
import type { OrderState } from '@shelfsense/protocol';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';

export const TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  open: ['acknowledged', 'cancelled'],
  acknowledged: ['shipped', 'received', 'cancelled'],
  shipped: ['received'],
  received: ['closed'],
  closed: [],
  cancelled: [],
};

/** States after which the lane may have a new order. */
export const FINAL_STATES: readonly OrderState[] = ['closed', 'cancelled'];
/** States in which an order is still live (at most one per lane, enforced by the database). */
export const LIVE_STATES: readonly OrderState[] = ['open', 'acknowledged', 'shipped', 'received'];

export function isFinal(state: OrderState): boolean {
  return FINAL_STATES.includes(state);
}

export function canTransition(from: OrderState, to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws SHELF_ERR_TRANSITION naming both states and what is allowed instead. */
export function assertTransition(orderId: string, from: OrderState, to: OrderState): void {
  if (canTransition(from, to)) return;
  const allowed = TRANSITIONS[from];
  throw new ReplenishmentError(
    ReplenishmentErrorCodes.TRANSITION,
    `order ${orderId} is ${from}: cannot go to ${to}` +
      (allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (it is final)'),
    [{ path: 'state', message: `cannot go from ${from} to ${to}` }],
  );
}
