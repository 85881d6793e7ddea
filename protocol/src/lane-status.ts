/**
 * The status a lane shows (docs/http-api.md "Lanes", the dashboard's colours), as a pure function
 * of what is known about it. Central's HTTP API and the dashboard both compute it here, so a lane
 * has one status wherever it is shown. Worst first: an offline lane tells nothing else for sure, a
 * faulty cell makes the count meaningless, then an empty lane, then an order in flight, then the
 * reorder point. No Node-only imports: the dashboard bundles this file for the browser.
 */
import type { HealthStatus, LaneState, OrderState } from './payloads.js';

export const LANE_STATUSES = [
  'ok',
  'below-reorder',
  'ordered',
  'stock-out',
  'sensor-fault',
  'offline',
] as const;
export type LaneStatusName = (typeof LANE_STATUSES)[number];

export interface LaneStatusInput {
  /** The clock the level timestamps are compared with, ms. */
  now: number;
  /** A lane with no level for this long is offline (central `timing.offlineAfterMs`). */
  offlineAfterMs: number;
  /** From the agent's retained status / last will; null when unknown. */
  agentOnline: boolean | null;
  /** Timestamp of the newest level; null when the lane never reported. */
  levelTs: number | null;
  /** The lane state the agent reported with the newest level. */
  state: LaneState | null;
  /** The rules service's view of the lane (it also knows silence and shelf health); null without rules. */
  condition: LaneState | null;
  /** The lane's worst channel health; null when unknown. */
  health: HealthStatus | null;
  units: number | null;
  /** State of the lane's live order, if any. */
  orderState: OrderState | null;
  /** The reorder point in force; null when the lane has no policy. */
  reorderPoint: number | null;
}

/** Health values that mean the cells cannot be trusted. */
export const FAULT_HEALTH: ReadonlySet<HealthStatus> = new Set(['saturated', 'disconnected', 'no_data']);
/** Order states that mean "replenishment in flight" (a received order is already on the shelf). */
export const IN_FLIGHT: ReadonlySet<OrderState> = new Set(['open', 'acknowledged', 'shipped']);

export function isLaneStatusName(value: unknown): value is LaneStatusName {
  return typeof value === 'string' && (LANE_STATUSES as readonly string[]).includes(value);
}

export function isOffline(i: LaneStatusInput): boolean {
  return (
    i.agentOnline === false ||
    i.levelTs === null ||
    i.now - i.levelTs >= i.offlineAfterMs ||
    i.state === 'offline' ||
    i.condition === 'offline'
  );
}

export function laneStatus(i: LaneStatusInput): LaneStatusName {
  if (isOffline(i)) return 'offline';
  if (i.state === 'fault' || i.condition === 'fault' || (i.health !== null && FAULT_HEALTH.has(i.health))) {
    return 'sensor-fault';
  }
  if (i.units === 0) return 'stock-out';
  if (i.orderState !== null && IN_FLIGHT.has(i.orderState)) return 'ordered';
  if (i.units !== null && i.reorderPoint !== null && i.units <= i.reorderPoint) return 'below-reorder';
  return 'ok';
}
