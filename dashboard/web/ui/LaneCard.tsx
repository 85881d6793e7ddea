/**
 * One lane: what is on it, its status in colour and words, a fill bar, the count, days of cover,
 * when it last reported, and its order in flight. "History" opens the lane's chart in place.
 */
import {
  fillPercent,
  formatAgo,
  formatDateTime,
  formatDaysOfCover,
  formatFill,
  formatGrams,
  formatUnits,
  laneName,
} from '../lib/format.js';
import type { Lane } from '../lib/lane.js';
import { type LaneStatus, orderStateLabel, STATUS_INFO, statusClass } from '../lib/status.js';
import { HistoryChart } from './HistoryChart.js';

export function StatusBadge({ status }: { status: LaneStatus }) {
  const info = STATUS_INFO[status];
  return (
    <span class={`badge ${statusClass(status)}`} title={info.description}>
      <span class="badge-dot" aria-hidden="true" />
      <span class="badge-text">
        <span class="visually-hidden">Status: </span>
        {info.label}
      </span>
    </span>
  );
}

export function FillBar({ fill, status }: { fill: number | null; status: LaneStatus }) {
  return (
    <meter
      class={`fill-bar ${statusClass(status)}`}
      aria-label="Fill level"
      min={0}
      max={100}
      value={fillPercent(fill)}
      title={formatFill(fill)}
    />
  );
}

export function laneTitle(lane: Lane): string {
  return lane.skuName ?? lane.sku ?? 'Unassigned lane';
}

/** The accessible name of a lane's list item: "Cola 0.33 l at store-1 · shelf-a · L0". */
export function laneLabel(lane: Lane): string {
  return `${laneTitle(lane)} at ${laneName(lane)}`;
}

export interface LaneCardProps {
  lane: Lane;
  now: number;
  expanded: boolean;
  onToggle(): void;
  showSupplier?: boolean;
}

export function LaneCard({ lane, now, expanded, onToggle, showSupplier = false }: LaneCardProps) {
  const id = `lane-${lane.site}-${lane.shelf}-${lane.lane}`;
  return (
    <li
      class={`lane-card ${statusClass(lane.status)}${expanded ? ' expanded' : ''}`}
      aria-label={laneLabel(lane)}
    >
      <div class="lane-head">
        <div class="lane-title">
          <h3>{laneTitle(lane)}</h3>
          <p class="lane-where">{laneName(lane)}</p>
        </div>
        <StatusBadge status={lane.status} />
      </div>
      <FillBar fill={lane.fill} status={lane.status} />
      <dl class="facts">
        <div>
          <dt>Items</dt>
          <dd class="units">{formatUnits(lane.units, lane.capacity)}</dd>
        </div>
        <div>
          <dt>Fill</dt>
          <dd>{formatFill(lane.fill)}</dd>
        </div>
        <div>
          <dt>Days of cover</dt>
          <dd>{formatDaysOfCover(lane.daysOfCover)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>
            <time
              dateTime={lane.updatedAt ? new Date(lane.updatedAt).toISOString() : undefined}
              title={formatDateTime(lane.updatedAt)}
            >
              {formatAgo(lane.updatedAt, now)}
            </time>
          </dd>
        </div>
        {lane.reorderPoint !== null && (
          <div>
            <dt>Reorder point</dt>
            <dd>{formatUnits(lane.reorderPoint)}</dd>
          </div>
        )}
        {lane.grams !== null && (
          <div>
            <dt>Weight</dt>
            <dd>{formatGrams(lane.grams)}</dd>
          </div>
        )}
        {showSupplier && lane.supplier && (
          <div>
            <dt>Supplier</dt>
            <dd>{lane.supplier}</dd>
          </div>
        )}
        {lane.openOrder && (
          <div class="wide">
            <dt>Order</dt>
            <dd>
              {orderStateLabel(lane.openOrder.state)}, {formatUnits(lane.openOrder.quantity)}
            </dd>
          </div>
        )}
      </dl>
      <button
        type="button"
        class="link-button"
        aria-expanded={expanded}
        aria-controls={`${id}-history`}
        onClick={onToggle}
      >
        {expanded ? 'Hide history' : 'Show history'}
      </button>
      {expanded && (
        <div id={`${id}-history`}>
          <HistoryChart lane={lane} />
        </div>
      )}
    </li>
  );
}
