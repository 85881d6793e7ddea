/**
 * The lane list shared by the supplier and operator views: a summary of statuses in words, a
 * filter, and the lanes as a list (worst first), kept live by the caller's lane resource.
 */
import { useMemo, useState } from 'preact/hooks';
import { laneKey, laneName } from '../lib/format.js';
import type { Lane } from '../lib/lane.js';
import { countByStatus, LANE_STATUSES, STATUS_INFO, sortByStatus } from '../lib/status.js';
import { useNow } from './hooks.js';
import { LaneCard, laneTitle } from './LaneCard.js';

export interface LaneListProps {
  lanes: readonly Lane[] | null;
  loading: boolean;
  error: string | null;
  heading: string;
  showSupplier?: boolean;
}

function matches(lane: Lane, q: string): boolean {
  if (!q) return true;
  const hay = `${laneTitle(lane)} ${lane.sku ?? ''} ${laneName(lane)} ${lane.supplier ?? ''} ${
    STATUS_INFO[lane.status].label
  }`.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export function StatusSummary({ lanes }: { lanes: readonly Lane[] }) {
  const counts = countByStatus(lanes);
  const parts = LANE_STATUSES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${STATUS_INFO[s].label}`);
  return (
    <p class="summary">
      {lanes.length} lane{lanes.length === 1 ? '' : 's'}
      {parts.length > 0 ? `: ${parts.join(', ')}` : ''}
    </p>
  );
}

export function LaneList({ lanes, loading, error, heading, showSupplier }: LaneListProps) {
  const now = useNow();
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const sorted = useMemo(() => (lanes ? sortByStatus(lanes) : []), [lanes]);
  const shown = sorted.filter((l) => matches(l, query.trim()));
  return (
    <section class="panel" aria-labelledby="lanes-heading">
      <div class="panel-head">
        <h2 id="lanes-heading">{heading}</h2>
        <div class="field inline">
          <label for="lane-filter">Filter lanes</label>
          <input
            id="lane-filter"
            type="search"
            value={query}
            placeholder="SKU, site, status…"
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          Lanes could not be loaded: {error}
        </p>
      )}
      {lanes && <StatusSummary lanes={lanes} />}
      {loading && !lanes && <p>Loading lanes…</p>}
      {lanes && lanes.length === 0 && <p>No lanes to show.</p>}
      {lanes && lanes.length > 0 && shown.length === 0 && <p>No lane matches “{query}”.</p>}
      <ul class="lane-grid" aria-label={heading}>
        {shown.map((l) => {
          const key = laneKey(l);
          return (
            <LaneCard
              key={key}
              lane={l}
              now={now}
              expanded={open === key}
              onToggle={() => setOpen(open === key ? null : key)}
              showSupplier={showSupplier ?? false}
            />
          );
        })}
      </ul>
    </section>
  );
}
