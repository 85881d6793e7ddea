/**
 * CSV export of level history: pick a period (and optionally a site), then download. The file
 * is fetched with the Authorization header and saved as a Blob, so the token never appears in a
 * URL.
 */
import { useState } from 'preact/hooks';
import { fetchCsv, lastDays } from '../lib/csv.js';
import type { Lane } from '../lib/lane.js';
import { saveBlob } from './download.js';
import { useAction, useApp } from './hooks.js';

const PERIODS = [
  { days: 1, label: 'Last 24 hours' },
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
] as const;

export function ExportPanel({ lanes }: { lanes: readonly Lane[] | null }) {
  const { api } = useApp();
  const [days, setDays] = useState<number>(7);
  const [site, setSite] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const sites = [...new Set((lanes ?? []).map((l) => l.site))].sort();

  const download = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    await action.run('export', async () => {
      const { blob, filename } = await fetchCsv(api, {
        ...lastDays(days, Date.now()),
        site: site || undefined,
      });
      saveBlob(blob, filename);
      setDone(`Saved ${filename}`);
    });
  };

  return (
    <section class="panel" aria-labelledby="export-heading">
      <div class="panel-head">
        <h2 id="export-heading">Export</h2>
      </div>
      <form class="export-form" onSubmit={download}>
        <div class="field">
          <label for="export-period">Period</label>
          <select id="export-period" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {PERIODS.map((p) => (
              <option key={p.days} value={p.days}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="export-site">Site</label>
          <select id="export-site" value={site} onChange={(e) => setSite(e.currentTarget.value)}>
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          class="primary"
          disabled={action.busy !== null}
          aria-busy={action.busy !== null}
        >
          Download CSV
        </button>
      </form>
      {done && (
        <p class="muted" role="status">
          {done}
        </p>
      )}
      {action.error && (
        <p class="error" role="alert">
          Export failed: {action.error}
        </p>
      )}
    </section>
  );
}
