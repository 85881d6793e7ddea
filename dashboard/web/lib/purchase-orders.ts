/**
 * Purchase orders over the HTTP API (protocol/src/api/purchase-orders.ts), for the dashboard: the
 * calls; which moves a role may make in which state (central's rules, docs/http-api.md); the state
 * timeline; quantities typed in a form turned into request bodies the contract's schemas accept;
 * an error answer in words; the forecast and lead times (null while central has no such route);
 * the delivery schedule's form (schedule.ts, re-exported); and where the view lives. No DOM.
 */
import {
  ApiDiscrepancy,
  type ApiForecast,
  ApiPurchaseOrder,
  type CatalogueView,
  DiscrepanciesResponse,
  type DiscrepancyResolutions,
  ForecastResponse,
  LeadTimesResponse,
  ManualLineBody,
  ProposeQuantityBody,
  type PurchaseOrderLine,
  type PurchaseOrderState,
  PurchaseOrderStates,
  PurchaseOrdersResponse,
  type ReceivePurchaseOrderBody,
  type ShipPurchaseOrderBody,
} from '@shelfsense/protocol';
import { type Api, ApiError } from './api.js';
import { type Checked, checkBody, type FieldErrors } from './catalogue.js';
import { filenameFromDisposition } from './csv.js';

const seg = encodeURIComponent;
const ROOT = '/api/purchase-orders';

// --- where the view lives -----------------------------------------------------------------------

export const PO_VIEW = { path: '/purchase-orders', title: 'Purchase orders' } as const;
const PO_ROLES: readonly string[] = ['supplier', 'operator', 'admin'];

export function hasPurchaseOrders(role: string): boolean {
  return PO_ROLES.includes(role);
}

export function isPurchaseOrdersPath(pathname: string): boolean {
  return pathname === PO_VIEW.path || pathname.startsWith(`${PO_VIEW.path}/`);
}

// --- calls ----------------------------------------------------------------------------------------

export interface PoListQuery {
  states?: readonly PurchaseOrderState[];
  site?: string;
  supplier?: string;
  limit?: number;
}

export const poPaths = {
  list(q: PoListQuery = {}): string {
    const p = new URLSearchParams();
    if (q.states && q.states.length > 0) p.set('state', q.states.join(','));
    if (q.site) p.set('site', q.site);
    if (q.supplier) p.set('supplier', q.supplier);
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    const s = p.toString();
    return s ? `${ROOT}?${s}` : ROOT;
  },
  one: (id: string) => `${ROOT}/${seg(id)}`,
  move: (id: string, move: string) => `${ROOT}/${seg(id)}/${move}`,
  line: (id: string, sku: string, move: string) => `${ROOT}/${seg(id)}/lines/${seg(sku)}/${move}`,
  manualLines: `${ROOT}/manual-lines`,
  leadTimes: `${ROOT}/lead-times`,
};

export function listPurchaseOrders(api: Api, q: PoListQuery = {}): Promise<PurchaseOrdersResponse> {
  return api.request('GET', poPaths.list(q), PurchaseOrdersResponse);
}

/** A move that takes no arguments. */
export function movePurchaseOrder(
  api: Api,
  id: string,
  move: 'send' | 'acknowledge' | 'close',
): Promise<ApiPurchaseOrder> {
  return api.request('POST', poPaths.move(id, move), ApiPurchaseOrder, {});
}

export function shipPurchaseOrder(api: Api, id: string, body: ShipPurchaseOrderBody) {
  return api.request('POST', poPaths.move(id, 'ship'), ApiPurchaseOrder, body);
}

export function receivePurchaseOrder(api: Api, id: string, body: ReceivePurchaseOrderBody) {
  return api.request('POST', poPaths.move(id, 'receive'), ApiPurchaseOrder, body);
}

export function cancelPurchaseOrder(api: Api, id: string, reason: string) {
  const r = reason.trim();
  return api.request('POST', poPaths.move(id, 'cancel'), ApiPurchaseOrder, r ? { reason: r } : {});
}

export function proposeQuantity(api: Api, id: string, sku: string, body: ProposeQuantityBody) {
  return api.request('POST', poPaths.line(id, sku, 'propose'), ApiPurchaseOrder, body);
}

export function decideProposal(api: Api, id: string, sku: string, accept: boolean, note: string) {
  const n = note.trim();
  const path = poPaths.line(id, sku, accept ? 'accept' : 'decline');
  return api.request('POST', path, ApiPurchaseOrder, n ? { note: n } : {});
}

export function addManualLine(api: Api, body: ManualLineBody): Promise<ApiPurchaseOrder> {
  return api.request('POST', poPaths.manualLines, ApiPurchaseOrder, body);
}

export function listDiscrepancies(api: Api, state?: 'open' | 'resolved'): Promise<DiscrepanciesResponse> {
  return api.request('GET', `/api/discrepancies${state ? `?state=${state}` : ''}`, DiscrepanciesResponse);
}

export type Resolution = (typeof DiscrepancyResolutions)[number];

export function resolveDiscrepancy(api: Api, id: string, resolution: Resolution, note: string) {
  const n = note.trim();
  const body = n ? { resolution, note: n } : { resolution };
  return api.request('POST', `/api/discrepancies/${seg(id)}/resolve`, ApiDiscrepancy, body);
}

/** Null while central answers 404: a central without the route yet (the view says so). */
async function unlessMissing<T>(load: Promise<T>): Promise<T | null> {
  try {
    return await load;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function loadForecast(api: Api, q: { site?: string; sku?: string } = {}) {
  const p = new URLSearchParams();
  if (q.site) p.set('site', q.site);
  if (q.sku) p.set('sku', q.sku);
  const s = p.toString();
  return unlessMissing(api.request('GET', `/api/forecast${s ? `?${s}` : ''}`, ForecastResponse));
}

export function loadLeadTimes(api: Api) {
  return unlessMissing(api.request('GET', poPaths.leadTimes, LeadTimesResponse));
}

/** The CSV or the printable page, fetched with the token (never put in a URL). */
export async function fetchPoDocument(api: Api, id: string, kind: 'csv' | 'print') {
  const type = kind === 'csv' ? 'text/csv' : 'text/html';
  const res = await api.raw(poPaths.move(id, kind), { headers: { Accept: type } });
  const text = await res.text();
  const fallback = `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.${kind === 'csv' ? 'csv' : 'html'}`;
  return {
    blob: new Blob([text], { type: `${type};charset=utf-8` }),
    filename: filenameFromDisposition(res.headers.get('Content-Disposition')) ?? fallback,
  };
}

/**
 * The printable page without its `<style>` elements, and their CSS. A page opened from a Blob
 * inherits the dashboard's Content-Security-Policy (`style-src 'self'`), which refuses inline
 * style; the UI hands the CSS over as a constructed stylesheet instead, which it allows.
 */
export function splitStyles(html: string): { html: string; css: string } {
  const css: string[] = [];
  const rest = html.replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (_m, body: string) => {
    css.push(body.trim());
    return '';
  });
  return { html: rest, css: css.join('\n') };
}

// --- states and moves -----------------------------------------------------------------------------

/** "Draft", "Sent", …: each state's name, capitalised. */
export const PO_STATE_LABEL = Object.fromEntries(
  PurchaseOrderStates.map((s) => [s, `${s[0]?.toUpperCase()}${s.slice(1)}`]),
) as Readonly<Record<PurchaseOrderState, string>>;

export type PoAction =
  | 'send'
  | 'addLine'
  | 'acknowledge'
  | 'propose'
  | 'decide'
  | 'ship'
  | 'receive'
  | 'close'
  | 'cancel';

/** Who may make each move (central's `po.*` actions); admin may make them all. */
const ROLE_ACTIONS: Readonly<Record<string, readonly PoAction[]>> = {
  supplier: ['acknowledge', 'propose', 'ship'],
  operator: ['send', 'addLine', 'decide', 'receive', 'close', 'cancel'],
};

/** Which moves each state allows (central's PO_TRANSITIONS; proposals only while sent). */
const STATE_ACTIONS: Readonly<Record<PurchaseOrderState, readonly PoAction[]>> = {
  draft: ['send', 'addLine', 'cancel'],
  sent: ['acknowledge', 'propose', 'decide', 'cancel'],
  // The shelf may count a delivery the supplier never marked shipped.
  acknowledged: ['ship', 'receive', 'cancel'],
  shipped: ['receive'],
  received: ['close'],
  closed: [],
  cancelled: [],
};

export function poActions(role: string, state: PurchaseOrderState): PoAction[] {
  const mine = role === 'admin' ? null : (ROLE_ACTIONS[role] ?? []);
  return STATE_ACTIONS[state].filter((a) => mine === null || mine.includes(a));
}

export function mayResolve(role: string): boolean {
  return role === 'supplier' || role === 'operator' || role === 'admin';
}

/** The filter choices of the list: `active` (not yet closed or cancelled), one state, or all. */
export function stateFilters(role: string): readonly [string, string][] {
  const states = PurchaseOrderStates.filter(
    // A supplier never sees drafts: they are the store's until sent.
    (s) => role !== 'supplier' || s !== 'draft',
  );
  return [
    ['active', 'In progress'],
    ...states.map((s) => [s, PO_STATE_LABEL[s]] as [string, string]),
    ['all', 'All'],
  ];
}

export function statesOf(filter: string, role: string): PurchaseOrderState[] {
  if (filter === 'all') return [];
  if (filter === 'active') {
    const open: PurchaseOrderState[] = ['draft', 'sent', 'acknowledged', 'shipped', 'received'];
    return role === 'supplier' ? open.filter((s) => s !== 'draft') : open;
  }
  return filter in PO_STATE_LABEL ? [filter as PurchaseOrderState] : [];
}

export interface TimelineStep {
  state: PurchaseOrderState;
  label: string;
  at: number | null;
  done: boolean;
  current: boolean;
}

const FLOW = ['draft', 'sent', 'acknowledged', 'shipped', 'received', 'closed'] as const;

/** The states in order with when each was reached; a cancelled PO ends with its cancellation. */
export function poTimeline(po: ApiPurchaseOrder): TimelineStep[] {
  const at: Record<(typeof FLOW)[number], number | null> = {
    draft: po.createdAt,
    sent: po.sentAt,
    acknowledged: po.acknowledgedAt,
    shipped: po.shippedAt,
    received: po.receivedAt,
    closed: po.closedAt,
  };
  const step = (s: PurchaseOrderState, when: number | null, done: boolean, current: boolean) => ({
    state: s,
    label: PO_STATE_LABEL[s],
    at: when,
    done,
    current,
  });
  if (po.state === 'cancelled') {
    const reached = FLOW.filter((s) => at[s] !== null).map((s) => step(s, at[s], true, false));
    return [...reached, step('cancelled', po.updatedAt, true, true)];
  }
  const i = FLOW.indexOf(po.state);
  return FLOW.map((s, k) => step(s, at[s], k <= i, k === i));
}

/** Items ordered over all lines, and of those the items added by hand. */
export function poTotals(po: ApiPurchaseOrder): { quantity: number; manual: number } {
  let quantity = 0;
  let manual = 0;
  for (const l of po.lines) {
    quantity += l.quantity;
    manual += l.manualQuantity;
  }
  return { quantity, manual };
}

/** "shelf-a · L1 (6)" for each lane of a line. */
export function laneText(line: PurchaseOrderLine): string {
  return line.lanes.map((l) => `${l.shelf} · ${l.lane} (${l.quantity})`).join(', ');
}

// --- form text → bodies ---------------------------------------------------------------------------

const MAX_QUANTITY = 1_000_000;

/** A whole number from `min` to a million, or the message saying what to type. */
export function wholeNumber(text: string, min: 0 | 1): number | { error: string } {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !/^\d+$/.test(t) || n < min || n > MAX_QUANTITY) {
    return { error: `a whole number from ${min} to 1,000,000` };
  }
  return n;
}

type LineTexts = Readonly<Record<string, string>>;

function perLine(
  lines: readonly PurchaseOrderLine[],
  texts: LineTexts,
  fallback: (l: PurchaseOrderLine) => number,
) {
  const errors: Record<string, string> = {};
  const out: { sku: string; quantity: number }[] = [];
  for (const l of lines) {
    const n = wholeNumber(texts[l.sku] ?? String(fallback(l)), 0);
    if (typeof n === 'number') out.push({ sku: l.sku, quantity: n });
    else errors[l.sku] = n.error;
  }
  return { out, errors };
}

/**
 * What the supplier ships, per SKU (errors keyed by SKU). Only the lines that differ from the
 * order are sent: the rest ship as ordered, which is central's default.
 */
export function shipBody(
  lines: readonly PurchaseOrderLine[],
  texts: LineTexts,
): Checked<ShipPurchaseOrderBody> {
  const { out, errors } = perLine(lines, texts, (l) => l.quantity);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const differ = out.filter((s) => lines.find((l) => l.sku === s.sku)?.quantity !== s.quantity);
  return { ok: true, body: differ.length > 0 ? { lines: differ } : {} };
}

/** What the operator counted by hand, every line (errors keyed by SKU). */
export function receiveBody(
  lines: readonly PurchaseOrderLine[],
  texts: LineTexts,
): Checked<ReceivePurchaseOrderBody> {
  const { out, errors } = perLine(lines, texts, (l) => l.shippedQuantity ?? l.quantity);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (out.length === 0) return { ok: false, errors: { lines: 'nothing to count' } };
  return { ok: true, body: { lines: out } };
}

export function proposeBody(quantity: string, note: string): Checked<ProposeQuantityBody> {
  const n = wholeNumber(quantity, 1);
  const t = note.trim();
  const earlier: FieldErrors = typeof n === 'number' ? {} : { quantity: n.error };
  return checkBody(
    ProposeQuantityBody,
    { quantity: typeof n === 'number' ? n : 0, ...(t ? { note: t } : {}) },
    earlier,
  );
}

export interface ManualLineForm {
  site: string;
  supplier: string;
  sku: string;
  quantity: string;
  reason: string;
}

export function manualLineBody(f: ManualLineForm): Checked<ManualLineBody> {
  const n = wholeNumber(f.quantity, 1);
  const errors: Record<string, string> = {};
  if (typeof n !== 'number') errors['quantity'] = n.error;
  for (const k of ['site', 'supplier', 'sku', 'reason'] as const) if (!f[k].trim()) errors[k] = 'required';
  const body = {
    site: f.site,
    supplier: f.supplier,
    sku: f.sku,
    quantity: typeof n === 'number' ? n : 1,
    reason: f.reason.trim(),
  };
  return checkBody(ManualLineBody, body, errors);
}

/** The SKUs a supplier delivers, as select options `[id, "name (id)"]`, by name. */
export function skuOptions(cat: Pick<CatalogueView, 'skus'>, supplier: string): [string, string][] {
  return cat.skus
    .filter((s) => s.supplier === supplier)
    .map((s): [string, string] => [s.id, s.name ? `${s.name} (${s.id})` : s.id])
    .sort((a, b) => a[1].localeCompare(b[1]));
}

/** The SKU's name from the catalogue, else its id. */
export function skuName(cat: Pick<CatalogueView, 'skus'> | null, sku: string): string {
  return cat?.skus.find((s) => s.id === sku)?.name ?? sku;
}

/** One sentence for a failed action, from the API's error body: what failed, why, which field. */
export function poErrorText(err: unknown, doing: string): string {
  if (!(err instanceof ApiError)) return `Could not ${doing}: ${(err as Error)?.message ?? String(err)}.`;
  const extra = err.issues.filter((i) => !err.message.includes(i.message));
  const detail = extra.length
    ? ` (${extra.map((i) => `${i.path || 'request'}: ${i.message}`).join('; ')})`
    : '';
  const hint =
    err.status === 409
      ? ' It has changed meanwhile: Reload shows it as it is now.'
      : err.status === 404
        ? ' It is gone or not yours to see: Reload the list.'
        : '';
  return `Could not ${doing}: ${err.message}${detail}.${hint}`;
}

// --- forecast ------------------------------------------------------------------------------------

/** Soonest stock-out first (unknown last), then by site and SKU. */
export function sortForecast(rows: readonly ApiForecast[]): ApiForecast[] {
  const key = (r: ApiForecast) => r.stockOutAt ?? Number.POSITIVE_INFINITY;
  return [...rows].sort(
    (a, b) => key(a) - key(b) || a.site.localeCompare(b.site) || a.sku.localeCompare(b.sku),
  );
}

/** "3.2 / day", "—" when unknown. */
export function formatPerDay(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  return `${n >= 10 ? Math.round(n) : Math.round(n * 10) / 10} / day`;
}

/** A lead time in days or hours: "2.5 days", "18 hours". */
export function formatLeadTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  const h = ms / 3_600_000;
  if (h < 36) return `${Math.round(h)} hour${Math.round(h) === 1 ? '' : 's'}`;
  return `${Math.round((h / 24) * 10) / 10} days`;
}

// A supplier's delivery schedule as form text.
export * from './schedule.js';
