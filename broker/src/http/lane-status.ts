/**
 * The status a lane shows (docs/http-api.md, the dashboard's colours), as pure functions of what
 * central knows about it. Worst first: an offline lane tells nothing else for sure, a faulty cell
 * makes the count meaningless, then an empty lane, then an order in flight, then the reorder point.
 */
import type { HealthStatus, LaneState, OrderState } from '@shelfsense/protocol';

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
  /** Central clock, ms. */
  now: number;
  /** A lane with no level for this long is offline. */
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

/** Worst first. */
const HEALTH_RANK: Record<HealthStatus, number> = {
  ok: 0,
  noisy: 1,
  drifting: 2,
  no_data: 3,
  saturated: 4,
  disconnected: 5,
};

/**
 * A lane's health from its shelf's health report: the worst of the lane's own channels, or the
 * shelf's overall status when the report does not list them.
 */
export function laneHealth(
  report:
    | { status: HealthStatus; channels: readonly { channel: number; status: HealthStatus }[] }
    | undefined,
  channels: readonly number[],
): HealthStatus | null {
  if (!report) return null;
  let worst: HealthStatus | null = null;
  for (const c of report.channels) {
    if (!channels.includes(c.channel)) continue;
    if (worst === null || HEALTH_RANK[c.status] > HEALTH_RANK[worst]) worst = c.status;
  }
  return worst ?? report.status;
}
