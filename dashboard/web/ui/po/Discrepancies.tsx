/**
 * Receipt discrepancies: a PO line counted on the shelf different from what shipped. Each shows
 * what was expected and counted; an open one is resolved by the supplier or the store with a
 * resolution (accept the count, the supplier credits the difference, or it is delivered again on
 * the next PO) and a note. Listed under their PO and in a list of their own.
 */
import type { ApiDiscrepancy } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { formatDateTime } from '../../lib/format.js';
import { mayResolve, type Resolution, resolveDiscrepancy } from '../../lib/purchase-orders.js';
import type { Resource } from '../hooks.js';
import { useApp } from '../hooks.js';
import { Outcome, usePoAction } from './shared.js';

const RESOLUTIONS: readonly [Resolution, string][] = [
  ['accept', 'Accept the count as delivered'],
  ['credit', 'The supplier credits the difference'],
  ['redeliver', 'Deliver the missing items on the next order'],
];
const KIND_TEXT = { short: 'Short', over: 'Over', 'wrong-item': 'Wrong item' } as const;

function Item({ d, onResolved }: { d: ApiDiscrepancy; onResolved(): void }) {
  const { api, user } = useApp();
  const action = usePoAction();
  const [resolution, setResolution] = useState<Resolution>('accept');
  const [note, setNote] = useState('');
  const id = `disc-${d.id}`;
  const resolve = async (e: Event) => {
    e.preventDefault();
    const r = await action.run('resolve', 'resolve the discrepancy', () =>
      resolveDiscrepancy(api, d.id, resolution, note),
    );
    if (r) onResolved();
  };
  return (
    <li
      class={`alert-card disc-card disc-${d.state}`}
      aria-label={`Discrepancy ${d.id}: ${d.sku} on ${d.purchaseOrderId}`}
    >
      <p class="alert-message">
        <strong>
          {KIND_TEXT[d.kind]}: {d.counted} counted of {d.expected} shipped
        </strong>{' '}
        · {d.sku} at {d.site} · purchase order {d.purchaseOrderId}
      </p>
      <p class="muted">Opened {formatDateTime(d.openedAt)}</p>
      {d.state === 'resolved' ? (
        <p>
          Resolved ({RESOLUTIONS.find(([r]) => r === d.resolution)?.[1] ?? d.resolution}) by{' '}
          {d.resolvedBy ?? '—'} on {formatDateTime(d.resolvedAt)}
          {d.note && <> — “{d.note}”</>}
        </p>
      ) : (
        mayResolve(user.role) && (
          <form class="po-resolve" aria-label={`Resolve discrepancy ${d.id}`} onSubmit={resolve}>
            <div class="field">
              <label for={`${id}-resolution`}>Resolution</label>
              <select
                id={`${id}-resolution`}
                value={resolution}
                onChange={(e) => setResolution(e.currentTarget.value as Resolution)}
              >
                {RESOLUTIONS.map(([r, text]) => (
                  <option key={r} value={r}>
                    {text}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for={`${id}-note`}>Note</label>
              <input
                id={`${id}-note`}
                type="text"
                maxLength={500}
                value={note}
                onInput={(e) => setNote(e.currentTarget.value)}
              />
            </div>
            <button
              type="submit"
              class="primary"
              disabled={action.busy !== null}
              aria-busy={action.busy !== null}
            >
              Resolve
            </button>
          </form>
        )
      )}
      <Outcome action={action} />
    </li>
  );
}

export function DiscrepancyList(p: { items: readonly ApiDiscrepancy[]; label: string; onResolved(): void }) {
  return (
    <ul class="card-list" aria-label={p.label}>
      {p.items.map((d) => (
        <Item key={d.id} d={d} onResolved={p.onResolved} />
      ))}
    </ul>
  );
}

export function DiscrepanciesPanel({ res }: { res: Resource<readonly ApiDiscrepancy[]> }) {
  const [state, setState] = useState<'open' | 'resolved'>('open');
  const items = res.data?.filter((d) => d.state === state) ?? [];
  return (
    <section class="panel" aria-labelledby="disc-heading">
      <div class="panel-head">
        <h2 id="disc-heading">Discrepancies</h2>
        <div class="field inline">
          <label for="disc-state">Show</label>
          <select
            id="disc-state"
            value={state}
            onChange={(e) => setState(e.currentTarget.value as 'open' | 'resolved')}
          >
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
          </select>
        </div>
      </div>
      {res.error && (
        <p class="error" role="alert">
          Discrepancies could not be loaded: {res.error}
        </p>
      )}
      {res.data && items.length === 0 && <p class="muted">No {state} discrepancies.</p>}
      <DiscrepancyList
        items={items}
        label={`${state === 'open' ? 'Open' : 'Resolved'} discrepancies`}
        onResolved={res.reload}
      />
    </section>
  );
}
