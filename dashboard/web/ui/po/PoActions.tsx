/**
 * The moves a role may make on one purchase order in its state (lib `poActions`): send a draft
 * now, add a line by hand, acknowledge, ship with a quantity per line, count a delivery by hand,
 * close, cancel with a reason; and for everyone the CSV and the printable page. Both documents
 * need the bearer token, so they are fetched and handed over as Blobs: the CSV saved, the page
 * opened in a new tab (opened at the click, so no pop-up blocker takes it).
 */
import type { ApiPurchaseOrder, CatalogueView, PurchaseOrderLine } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import {
  cancelPurchaseOrder,
  fetchPoDocument,
  movePurchaseOrder,
  PO_STATE_LABEL,
  poActions,
  receiveBody,
  receivePurchaseOrder,
  shipBody,
  shipPurchaseOrder,
  skuName,
  splitStyles,
} from '../../lib/purchase-orders.js';
import { saveBlob } from '../download.js';
import { useApp } from '../hooks.js';
import { ManualLineForm } from './ManualLineForm.js';
import { LineQuantities, Outcome, usePoAction } from './shared.js';

type Panel = 'ship' | 'receive' | 'cancel' | 'addLine' | null;

const texts = (lines: readonly PurchaseOrderLine[], f: (l: PurchaseOrderLine) => number) =>
  Object.fromEntries(lines.map((l) => [l.sku, String(f(l))]));

/** Resolves once `tab` shows `url` (false when it is closed or does not within 10 s). */
async function shown(tab: Window, url: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    try {
      if (tab.closed) return false;
      if (tab.document.URL === url && tab.document.readyState !== 'loading') return true;
    } catch {
      return false; // navigated elsewhere meanwhile
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Opens the printable page in a new tab (falls back to saving it when the tab was refused). The
 * Blob's page inherits the dashboard's Content-Security-Policy, which refuses its inline style:
 * the style is taken out and adopted as a constructed stylesheet once the page has loaded.
 */
async function openPrintable(tab: Window | null, doc: { blob: Blob; filename: string }): Promise<string> {
  if (!tab) {
    saveBlob(doc.blob, doc.filename);
    return `The browser refused a new tab: saved ${doc.filename} instead.`;
  }
  const { html, css } = splitStyles(await doc.blob.text());
  const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
  tab.location.href = url;
  if (await shown(tab, url)) {
    const sheet = new (tab as Window & typeof globalThis).CSSStyleSheet();
    sheet.replaceSync(css);
    tab.document.adoptedStyleSheets = [sheet];
  }
  URL.revokeObjectURL(url);
  return 'The printable page opened in a new tab.';
}

export function PoActions({
  po,
  cat,
  onChanged,
}: {
  po: ApiPurchaseOrder;
  cat: CatalogueView | null;
  onChanged(po: ApiPurchaseOrder | null): void;
}) {
  const { api, user } = useApp();
  const action = usePoAction();
  const [panel, setPanel] = useState<Panel>(null);
  const [qty, setQty] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [reason, setReason] = useState('');
  const allowed = poActions(user.role, po.state);
  const busy = action.busy !== null;
  const name = (l: PurchaseOrderLine) => skuName(cat, l.sku);

  const open = (p: Panel) => {
    action.clear();
    setErrors({});
    if (p === 'ship') setQty(texts(po.lines, (l) => l.quantity));
    if (p === 'receive') setQty(texts(po.lines, (l) => l.shippedQuantity ?? l.quantity));
    setPanel(panel === p ? null : p);
  };
  const after = (p: ApiPurchaseOrder | undefined) => {
    if (!p) return;
    setPanel(null);
    onChanged(p);
  };
  const said = (p: ApiPurchaseOrder) => `Purchase order ${p.id} is ${PO_STATE_LABEL[p.state].toLowerCase()}.`;

  const move = async (m: 'send' | 'acknowledge' | 'close', doing: string) =>
    after(await action.run(m, doing, () => movePurchaseOrder(api, po.id, m), said));

  const ship = async () => {
    const checked = shipBody(po.lines, qty);
    if (!checked.ok) return setErrors(checked.errors);
    setErrors({});
    after(await action.run('ship', 'ship', () => shipPurchaseOrder(api, po.id, checked.body), said));
  };
  const receive = async () => {
    const checked = receiveBody(po.lines, qty);
    if (!checked.ok) return setErrors(checked.errors);
    setErrors({});
    after(
      await action.run(
        'receive',
        'save the count',
        () => receivePurchaseOrder(api, po.id, checked.body),
        said,
      ),
    );
  };
  const cancel = async () =>
    after(await action.run('cancel', 'cancel', () => cancelPurchaseOrder(api, po.id, reason), said));

  const getDocument = async (kind: 'csv' | 'print') => {
    // Opened now, inside the click: a tab opened after an await is often blocked.
    const tab = kind === 'print' ? window.open('', '_blank') : null;
    if (tab) tab.opener = null;
    await action.run(
      kind,
      kind === 'csv' ? 'download the CSV' : 'open the printable page',
      async () => {
        try {
          const doc = await fetchPoDocument(api, po.id, kind);
          if (kind === 'print') return openPrintable(tab, doc);
          saveBlob(doc.blob, doc.filename);
          return `Saved ${doc.filename}`;
        } catch (err) {
          tab?.close();
          throw err;
        }
      },
      (m) => m,
    );
  };

  const button = (p: Panel & string, text: string, label = text) =>
    allowed.includes(p) && (
      <button
        type="button"
        class="secondary"
        aria-expanded={panel === p}
        aria-label={label}
        onClick={() => open(p)}
      >
        {text}
      </button>
    );

  return (
    <div class="po-actions">
      <div class="actions">
        {allowed.includes('send') && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            aria-busy={action.busy === 'send'}
            onClick={() => move('send', 'send it')}
          >
            Send now
          </button>
        )}
        {allowed.includes('acknowledge') && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            aria-busy={action.busy === 'acknowledge'}
            onClick={() => move('acknowledge', 'acknowledge it')}
          >
            Acknowledge
          </button>
        )}
        {button('ship', 'Ship…', 'Ship')}
        {button('receive', 'Count by hand…', 'Count by hand')}
        {allowed.includes('close') && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            aria-busy={action.busy === 'close'}
            onClick={() => move('close', 'close it')}
          >
            Close
          </button>
        )}
        {button('addLine', 'Add a line…', 'Add a line by hand')}
        {button('cancel', 'Cancel…', 'Cancel purchase order')}
        <button
          type="button"
          class="secondary"
          disabled={busy}
          aria-busy={action.busy === 'csv'}
          onClick={() => getDocument('csv')}
        >
          Download CSV
        </button>
        <button
          type="button"
          class="secondary"
          disabled={busy}
          aria-busy={action.busy === 'print'}
          onClick={() => getDocument('print')}
        >
          Print
        </button>
      </div>
      {panel === 'ship' && (
        <LineQuantities
          id={`ship-${po.id}`}
          title={`Ship ${po.id}`}
          lines={po.lines}
          values={qty}
          errors={errors}
          label={(l) => `Quantity shipped of ${l.sku}`}
          hint={(l) => `${name(l)}: ${l.quantity} ordered; 0 ships none of it`}
          onValue={(sku, v) => setQty((q) => ({ ...q, [sku]: v }))}
          submit="Confirm shipment"
          busy={busy}
          onSubmit={ship}
          onCancel={() => setPanel(null)}
        />
      )}
      {panel === 'receive' && (
        <LineQuantities
          id={`count-${po.id}`}
          title={`Count ${po.id} by hand`}
          lines={po.lines}
          values={qty}
          errors={errors}
          label={(l) => `Quantity counted of ${l.sku}`}
          hint={(l) =>
            `${name(l)}: ${l.shippedQuantity ?? l.quantity} ${l.shippedQuantity === null ? 'ordered' : 'shipped'}`
          }
          onValue={(sku, v) => setQty((q) => ({ ...q, [sku]: v }))}
          submit="Save the count"
          busy={busy}
          onSubmit={receive}
          onCancel={() => setPanel(null)}
        />
      )}
      {panel === 'cancel' && (
        <section class="conflict" aria-label={`Cancel ${po.id}`}>
          <p>The supplier is told at once; the lanes' needs come back in the next cycle.</p>
          <div class="field">
            <label for={`cancel-${po.id}`}>Reason (optional)</label>
            <input
              id={`cancel-${po.id}`}
              type="text"
              maxLength={500}
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </div>
          <div class="actions">
            <button
              type="button"
              class="primary danger"
              disabled={busy}
              aria-busy={action.busy === 'cancel'}
              onClick={cancel}
            >
              Cancel the purchase order
            </button>
            <button type="button" class="secondary" onClick={() => setPanel(null)}>
              Keep it
            </button>
          </div>
        </section>
      )}
      {panel === 'addLine' && (
        <ManualLineForm
          id={`add-${po.id}`}
          cat={cat}
          fixed={{ site: po.site, supplier: po.supplier }}
          onAdded={(p) => after(p)}
          onCancel={() => setPanel(null)}
        />
      )}
      <Outcome action={action} />
    </div>
  );
}
