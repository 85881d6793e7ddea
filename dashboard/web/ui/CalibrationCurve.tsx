/**
 * A lane's reference points, read back from its calibration records: per channel, each point's
 * mass and residual (suspect ones marked), the plot of the fitted curve against the straight line
 * through zero, and removing a bad point (asked twice, since it changes the counting at once).
 */
import type { CalibrationRecord } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { formatGrams } from '../lib/format.js';
import {
  type ChannelPoints,
  curvePlot,
  lanePoints,
  pointsAdvice,
  pointVerdict,
  removePointArgs,
} from '../lib/wizard.js';
import { useApp, useResource } from './hooks.js';

export interface CalibrationCurveProps {
  site: string;
  agent: string;
  shelf: string;
  lane: string;
  /** Bumped after each command, so the records reload. */
  version: number;
  /** The newest record the agent answered with, in case central has not stored it yet. */
  latest: CalibrationRecord | null;
  /** Called with the agent's record after a point was removed. */
  onRemoved(record: CalibrationRecord): void;
}

/** A residual with its sign: "+1.25 g", "−500.0 g". */
function signed(g: number | null): string {
  if (g === null) return '—';
  const text = formatGrams(Math.abs(g));
  // No sign on what rounds to zero ("−0.0 g" would read as an error).
  if (/^0(\.0+)? g$/.test(text)) return text;
  return `${g < 0 ? '−' : '+'}${text}`;
}

function Plot({ channel }: { channel: ChannelPoints }) {
  const plot = curvePlot(channel.points);
  if (!plot) return null;
  const suspects = plot.dots.filter((d) => d.suspect).map((d) => formatGrams(d.grams));
  const label = `Fitted curve of channel ${channel.channel}: each point's deviation from the straight line through zero${
    suspects.length > 0 ? `; suspect: ${suspects.join(', ')}` : '; every point within the band'
  }`;
  return (
    <figure class="curve">
      <svg viewBox={`0 0 ${plot.width} ${plot.height}`} role="img" aria-label={label}>
        <path class="curve-band" d={plot.band} />
        {plot.yTicks.map((t) => (
          <g key={`y${t.grams}`}>
            <line class="curve-grid" x1={44} x2={plot.width - 16} y1={t.at} y2={t.at} />
            <text class="curve-tick" x={40} y={t.at + 4} text-anchor="end">
              {t.grams}
            </text>
          </g>
        ))}
        {plot.xTicks.map((t) => (
          <text key={`x${t.grams}`} class="curve-tick" x={t.at} y={plot.height - 8} text-anchor="middle">
            {t.grams >= 1000 ? `${t.grams / 1000} kg` : `${t.grams} g`}
          </text>
        ))}
        <line class="curve-zero" x1={44} x2={plot.width - 16} y1={plot.zeroY} y2={plot.zeroY} />
        <path class="curve-line" d={plot.curve} />
        {plot.dots.map((d) => (
          <circle
            key={d.grams}
            class={d.suspect ? 'curve-dot suspect' : 'curve-dot'}
            cx={d.x}
            cy={d.y}
            r={d.suspect ? 5 : 4}
          >
            <title>{`${formatGrams(d.grams)}: ${signed(d.residualG)}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption class="muted">
        Up: grams the straight line through zero is off at each point (the shaded band is the tolerance). A
        bad point sticks out of the band.
      </figcaption>
    </figure>
  );
}

export function CalibrationCurve({
  site,
  agent,
  shelf,
  lane,
  version,
  latest,
  onRemoved,
}: CalibrationCurveProps) {
  const { api } = useApp();
  const rows = useResource(
    () => api.calibrations({ site, shelf, lane }),
    [api, site, shelf, lane, version],
    ['calibration'],
  );
  const [asking, setAsking] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const records = [...(rows.data ?? []), ...(latest && latest.lane === lane ? [latest] : [])];
  const channels = rows.data ? lanePoints(records) : null;

  const remove = async (channel: number, grams: number) => {
    setBusy(true);
    setError(null);
    try {
      const args = removePointArgs(shelf, lane, grams, channel);
      const reply = await api.command(site, agent, 'remove-point', args);
      if (reply.status === 'error') {
        setError(
          `${reply.error?.message ?? 'the agent refused'}${reply.error?.code ? ` (${reply.error.code})` : ''}`,
        );
        return;
      }
      setAsking(null);
      onRemoved(reply.data as CalibrationRecord);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="points" aria-labelledby="points-heading">
      <h3 id="points-heading">Reference points</h3>
      {rows.error && (
        <p class="error" role="alert">
          Reference points could not be loaded: {rows.error}
        </p>
      )}
      {rows.loading && !channels && <p>Loading reference points…</p>}
      {channels && channels.length === 0 && <p>{pointsAdvice([])}</p>}
      {channels?.map((c) => (
        <div key={c.channel} class="points-channel">
          {channels.length > 1 && <h4>Channel {c.channel}</h4>}
          <p>{pointsAdvice(c.points)}</p>
          {c.points.length > 0 && (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Reference points of channel {c.channel}</caption>
                <thead>
                  <tr>
                    <th scope="col">Mass</th>
                    <th scope="col">Off by</th>
                    <th scope="col">Check</th>
                    <th scope="col">
                      <span class="visually-hidden">Remove</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {c.points.map((p) => {
                    const key = `${c.channel}:${p.grams}`;
                    return (
                      <tr key={key} class={p.suspect ? 'point-suspect' : ''}>
                        <td>{formatGrams(p.grams)}</td>
                        <td>{signed(p.residualG)}</td>
                        <td>{pointVerdict(p)}</td>
                        <td>
                          {asking === key ? (
                            <span class="point-confirm">
                              <button
                                type="button"
                                class="danger primary"
                                disabled={busy}
                                aria-busy={busy}
                                onClick={() => remove(c.channel, p.grams)}
                              >
                                Remove<span class="visually-hidden"> {formatGrams(p.grams)}</span> now
                              </button>
                              <button
                                type="button"
                                class="secondary"
                                disabled={busy}
                                onClick={() => setAsking(null)}
                              >
                                Keep
                              </button>
                            </span>
                          ) : (
                            <button
                              type="button"
                              class="secondary"
                              disabled={busy || c.points.length < 2}
                              title={c.points.length < 2 ? 'The last point sets the scale' : undefined}
                              onClick={() => setAsking(key)}
                            >
                              Remove<span class="visually-hidden"> {formatGrams(p.grams)}</span>
                            </button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <Plot channel={c} />
        </div>
      ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
