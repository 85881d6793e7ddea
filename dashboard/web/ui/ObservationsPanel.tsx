/**
 * What the shelves' weights say beyond their counts, right now: a hand resting, something leaning,
 * an object left behind, another lane's item, tamper, a unit weight that looks wrong — in plain
 * words, where, how much, since when. Reloads with every alert change and every 20 s (a hand or a
 * lean opens no alert).
 */
import type { ApiObservation } from '@shelfsense/protocol';
import { useEffect } from 'preact/hooks';
import { formatAgo, formatDateTime, formatGrams } from '../lib/format.js';
import { useApp, useNow, useResource } from './hooks.js';

export const OBSERVATION_LABELS: Readonly<Record<string, string>> = {
  hand: 'Hand on the lane',
  lean: 'Something leaning',
  'foreign-object': 'Foreign object',
  'misplaced-item': 'Item on the wrong lane',
  tamper: 'Tamper',
  'unit-weight': 'Unit weight looks wrong',
};

const RELOAD_MS = 20_000;

function where(o: ApiObservation): string {
  return [o.site, o.shelf, o.lane].join(' · ');
}

/** How much, in grams and (when it means something) items. */
export function observationAmount(o: ApiObservation): string {
  const g = formatGrams(Math.abs(o.grams));
  if (o.items === null) return g;
  const n = Math.round(Math.abs(o.items) * 10) / 10;
  return `${g} · about ${n} item${n === 1 ? '' : 's'}`;
}

function ObservationItem({ o, now }: { o: ApiObservation; now: number }) {
  const label = OBSERVATION_LABELS[o.kind] ?? o.kind;
  return (
    <li class={`observation-card observation-${o.kind}`} aria-label={`${label} at ${where(o)}`}>
      <div class="lane-head">
        <div class="lane-title">
          <h3>{label}</h3>
          <p class="lane-where">{where(o)}</p>
        </div>
        <span class="badge observation-amount">{observationAmount(o)}</span>
      </div>
      {o.message && <p class="observation-message">{o.message}</p>}
      <p class="muted" title={formatDateTime(o.ts)}>
        Since {formatAgo(o.ts, now)}
      </p>
    </li>
  );
}

export function ObservationsPanel({ heading = 'On the shelves now' }: { heading?: string }) {
  const { api } = useApp();
  const now = useNow(30_000);
  const list = useResource(
    () => api.observations({ state: 'live', limit: 200 }),
    [api],
    ['alert', 'observation'],
  );
  useEffect(() => {
    const t = setInterval(list.reload, RELOAD_MS);
    return () => clearInterval(t);
  }, [list.reload]);
  return (
    <section class="panel observations" aria-labelledby="observations-heading">
      <div class="panel-head">
        <h2 id="observations-heading">{heading}</h2>
      </div>
      {list.error && (
        <p class="error" role="alert">
          Observations could not be loaded: {list.error}
        </p>
      )}
      {list.loading && !list.data && <p>Loading observations…</p>}
      {list.data && list.data.length === 0 && <p>Nothing unusual on the shelves.</p>}
      <ul class="card-list" aria-label={heading}>
        {list.data?.map((o) => (
          <ObservationItem key={o.id} o={o} now={now} />
        ))}
      </ul>
    </section>
  );
}
