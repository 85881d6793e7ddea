/**
 * One purchase order opened: its state timeline, its lines (SKU, name, quantity, the part added
 * by hand, shipped, received, the lanes whose needs it gathers), a supplier's proposal on a line
 * with the operator's Accept / Decline, the supplier's Propose while the PO is sent, the moves the
 * role may make (PoActions) and the PO's receipt discrepancies.
 */
import type {
  ApiDiscrepancy,
  ApiPurchaseOrder,
  CatalogueView,
  PurchaseOrderLine,
} from '@shelfsense/protocol';
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { formatDateTime } from '../../lib/format.js';
import {
  decideProposal,
  laneText,
  poActions,
  poTimeline,
  proposeBody,
  proposeQuantity,
  skuName,
} from '../../lib/purchase-orders.js';
import { useApp } from '../hooks.js';
import { DiscrepancyList } from './Discrepancies.js';
import { PoActions } from './PoActions.js';
import { Outcome, usePoAction } from './shared.js';

export interface DetailProps {
  po: ApiPurchaseOrder;
  cat: CatalogueView | null;
  discrepancies: readonly ApiDiscrepancy[];
  /** After a move: the PO as central answered it (null when unknown), and what happened. */
  onChanged(po: ApiPurchaseOrder | null): void;
}

function Timeline({ po }: { po: ApiPurchaseOrder }) {
  return (
    <ol class="po-timeline" aria-label={`State timeline of ${po.id}`}>
      {poTimeline(po).map((s) => (
        <li
          key={s.state}
          class={`po-step${s.done ? ' done' : ''}${s.current ? ' current' : ''} step-${s.state}`}
          aria-current={s.current ? 'step' : undefined}
        >
          <span class="po-step-label">{s.label}</span>
          <span class="po-step-at">
            {s.at !== null ? formatDateTime(s.at) : s.done ? 'skipped' : 'not yet'}
          </span>
        </li>
      ))}
    </ol>
  );
}

function ProposeForm({
  po,
  line,
  onDone,
}: {
  po: ApiPurchaseOrder;
  line: PurchaseOrderLine;
  onDone(p: ApiPurchaseOrder | null): void;
}) {
  const { api } = useApp();
  const action = usePoAction();
  const [qty, setQty] = useState(String(line.quantity));
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const id = `propose-${po.id}-${line.sku}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    const checked = proposeBody(qty, note);
    if (!checked.ok) return setErrors(checked.errors);
    setErrors({});
    const answer = await action.run('propose', `propose a quantity for ${line.sku}`, () =>
      proposeQuantity(api, po.id, line.sku, checked.body),
    );
    if (answer) onDone(answer);
  };
  return (
    <form class="editor" aria-label={`Propose a quantity for ${line.sku}`} noValidate onSubmit={submit}>
      <div class="form-grid">
        <div class="field">
          <label for={`${id}-qty`}>Proposed quantity of {line.sku}</label>
          <input
            id={`${id}-qty`}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            value={qty}
            aria-invalid={errors['quantity'] ? true : undefined}
            onInput={(e) => setQty(e.currentTarget.value)}
          />
          {errors['quantity'] && <span class="field-error">{errors['quantity']}</span>}
        </div>
        <div class="field">
          <label for={`${id}-note`}>Note to the store</label>
          <input id={`${id}-note`} type="text" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          {errors['note'] && <span class="field-error">{errors['note']}</span>}
        </div>
      </div>
      <div class="actions">
        <button
          type="submit"
          class="primary"
          disabled={action.busy !== null}
          aria-busy={action.busy !== null}
        >
          Send proposal
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          Back
        </button>
      </div>
      <Outcome action={action} />
    </form>
  );
}

function Proposal({
  po,
  line,
  canDecide,
  onDone,
}: {
  po: ApiPurchaseOrder;
  line: PurchaseOrderLine;
  canDecide: boolean;
  onDone(p: ApiPurchaseOrder | null): void;
}) {
  const { api } = useApp();
  const action = usePoAction();
  const [note, setNote] = useState('');
  const p = line.proposal;
  if (!p) return null;
  const decide = async (accept: boolean) => {
    const verb = accept ? 'accept' : 'decline';
    const answer = await action.run(verb, `${verb} the proposal for ${line.sku}`, () =>
      decideProposal(api, po.id, line.sku, accept, note),
    );
    if (answer) onDone(answer);
  };
  const noteId = `decide-${po.id}-${line.sku}`;
  return (
    <section class="po-proposal" aria-label={`Proposal for ${line.sku}`}>
      <p>
        <strong>
          {p.by} proposes {p.quantity} instead of {line.quantity}
        </strong>
        {p.note && <> — “{p.note}”</>} <span class="muted">({formatDateTime(p.at)})</span>
      </p>
      {canDecide && (
        <div class="actions">
          <div class="field inline">
            <label for={noteId}>Note to the supplier</label>
            <input id={noteId} type="text" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </div>
          <button
            type="button"
            class="primary"
            disabled={action.busy !== null}
            aria-busy={action.busy === 'accept'}
            onClick={() => decide(true)}
          >
            Accept {p.quantity}
          </button>
          <button
            type="button"
            class="secondary"
            disabled={action.busy !== null}
            aria-busy={action.busy === 'decline'}
            onClick={() => decide(false)}
          >
            Decline
          </button>
        </div>
      )}
      <Outcome action={action} />
    </section>
  );
}

export function PurchaseOrderDetail({ po, cat, discrepancies, onChanged }: DetailProps) {
  const { user } = useApp();
  const actions = poActions(user.role, po.state);
  const [proposing, setProposing] = useState<string | null>(null);
  const canPropose = actions.includes('propose');
  const cols = canPropose ? 8 : 7;
  const done = (p: ApiPurchaseOrder | null) => {
    setProposing(null);
    if (p) onChanged(p);
  };
  return (
    <div class="po-detail">
      <Timeline po={po} />
      <div class="table-wrap">
        <table class="po-lines">
          <caption>Lines of {po.id}</caption>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Name</th>
              <th scope="col">Quantity</th>
              <th scope="col">By hand</th>
              <th scope="col">Shipped</th>
              <th scope="col">Received</th>
              <th scope="col">Lanes</th>
              {canPropose && <th scope="col">Change</th>}
            </tr>
          </thead>
          <tbody>
            {po.lines.length === 0 && (
              <tr>
                <td colSpan={cols}>No lines yet.</td>
              </tr>
            )}
            {po.lines.map((l) => (
              <Fragment key={l.sku}>
                <tr>
                  <th scope="row">{l.sku}</th>
                  <td>{skuName(cat, l.sku)}</td>
                  <td>{l.quantity}</td>
                  <td>{l.manualQuantity > 0 ? l.manualQuantity : '—'}</td>
                  <td>{l.shippedQuantity ?? '—'}</td>
                  <td>{l.receivedQuantity ?? '—'}</td>
                  <td>{laneText(l) || 'none (by hand)'}</td>
                  {canPropose && (
                    <td class="row-actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Propose a quantity for ${l.sku}`}
                        aria-expanded={proposing === l.sku}
                        onClick={() => setProposing(proposing === l.sku ? null : l.sku)}
                      >
                        Propose
                      </button>
                    </td>
                  )}
                </tr>
                {(l.proposal || proposing === l.sku) && (
                  <tr class="po-line-extra">
                    <td colSpan={cols}>
                      {l.proposal && (
                        <Proposal po={po} line={l} canDecide={actions.includes('decide')} onDone={done} />
                      )}
                      {proposing === l.sku && <ProposeForm po={po} line={l} onDone={done} />}
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <PoActions po={po} cat={cat} onChanged={onChanged} />
      {discrepancies.length > 0 && (
        <div class="po-discrepancies">
          <h4>Discrepancies</h4>
          <DiscrepancyList
            items={discrepancies}
            label={`Discrepancies of ${po.id}`}
            onResolved={() => onChanged(null)}
          />
        </div>
      )}
    </div>
  );
}
