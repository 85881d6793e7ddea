/**
 * A purchase order as documents: CSV (one row per line and lane, for a supplier's ERP import) and a
 * self-contained printable HTML page (print it, or save it as PDF from the browser). Every value is
 * escaped; the page carries no script.
 */
import type { PurchaseOrder } from '../orders/purchase-orders.js';
import type { DiscrepancyRow } from '../store/purchase-orders.js';
import { csvRow } from './csv.js';
import type { SkuInfo } from './deps.js';

export const PO_CSV_HEADER = [
  'purchase_order',
  'state',
  'site',
  'supplier',
  'sku',
  'sku_name',
  'quantity',
  'manual_quantity',
  'shipped_quantity',
  'received_quantity',
  'shelf',
  'lane',
  'lane_quantity',
  'delivery_due',
] as const;

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

/** One row per lane of each line (a line with no lane, added by hand, has one row without). */
export function purchaseOrderCsv(po: PurchaseOrder, skus: readonly SkuInfo[]): string {
  let out = csvRow(PO_CSV_HEADER);
  for (const l of po.lines) {
    const name = skus.find((s) => s.id === l.sku)?.name ?? '';
    const lanes = po.needs.filter((n) => n.lineId === l.id);
    const base = [po.id, po.state, po.site, po.supplier, l.sku, name, l.quantity, l.manualQuantity];
    const tail = [l.shippedQuantity, l.receivedQuantity];
    if (lanes.length === 0) out += csvRow([...base, ...tail, '', '', '', iso(po.deliveryDueAt)]);
    for (const n of lanes) {
      out += csvRow([...base, ...tail, n.shelf, n.lane, n.quantity, iso(po.deliveryDueAt)]);
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(v: string | number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const dateTime = (ms: number | null) =>
  ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/** A printable page (A4), PDF-ready from any browser's print dialog. */
export function purchaseOrderHtml(
  po: PurchaseOrder,
  skus: readonly SkuInfo[],
  discrepancies: readonly DiscrepancyRow[],
): string {
  const rows = po.lines
    .map((l) => {
      const lanes = po.needs
        .filter((n) => n.lineId === l.id)
        .map((n) => `${escapeHtml(n.shelf)}/${escapeHtml(n.lane)} (${n.quantity})`)
        .join(', ');
      const name = skus.find((s) => s.id === l.sku)?.name;
      return `<tr><td>${escapeHtml(l.sku)}</td><td>${escapeHtml(name ?? '')}</td><td class="n">${l.quantity}</td>
<td class="n">${escapeHtml(l.shippedQuantity ?? '')}</td><td class="n">${escapeHtml(l.receivedQuantity ?? '')}</td>
<td>${lanes}${l.manualQuantity > 0 ? `${lanes ? '; ' : ''}${l.manualQuantity} by hand` : ''}</td></tr>`;
    })
    .join('\n');
  const disc = discrepancies.length
    ? `<h2>Discrepancies</h2><table><thead><tr><th>SKU</th><th>Kind</th><th class="n">Shipped</th>
<th class="n">Counted</th><th>State</th></tr></thead><tbody>${discrepancies
        .map(
          (d) =>
            `<tr><td>${escapeHtml(d.sku)}</td><td>${escapeHtml(d.kind)}</td><td class="n">${d.expected}</td>` +
            `<td class="n">${d.counted}</td><td>${escapeHtml(d.resolution ?? d.state)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Purchase order ${escapeHtml(po.id)}</title>
<style>
@page { size: A4; margin: 18mm; }
body { font: 11pt/1.4 system-ui, sans-serif; color: #111; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 6mm; margin: 0 0 6mm; }
dt { color: #555; }
table { width: 100%; border-collapse: collapse; margin-bottom: 6mm; }
th, td { border-bottom: 1px solid #ccc; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
</style></head>
<body>
<h1>Purchase order ${escapeHtml(po.id)}${po.urgent ? ' — urgent' : ''}</h1>
<dl>
<dt>Supplier</dt><dd>${escapeHtml(po.supplier)}</dd>
<dt>Site</dt><dd>${escapeHtml(po.site)}</dd>
<dt>State</dt><dd>${escapeHtml(po.state)} (version ${po.version})</dd>
<dt>Sent</dt><dd>${dateTime(po.sentAt)} UTC</dd>
<dt>Delivery due</dt><dd>${dateTime(po.deliveryDueAt)} UTC</dd>
</dl>
<table><thead><tr><th>SKU</th><th>Name</th><th class="n">Ordered</th><th class="n">Shipped</th>
<th class="n">Received</th><th>Lanes</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${disc}
</body></html>
`;
}
