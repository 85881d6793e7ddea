/**
 * The Purchase orders view: one PO per supplier, site and delivery cycle, filtered by state, each
 * opened in place (lines, timeline, moves by role, CSV and Print; po/PurchaseOrderDetail); the
 * store's "order by hand"; receipt discrepancies; and the stock and sales forecast. What a role
 * sees is the server's choice (a supplier never sees drafts). The list reloads after each move,
 * when an order message arrives (a PO moves its lanes' orders), and every 30 s as a safety net:
 * a PO moved by the other side without lanes sends no message.
 */
import type { ApiPurchaseOrder } from '@shelfsense/protocol';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadCatalogue } from '../lib/catalogue.js';
import { formatDateTime } from '../lib/format.js';
import {
  listDiscrepancies,
  listPurchaseOrders,
  PO_STATE_LABEL,
  poActions,
  poTotals,
  stateFilters,
  statesOf,
} from '../lib/purchase-orders.js';
import { useApp, useResource } from './hooks.js';
import { DiscrepanciesPanel } from './po/Discrepancies.js';
import { ForecastPanel } from './po/Forecast.js';
import { ManualLineForm } from './po/ManualLineForm.js';
import { PurchaseOrderDetail } from './po/PurchaseOrderDetail.js';

const POLL_MS = 30_000;

function usePoll(reload: () => void) {
  useEffect(() => {
    const t = setInterval(() => {
      if (!document.hidden) reload();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [reload]);
}

function PoItem(p: {
  po: ApiPurchaseOrder;
  open: boolean;
  onToggle(): void;
  children: ComponentChildren;
  supplierName: string;
}) {
  const { po } = p;
  const t = poTotals(po);
  const detailId = `po-detail-${po.id}`;
  return (
    <li
      class={`order-card po-card order-${po.state}${p.open ? ' expanded' : ''}`}
      aria-label={`Purchase order ${po.id}: ${po.supplier} to ${po.site}`}
    >
      <div class="lane-head">
        <div class="lane-title">
          <h3>
            {p.supplierName} → {po.site}
          </h3>
          <p class="lane-where">
            purchase order {po.id} · {po.lines.length} line{po.lines.length === 1 ? '' : 's'} · {t.quantity}{' '}
            items
            {t.manual > 0 && ` (${t.manual} by hand)`}
          </p>
        </div>
        <div class="po-badges">
          {po.urgent && (
            <span
              class="badge po-urgent"
              title="Sent at once: a lane would run out before the cycle's delivery"
            >
              Urgent
            </span>
          )}
          <span class={`badge order-badge order-${po.state}`}>
            <span class="visually-hidden">Purchase order state: </span>
            {PO_STATE_LABEL[po.state]}
          </span>
        </div>
      </div>
      <dl class="facts">
        <div>
          <dt>Delivery due</dt>
          <dd>{formatDateTime(po.deliveryDueAt)}</dd>
        </div>
        {po.state === 'draft' ? (
          <div>
            <dt>Cut-off</dt>
            <dd>{formatDateTime(po.cutoffAt)}</dd>
          </div>
        ) : (
          <div>
            <dt>Sent</dt>
            <dd>{formatDateTime(po.sentAt)}</dd>
          </div>
        )}
      </dl>
      <button
        type="button"
        class="link-button"
        aria-expanded={p.open}
        aria-controls={detailId}
        onClick={p.onToggle}
      >
        {p.open ? 'Hide details' : 'Show details'}
      </button>
      <div id={detailId}>{p.open && p.children}</div>
    </li>
  );
}

export function PurchaseOrdersView() {
  const { api, user } = useApp();
  const [filter, setFilter] = useState('active');
  const [open, setOpen] = useState<string | null>(null);
  const cat = useResource(() => loadCatalogue(api), [api], ['catalogue']);
  const pos = useResource(
    () => listPurchaseOrders(api, { states: statesOf(filter, user.role) }),
    [api, filter],
    ['order'],
  );
  const disc = useResource(() => listDiscrepancies(api), [api], ['order']);
  usePoll(pos.reload);
  usePoll(disc.reload);
  const changed = (po: ApiPurchaseOrder | null) => {
    if (po) setOpen(po.id);
    pos.reload();
    disc.reload();
  };
  const supplierName = (id: string) => cat.data?.suppliers.find((s) => s.id === id)?.name ?? id;
  const mayAdd = poActions(user.role, 'draft').includes('addLine');
  const list = pos.data ?? [];

  return (
    <div class="view po-view">
      <div class="po-main">
        <section class="panel" aria-labelledby="po-heading">
          <div class="panel-head">
            <h2 id="po-heading">Purchase orders</h2>
            <div class="actions tight">
              <div class="field inline">
                <label for="po-filter">Show</label>
                <select id="po-filter" value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
                  {stateFilters(user.role).map(([v, text]) => (
                    <option key={v} value={v}>
                      {text}
                    </option>
                  ))}
                </select>
              </div>
              <button type="button" class="secondary" aria-busy={pos.loading} onClick={pos.reload}>
                Reload
              </button>
            </div>
          </div>
          {pos.error && (
            <p class="error" role="alert">
              Purchase orders could not be loaded: {pos.error}
            </p>
          )}
          {pos.loading && !pos.data && <p>Loading purchase orders…</p>}
          {pos.data && list.length === 0 && (
            <p>No purchase orders{filter === 'all' ? '' : ' in this state'}.</p>
          )}
          <ul class="card-list" aria-label="Purchase orders">
            {list.map((po) => (
              <PoItem
                key={po.id}
                po={po}
                open={open === po.id}
                onToggle={() => setOpen(open === po.id ? null : po.id)}
                supplierName={supplierName(po.supplier)}
              >
                <PurchaseOrderDetail
                  po={po}
                  cat={cat.data}
                  discrepancies={disc.data?.filter((d) => d.purchaseOrderId === po.id) ?? []}
                  onChanged={changed}
                />
              </PoItem>
            ))}
          </ul>
        </section>
        <ForecastPanel cat={cat.data} />
      </div>
      <div class="side">
        {mayAdd && (
          <section class="panel" aria-labelledby="manual-heading">
            <div class="panel-head">
              <h2 id="manual-heading">Order by hand</h2>
            </div>
            {cat.error && (
              <p class="error" role="alert">
                The catalogue could not be loaded: {cat.error}
              </p>
            )}
            {cat.data && <ManualLineForm id="manual" cat={cat.data} onAdded={changed} />}
          </section>
        )}
        <DiscrepanciesPanel res={disc} />
      </div>
    </div>
  );
}
