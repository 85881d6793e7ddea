/**
 * Lane status: the six states the dashboard shows, each with a text label and a colour class
 * (colour is never the only signal), and a lane's status after a live update, computed by the
 * contract's `laneStatus` (the function central's API uses) from what the lane view holds. Pure:
 * no DOM, so it is unit-tested in Node.
 */
import {
  HealthStatuses,
  isLaneStatusName,
  LANE_STATUSES,
  LaneStates,
  type LaneStatusInput,
  type LaneStatusName,
  laneStatus,
  OrderStates,
} from '@shelfsense/protocol';

export { LANE_STATUSES };
export type LaneStatus = LaneStatusName;

export interface StatusInfo {
  /** Short text shown next to the colour. */
  label: string;
  /** One sentence for screen readers and the tooltip. */
  description: string;
  /** Lower is worse; lanes sort worst first. */
  rank: number;
}

export const STATUS_INFO: Readonly<Record<LaneStatus, StatusInfo>> = {
  offline: { label: 'Offline', description: 'The shelf agent is not reporting.', rank: 0 },
  'sensor-fault': { label: 'Sensor fault', description: 'A load cell needs a technician.', rank: 1 },
  'stock-out': { label: 'Stock-out', description: 'The lane is empty.', rank: 2 },
  'below-reorder': {
    label: 'Below reorder point',
    description: 'Stock is at or below the reorder point.',
    rank: 3,
  },
  ordered: { label: 'Ordered', description: 'A replenishment order is on its way.', rank: 4 },
  ok: { label: 'OK', description: 'Stock is above the reorder point.', rank: 5 },
};

export function isLaneStatus(value: unknown): value is LaneStatus {
  return isLaneStatusName(value);
}

export function statusLabel(status: LaneStatus): string {
  return STATUS_INFO[status].label;
}

/** CSS class carrying the colour; the label is always rendered beside it. */
export function statusClass(status: LaneStatus): string {
  return `status-${status}`;
}

/** What the lane view holds that its status depends on (the API's lane, as the dashboard reads it). */
export interface StatusInputs {
  units: number | null;
  /** The agent pipeline's lane state (ok / unstable / anomalous / fault / offline). */
  state: string | null;
  agentOnline: boolean | null;
  health: string | null;
  reorderPoint: number | null;
  openOrder: { state: string } | null;
  /** Timestamp of the lane's newest level; null when it never reported. */
  updatedAt: number | null;
  /** Central's offline timeout; null from a central that does not send it (then no timeout). */
  offlineAfterMs: number | null;
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | null {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : null;
}

/** The contract's status input for a lane at `now` (the browser clock). Unknown values read as null. */
export function statusInput(lane: StatusInputs, now: number): LaneStatusInput {
  return {
    now,
    offlineAfterMs: lane.offlineAfterMs ?? Number.POSITIVE_INFINITY,
    agentOnline: lane.agentOnline,
    levelTs: lane.updatedAt,
    state: oneOf(LaneStates, lane.state),
    // The rules' view is not in the lane view; the API's own status already includes it.
    condition: null,
    health: oneOf(HealthStatuses, lane.health),
    units: lane.units,
    orderState: oneOf(OrderStates, lane.openOrder?.state ?? null),
    reorderPoint: lane.reorderPoint,
  };
}

/**
 * The status a lane has after a live update, by the same function as the central side: an offline
 * agent or a lane silent for the offline timeout hides everything else, then a faulty cell, then
 * an empty lane, then an order in flight, then the reorder point (at or below it counts as below).
 */
export function deriveStatus(lane: StatusInputs, now: number = Date.now()): LaneStatus {
  return laneStatus(statusInput(lane, now));
}

/** Sorts worst status first, then by site, shelf and lane, without changing the input. */
export function sortByStatus<T extends { status: LaneStatus; site: string; shelf: string; lane: string }>(
  lanes: readonly T[],
): T[] {
  return [...lanes].sort(
    (a, b) =>
      STATUS_INFO[a.status].rank - STATUS_INFO[b.status].rank ||
      a.site.localeCompare(b.site) ||
      a.shelf.localeCompare(b.shelf) ||
      a.lane.localeCompare(b.lane),
  );
}

/** Counts lanes per status, every status present (zero when none), for the summary line. */
export function countByStatus(lanes: readonly { status: LaneStatus }[]): Record<LaneStatus, number> {
  const counts = Object.fromEntries(LANE_STATUSES.map((s) => [s, 0])) as Record<LaneStatus, number>;
  for (const l of lanes) counts[l.status]++;
  return counts;
}

export const ORDER_STATE_LABELS: Readonly<Record<string, string>> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  shipped: 'Shipped',
  received: 'Received',
  closed: 'Closed',
  cancelled: 'Cancelled',
};

export function orderStateLabel(state: string): string {
  return ORDER_STATE_LABELS[state] ?? state;
}

/**
 * Which transitions a role may offer for an order in a given state, after the central order state
 * machine (open → acknowledged → shipped; cancel while open or acknowledged). The server decides.
 */
export function orderActions(role: string, state: string): ('acknowledge' | 'ship' | 'cancel')[] {
  const supplierLike = role === 'supplier' || role === 'admin';
  const operatorLike = role === 'operator' || role === 'admin';
  const out: ('acknowledge' | 'ship' | 'cancel')[] = [];
  if (supplierLike && state === 'open') out.push('acknowledge');
  if (supplierLike && state === 'acknowledged') out.push('ship');
  if (operatorLike && (state === 'open' || state === 'acknowledged')) out.push('cancel');
  return out;
}

/** The webhook delivery state in words. */
export function deliveryLabel(delivery: { state: string; attempts: number } | null): string {
  if (!delivery) return 'Not sent';
  const tries = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`;
  switch (delivery.state) {
    case 'delivered':
      return `Delivered (${tries})`;
    case 'pending':
      return delivery.attempts === 0 ? 'Sending' : `Retrying (${tries})`;
    case 'dead':
      return `Failed (${tries})`;
    case 'skipped':
      return 'No webhook';
    default:
      return `${delivery.state} (${tries})`;
  }
}

export const HEALTH_LABELS: Readonly<Record<string, string>> = {
  ok: 'OK',
  noisy: 'Noisy',
  drifting: 'Drifting',
  saturated: 'Saturated (cell unplugged or overloaded)',
  disconnected: 'Disconnected',
  no_data: 'No data',
};

export function healthLabel(health: string | null): string {
  if (health === null) return 'Unknown';
  return HEALTH_LABELS[health] ?? health;
}

export const ALERT_KIND_LABELS: Readonly<Record<string, string>> = {
  'stock-out': 'Stock-out',
  offline: 'Offline',
  'sensor-fault': 'Sensor fault',
  anomaly: 'Anomaly',
};

export function alertKindLabel(kind: string): string {
  return ALERT_KIND_LABELS[kind] ?? kind;
}
