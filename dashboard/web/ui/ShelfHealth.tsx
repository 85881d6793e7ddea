/**
 * Shelf health from the retained `…/{shelf}/health` topic: the worst channel status, then noise
 * and corrected drift per channel, and the counts of rejected serial lines by reason.
 */
import type { HealthPayload } from '@shelfsense/protocol';
import { useEffect, useState } from 'preact/hooks';
import { formatAgo, formatDateTime, formatGrams } from '../lib/format.js';
import { healthLabel } from '../lib/status.js';
import { useApp, useNow } from './hooks.js';

export function ShelfHealth({ site, shelf }: { site: string; shelf: string }) {
  const { live } = useApp();
  const now = useNow(5_000);
  const key = `${site}/${shelf}`;
  const [health, setHealth] = useState<HealthPayload | null>(() => live.health.get(key) ?? null);

  useEffect(() => {
    setHealth(live.health.get(key) ?? null);
    return live.onAction((a) => {
      if (a.type === 'health' && a.site === site && a.shelf === shelf) setHealth(a.health);
    });
  }, [live, key, site, shelf]);

  const rejects = health ? Object.entries(health.rejects).filter(([, n]) => n > 0) : [];
  return (
    <section class="panel" aria-labelledby="health-heading">
      <div class="panel-head">
        <h2 id="health-heading">Shelf health — {shelf}</h2>
        {health && (
          <span class={`badge health-${health.status}`}>
            <span class="visually-hidden">Shelf health: </span>
            {healthLabel(health.status)}
          </span>
        )}
      </div>
      {!health && <p class="muted">No health report from this shelf yet.</p>}
      {health && (
        <>
          <p class="muted" title={formatDateTime(health.ts)}>
            Reported {formatAgo(health.ts, Math.max(now, health.ts))} by agent {health.agent} (serial{' '}
            {health.serial})
          </p>
          <div class="table-wrap">
            <table>
              <caption>Channels</caption>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Health</th>
                  <th scope="col">Noise</th>
                  <th scope="col">Drift corrected</th>
                </tr>
              </thead>
              <tbody>
                {health.channels.map((c) => (
                  <tr key={c.channel} class={`health-${c.status}`}>
                    <th scope="row">{c.channel}</th>
                    <td>{healthLabel(c.status)}</td>
                    <td>±{formatGrams(c.noiseG)}</td>
                    <td>{formatGrams(c.driftG)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rejects.length > 0 && (
            <p class="muted">
              Rejected serial lines: {rejects.map(([reason, n]) => `${reason} ${n}`).join(', ')}
            </p>
          )}
        </>
      )}
    </section>
  );
}
