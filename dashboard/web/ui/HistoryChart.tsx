/**
 * A lane's item count over time (uPlot), from /api/lanes/…/history, with the reorder point as a
 * dashed line and a text summary for screen readers. The chart follows its container's width.
 */

import type { HistoryResponse } from '@shelfsense/protocol';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { formatDateTime, laneName } from '../lib/format.js';
import type { Lane } from '../lib/lane.js';
import { useApp, useResource } from './hooks.js';

const RANGES = [
  { label: 'Last 24 hours', ms: 24 * 3_600_000 },
  { label: 'Last 7 days', ms: 7 * 24 * 3_600_000 },
  { label: 'Last 30 days', ms: 30 * 24 * 3_600_000 },
] as const;

/** Points for uPlot: seconds on x, units on y, the reorder point as a flat second series. */
export function chartData(history: HistoryResponse, reorderPoint: number | null): uPlot.AlignedData {
  const levels = history.levels.filter((p) => p.units !== null).sort((a, b) => a.ts - b.ts);
  const xs = levels.map((p) => p.ts / 1000);
  const ys = levels.map((p) => p.units);
  const rop = levels.map(() => reorderPoint);
  return [xs, ys, rop];
}

export function summary(history: HistoryResponse): string {
  const units = history.levels.map((p) => p.units).filter((u): u is number => u !== null);
  if (units.length === 0) return 'No readings in this period.';
  const last = history.levels[history.levels.length - 1];
  return `${units.length} readings; lowest ${Math.min(...units)}, highest ${Math.max(...units)}, last ${
    units[units.length - 1]
  } items at ${formatDateTime(last?.ts ?? null)}; ${history.events.length} pick or restock events.`;
}

function Plot({ data, title }: { data: uPlot.AlignedData; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(200, Math.floor(el.clientWidth));
    const plot = new uPlot(
      {
        width: width(),
        height: 200,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
        axes: [{}, { label: 'items' }],
        series: [
          {},
          { label: 'Items', stroke: '#1f5fbf', width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) },
          { label: 'Reorder point', stroke: '#b26a00', dash: [6, 4], width: 1, points: { show: false } },
        ],
      },
      data,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}

export function HistoryChart({ lane }: { lane: Lane }) {
  const { api } = useApp();
  const [range, setRange] = useState<number>(RANGES[0].ms);
  const history = useResource(() => {
    const to = Date.now();
    return api.history(lane, to - range, to);
  }, [api, lane.site, lane.shelf, lane.lane, range]);
  const data = useMemo(
    () => (history.data ? chartData(history.data, lane.reorderPoint) : null),
    [history.data, lane.reorderPoint],
  );
  const selectId = `range-${lane.site}-${lane.shelf}-${lane.lane}`;
  const title = `Items on ${laneName(lane)} over time`;
  return (
    <figure class="history">
      <div class="history-controls">
        <label for={selectId}>Period</label>
        <select id={selectId} value={range} onChange={(e) => setRange(Number(e.currentTarget.value))}>
          {RANGES.map((r) => (
            <option key={r.ms} value={r.ms}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      {history.error && (
        <p class="error" role="alert">
          History could not be loaded: {history.error}
        </p>
      )}
      {data && data[0].length > 0 && <Plot data={data} title={title} />}
      <figcaption>
        {history.loading && !history.data ? 'Loading history…' : history.data ? summary(history.data) : ''}
      </figcaption>
    </figure>
  );
}
