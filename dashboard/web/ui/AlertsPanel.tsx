/**
 * Alerts (stock-out, offline, sensor fault, anomaly, and what the shelves' weights observe: a
 * foreign object, another lane's item, tamper, a wrong unit weight) for the operator's and
 * technician's sites, with acknowledge; then the observations open now. Reloads when an alert
 * message arrives.
 */

import type { ApiAlert } from '@shelfsense/protocol';
import { formatAgo, formatDateTime } from '../lib/format.js';
import { alertKindLabel } from '../lib/status.js';
import { useAction, useApp, useNow, useResource } from './hooks.js';
import { ObservationsPanel } from './ObservationsPanel.js';

/** The observations' alert kinds, in plain words. */
const OBSERVED_KIND_LABELS: Readonly<Record<string, string>> = {
  'foreign-object': 'Foreign object on the lane',
  'misplaced-item': 'Item on the wrong lane',
  tamper: 'Tamper',
  'unit-weight': 'Unit weight looks wrong',
};

const STATE_TEXT: Readonly<Record<string, string>> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  cleared: 'Cleared',
};

function where(a: ApiAlert): string {
  return [a.site, a.shelf, a.lane].filter(Boolean).join(' · ');
}

function AlertItem({ alert, onChanged }: { alert: ApiAlert; onChanged(): void }) {
  const { api } = useApp();
  const now = useNow(30_000);
  const action = useAction();
  const kind = OBSERVED_KIND_LABELS[alert.kind] ?? alertKindLabel(alert.kind);
  return (
    <li
      class={`alert-card alert-${alert.kind} alert-state-${alert.state}`}
      aria-label={`${kind} alert at ${where(alert)}`}
    >
      <div class="lane-head">
        <div class="lane-title">
          <h3>{kind}</h3>
          <p class="lane-where">{where(alert)}</p>
        </div>
        <span class={`badge alert-badge alert-state-${alert.state}`}>
          <span class="visually-hidden">Alert state: </span>
          {STATE_TEXT[alert.state] ?? alert.state}
        </span>
      </div>
      {alert.message && <p class="alert-message">{alert.message}</p>}
      <p class="muted" title={formatDateTime(alert.openedAt)}>
        Opened {formatAgo(alert.openedAt, now)}
        {alert.acknowledgedBy ? ` · acknowledged by ${alert.acknowledgedBy}` : ''}
      </p>
      {alert.state === 'open' && (
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={action.busy !== null}
            aria-busy={action.busy !== null}
            onClick={async () => {
              if (await action.run('ack', () => api.acknowledgeAlert(alert.id))) onChanged();
            }}
          >
            Acknowledge
          </button>
        </div>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </li>
  );
}

export function AlertsPanel({ heading = 'Alerts' }: { heading?: string }) {
  const { api } = useApp();
  const alerts = useResource(() => api.alerts(['open', 'acknowledged']), [api], ['alert']);
  return (
    <>
      <section class="panel" aria-labelledby="alerts-heading">
        <div class="panel-head">
          <h2 id="alerts-heading">{heading}</h2>
        </div>
        {alerts.error && (
          <p class="error" role="alert">
            Alerts could not be loaded: {alerts.error}
          </p>
        )}
        {alerts.loading && !alerts.data && <p>Loading alerts…</p>}
        {alerts.data && alerts.data.length === 0 && <p>No open alerts.</p>}
        <ul class="card-list" aria-label={heading}>
          {alerts.data?.map((a) => (
            <AlertItem key={a.id} alert={a} onChanged={alerts.reload} />
          ))}
        </ul>
      </section>
      <ObservationsPanel />
    </>
  );
}
