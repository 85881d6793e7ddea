/**
 * A lane's unit-weight proposal for the technician: what the picks' and restocks' steps say one
 * item weighs, how sure, from how many steps, against the weight configured now — and Accept,
 * which changes the SKU's unit weight (audited; the agent gets new lane settings at once).
 */
import type { AcceptUnitWeightResponse } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import type { LaneRef } from '../lib/format.js';
import { formatAgo, formatGrams } from '../lib/format.js';
import { useAction, useApp, useNow, useResource } from './hooks.js';

export function UnitWeightProposal({ lane, onAccepted }: { lane: LaneRef; onAccepted?(): void }) {
  const { api, user } = useApp();
  const now = useNow(30_000);
  const action = useAction();
  const [done, setDone] = useState<AcceptUnitWeightResponse | null>(null);
  const view = useResource(
    () => api.unitWeight(lane),
    [api, lane.site, lane.shelf, lane.lane],
    ['alert', 'observation'],
  );
  const where = `${lane.site} · ${lane.shelf} · ${lane.lane}`;
  const p = view.data?.proposal ?? null;
  const w = p?.proposal ?? null;
  const mayAccept = user.role === 'technician' || user.role === 'admin';
  return (
    <section class="panel unit-weight" aria-label={`Unit weight — ${where}`}>
      <div class="panel-head">
        <h2>Unit weight</h2>
      </div>
      {view.error && (
        <p class="error" role="alert">
          The unit weight could not be loaded: {view.error}
        </p>
      )}
      {view.data && (
        <p>
          Configured: <strong>{formatGrams(view.data.unitWeightG)}</strong> per item of {view.data.sku}
        </p>
      )}
      {done && (
        <p class="notice" role="status">
          Accepted: {done.sku} now weighs {formatGrams(done.unitWeightG)} per item (was{' '}
          {formatGrams(done.before)}).
        </p>
      )}
      {view.data && !p && !done && <p class="muted">No proposal from this lane.</p>}
      {p && w && (
        <div class="unit-weight-proposal">
          <p class="unit-weight-figure">
            Proposed: <strong>{formatGrams(w.unitWeightG)}</strong> per item
          </p>
          <ul class="unit-weight-facts">
            <li>{Math.round(w.confidence * 100)} % sure</li>
            <li>
              from {w.steps} pick and restock step{w.steps === 1 ? '' : 's'}
            </li>
            <li>since {formatAgo(p.ts, now)}</li>
          </ul>
          <p class={w.wrong ? 'unit-weight-wrong' : 'muted'}>
            {w.wrong
              ? 'The configured weight does not explain the steps: counts on this lane may be wrong.'
              : 'The configured weight explains the steps.'}
          </p>
          {mayAccept && (
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={action.busy !== null}
                aria-busy={action.busy !== null}
                onClick={async () => {
                  let r: AcceptUnitWeightResponse | null = null;
                  const ok = await action.run('accept', async () => {
                    r = await api.acceptUnitWeight(lane, p.id);
                  });
                  if (ok && r) {
                    setDone(r);
                    view.reload();
                    onAccepted?.();
                  }
                }}
              >
                Accept {formatGrams(w.unitWeightG)}
              </button>
            </div>
          )}
        </div>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </section>
  );
}
