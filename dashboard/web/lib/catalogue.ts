/**
 * The catalogue over the HTTP API (protocol/src/api/catalogue.ts), for the admin tabs: reading
 * it, each object's path, saving and deleting with the revision read, form text turned into request
 * bodies checked by the contract's own schemas, a refusal turned into what a form shows (fields,
 * a stale revision with the object as it is now, a role refusal, an object gone), and which level
 * a lane's policy fields come from. Uses only the Api client: no DOM.
 */
import {
  CatalogueChangeResponse,
  CatalogueView,
  type ContactBody,
  LaneBody,
  type LaneView,
  PolicyBody,
  type PolicyViews,
  ShelfBody,
  type ShelfView,
  SiteBody,
  type SiteView,
  SkuBody,
  type SkuView,
  SupplierBody,
  type SupplierView,
  WebhookBody,
  WebhookSecretResponse,
  WebhookTestResponse,
  type WebhookView,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import { type Api, ApiError } from './api.js';

const seg = encodeURIComponent;
const ROOT = '/api/catalogue';

// --- paths and calls ---------------------------------------------------------------------------

export type PolicyTarget =
  | { level: 'defaults' }
  | { level: 'site'; site: string }
  | { level: 'sku'; sku: string }
  | { level: 'lane'; site: string; shelf: string; lane: string };

export const paths = {
  supplier: (id: string) => `${ROOT}/suppliers/${seg(id)}`,
  webhook: (id: string) => `${ROOT}/suppliers/${seg(id)}/webhook`,
  sku: (id: string) => `${ROOT}/skus/${seg(id)}`,
  site: (id: string) => `${ROOT}/sites/${seg(id)}`,
  shelf: (site: string, shelf: string) => `${ROOT}/sites/${seg(site)}/shelves/${seg(shelf)}`,
  lane: (site: string, shelf: string, lane: string) =>
    `${ROOT}/sites/${seg(site)}/shelves/${seg(shelf)}/lanes/${seg(lane)}`,
  policy(t: PolicyTarget): string {
    if (t.level === 'defaults') return `${ROOT}/policies/defaults`;
    if (t.level === 'site') return `${ROOT}/policies/sites/${seg(t.site)}`;
    if (t.level === 'sku') return `${ROOT}/policies/skus/${seg(t.sku)}`;
    return `${ROOT}/policies/lanes/${seg(t.site)}/${seg(t.shelf)}/${seg(t.lane)}`;
  },
};

export function loadCatalogue(api: Api): Promise<CatalogueView> {
  return api.request('GET', ROOT, CatalogueView);
}

/** Creates (no `revision` in the body) or updates (the revision read) the object at `path`. */
export function saveObject(api: Api, path: string, body: unknown): Promise<CatalogueChangeResponse> {
  return api.request('PUT', path, CatalogueChangeResponse, body);
}

export function deleteObject(api: Api, path: string, revision: number): Promise<CatalogueChangeResponse> {
  return api.request('DELETE', `${path}?revision=${revision}`, CatalogueChangeResponse);
}

/** A webhook created answers its secret, once; an update answers like any other object. */
const WebhookSaved = z.union([WebhookSecretResponse, CatalogueChangeResponse]);
export type WebhookSaved = z.infer<typeof WebhookSaved>;

export function saveWebhook(api: Api, supplier: string, body: unknown): Promise<WebhookSaved> {
  return api.request('PUT', paths.webhook(supplier), WebhookSaved, body);
}

/** The secret in an answer, if it carries one (shown to the user this once). */
export function secretOf(saved: WebhookSaved): string | null {
  return 'secret' in saved && typeof saved.secret === 'string' ? saved.secret : null;
}

export function rotateSecret(api: Api, supplier: string): Promise<WebhookSecretResponse> {
  return api.request('POST', `${paths.webhook(supplier)}/rotate`, WebhookSecretResponse, {});
}

export function testWebhook(api: Api, supplier: string): Promise<WebhookTestResponse> {
  return api.request('POST', `${paths.webhook(supplier)}/test`, WebhookTestResponse, {});
}

// --- checking form input -------------------------------------------------------------------------

/** Field path (`unitWeightG`, `contacts.0.email`) → message. */
export type FieldErrors = Readonly<Record<string, string>>;
export type Checked<T> = { ok: true; body: T } | { ok: false; errors: FieldErrors };

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID_RULE = 'letters, digits, _ and -, 1–64 characters';
const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** Words for each body field, so a message names the field as the form labels it. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  id: 'Id',
  name: 'Name',
  unitWeightG: 'Unit weight (g)',
  supplier: 'Supplier',
  serial: 'Serial',
  agent: 'Agent',
  channels: 'Channels',
  sku: 'SKU',
  capacity: 'Capacity',
  url: 'Webhook URL',
  email: 'Email',
  phone: 'Phone',
  reorderPoint: 'Reorder point',
  orderUpTo: 'Order up to',
  packSize: 'Pack size',
  minOrderQty: 'Minimum order',
  leadTimeMs: 'Lead time',
  debounceMs: 'Debounce',
  hysteresis: 'Hysteresis',
  safetyStock: 'Safety stock',
  dynamicReorderPoint: 'Dynamic reorder point',
  enabled: 'Ordering enabled',
  revision: 'Revision',
};

/** `contacts.1.email` → "Contact 2 email"; `unitWeightG` → "Unit weight (g)". */
export function fieldLabel(path: string): string {
  const parts = path.split('.');
  if (parts[0] === 'contacts' && parts.length >= 2) {
    const n = Number(parts[1]) + 1;
    const rest = parts[2] ? ` ${(FIELD_LABELS[parts[2]] ?? parts[2]).toLowerCase()}` : '';
    return `Contact ${n}${rest}`;
  }
  return FIELD_LABELS[path] ?? FIELD_LABELS[parts[0] ?? ''] ?? (path || 'The request');
}

/** Checks `body` with the contract's schema: each issue keyed by its field, the message plain. */
export function checkBody<S extends z.ZodMiniType>(
  schema: S,
  body: unknown,
  earlier: FieldErrors = {},
): Checked<z.output<S>> {
  const r = z.safeParse(schema, body);
  const errors: Record<string, string> = { ...earlier };
  if (!r.success) {
    for (const i of r.error.issues) {
      const path = i.path.map(String).join('.');
      if (errors[path]) continue;
      // Text left in a number field reaches the schema as a string, and a blank required text
      // field as '': say what to enter instead of the schema's wording.
      const number = i.code === 'invalid_type' && i.expected === 'number';
      const empty = i.code === 'too_small' && i.origin === 'string' && Number(i.minimum) === 1;
      if (number) errors[path] = valueAt(body, i.path) === undefined ? 'required' : 'enter a number';
      else errors[path] = empty ? 'required' : i.message;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, body: (r as { data: z.output<S> }).data };
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Form text for a number: blank → left out; a number → the number; else the text (refused). */
export function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

const optionalText = (text: string) => (text.trim() === '' ? undefined : text.trim());

function withRevision<T extends object>(body: T, revision: number | undefined): T & { revision?: number } {
  return revision === undefined ? body : { ...body, revision };
}

/** An id typed in a create form; it goes in the path, so it is checked here. */
export function checkId(text: string): string | null {
  return ID.test(text.trim()) ? null : ID_RULE;
}

/** "0, 1" → [0, 1]; anything that is not a list of whole numbers stays as text and is refused. */
export function parseChannels(text: string): number[] | string {
  const items = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) return [];
  return items.every((s) => /^\d+$/.test(s)) ? items.map(Number) : text;
}

// --- forms: text state ↔ views and bodies ---------------------------------------------------------

export interface SkuForm {
  id: string;
  name: string;
  unitWeightG: string;
  supplier: string;
}
export const skuForm = (v: SkuView | null): SkuForm => ({
  id: v?.id ?? '',
  name: v?.name ?? '',
  unitWeightG: v ? String(v.unitWeightG) : '',
  supplier: v?.supplier ?? '',
});
export function skuBody(f: SkuForm, revision?: number): Checked<SkuBody> {
  const body = withRevision(
    { name: optionalText(f.name), unitWeightG: numberOrText(f.unitWeightG), supplier: f.supplier.trim() },
    revision,
  );
  return checkBody(SkuBody, body, idErrors(f.id, revision));
}

export interface SiteForm {
  id: string;
  name: string;
}
export const siteForm = (v: Pick<SiteView, 'id' | 'name'> | null): SiteForm => ({
  id: v?.id ?? '',
  name: v?.name ?? '',
});
export function siteBody(f: SiteForm, revision?: number): Checked<SiteBody> {
  return checkBody(
    SiteBody,
    withRevision({ name: optionalText(f.name) }, revision),
    idErrors(f.id, revision),
  );
}

export interface ShelfForm {
  serial: string;
  agent: string;
}
export const shelfForm = (v: Pick<ShelfView, 'serial' | 'agent'>): ShelfForm => ({
  serial: v.serial,
  agent: v.agent,
});
/** Serial and agent only: a shelf update without `lanes` keeps its planogram. */
export function shelfBody(f: ShelfForm, revision: number): Checked<ShelfBody> {
  return checkBody(ShelfBody, { serial: f.serial.trim(), agent: f.agent.trim(), revision });
}

export interface LaneForm {
  id: string;
  channels: string;
  sku: string;
  capacity: string;
}
export const laneForm = (v: Pick<LaneView, 'id' | 'channels' | 'sku' | 'capacity'> | null): LaneForm => ({
  id: v?.id ?? '',
  channels: v ? v.channels.join(', ') : '',
  sku: v?.sku ?? '',
  capacity: v?.capacity === null || v?.capacity === undefined ? '' : String(v.capacity),
});
export function laneBody(f: LaneForm, revision?: number): Checked<LaneBody> {
  const body = withRevision(
    { channels: parseChannels(f.channels), sku: f.sku.trim(), capacity: numberOrText(f.capacity) },
    revision,
  );
  return checkBody(LaneBody, body, idErrors(f.id, revision));
}

export interface ContactForm {
  name: string;
  email: string;
  phone: string;
}
export interface SupplierForm {
  id: string;
  name: string;
  contacts: ContactForm[];
}
export const supplierForm = (v: Pick<SupplierView, 'id' | 'name' | 'contacts'> | null): SupplierForm => ({
  id: v?.id ?? '',
  name: v?.name ?? '',
  contacts: (v?.contacts ?? []).map((c) => ({ name: c.name, email: c.email ?? '', phone: c.phone ?? '' })),
});
export function supplierBody(f: SupplierForm, revision?: number): Checked<SupplierBody> {
  const contacts: ContactBody[] = f.contacts.map((c) => {
    const out: ContactBody = { name: c.name.trim() };
    const email = optionalText(c.email);
    const phone = optionalText(c.phone);
    if (email !== undefined) out.email = email;
    if (phone !== undefined) out.phone = phone;
    return out;
  });
  const body = withRevision({ name: optionalText(f.name), contacts }, revision);
  return checkBody(SupplierBody, body, idErrors(f.id, revision));
}

export interface WebhookForm {
  url: string;
}
export const webhookForm = (v: Pick<WebhookView, 'url'> | null): WebhookForm => ({ url: v?.url ?? '' });
export function webhookBody(f: WebhookForm, revision?: number) {
  return checkBody(WebhookBody, withRevision({ url: f.url.trim() }, revision));
}

function idErrors(id: string, revision: number | undefined): FieldErrors {
  if (revision !== undefined) return {};
  const e = checkId(id);
  return e ? { id: e } : {};
}

// --- policies ------------------------------------------------------------------------------------

export const POLICY_FIELDS = [
  'reorderPoint',
  'orderUpTo',
  'packSize',
  'minOrderQty',
  'leadTimeMs',
  'debounceMs',
  'hysteresis',
  'safetyStock',
  'dynamicReorderPoint',
  'enabled',
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];
export const BOOLEAN_FIELDS: ReadonlySet<PolicyField> = new Set(['dynamicReorderPoint', 'enabled']);
export const DURATION_FIELDS: ReadonlySet<PolicyField> = new Set(['leadTimeMs', 'debounceMs']);

type PolicyValues = Partial<Record<PolicyField, number | boolean | undefined>>;
/** Each field as text: '' inherits; booleans 'true' / 'false'; durations `5m` or milliseconds. */
export type PolicyForm = Record<PolicyField, string>;

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** 300000 → "5m", 1500 → "1500ms": the largest unit that divides it exactly. */
export function formatMs(ms: number): string {
  if (ms > 0) for (const [u, n] of UNITS) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

export function policyForm(v: PolicyValues | null | undefined): PolicyForm {
  const out = {} as PolicyForm;
  for (const f of POLICY_FIELDS) {
    const x = v?.[f];
    out[f] = x === undefined ? '' : DURATION_FIELDS.has(f) && typeof x === 'number' ? formatMs(x) : String(x);
  }
  return out;
}

/** Only the fields filled in: a blank one is left out, so this level inherits it. */
export function policyBody(f: PolicyForm, revision?: number): Checked<PolicyBody> {
  const body: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const k of POLICY_FIELDS) {
    const t = (f[k] ?? '').trim();
    if (t === '') continue;
    if (BOOLEAN_FIELDS.has(k)) body[k] = t === 'true' ? true : t === 'false' ? false : t;
    else if (DURATION_FIELDS.has(k)) {
      if (/^\d+$/.test(t)) body[k] = Number(t);
      else if (DURATION.test(t)) body[k] = t;
      else errors[k] = 'a duration such as 250ms, 5s, 2m, 1h or 1d';
    } else body[k] = numberOrText(t);
  }
  return checkBody(PolicyBody, withRevision(body, revision), errors);
}

export type PolicyLevel = 'lane' | 'sku' | 'site' | 'defaults';
export type PolicySource = PolicyLevel | 'capacity';
export interface Resolved {
  value: number | boolean | null;
  /** The level the value comes from; null when no level sets it. */
  from: PolicySource | null;
}

export interface LaneWhere {
  site: string;
  shelf: string;
  lane: string;
  sku: string;
  capacity: number | null;
}

type PolicyRow = PolicyViews['defaults'];

export function policyAt(p: PolicyViews, t: PolicyTarget): PolicyRow | undefined {
  if (t.level === 'defaults') return p.defaults;
  if (t.level === 'site') return p.sites.find((x) => x.site === t.site);
  if (t.level === 'sku') return p.skus.find((x) => x.sku === t.sku);
  return p.lanes.find((x) => x.site === t.site && x.shelf === t.shelf && x.lane === t.lane);
}

/**
 * Each field as central resolves it (central/src/rules/policy.ts): lane, else SKU, else site,
 * else defaults; order-up-to falls back to the lane's capacity. `skip` leaves a level out, to show
 * what a blank field at that level would inherit.
 */
export function resolvePolicy(
  p: PolicyViews,
  where: LaneWhere,
  skip?: PolicyLevel,
): Record<PolicyField, Resolved> {
  const levels: [PolicyLevel, PolicyRow | undefined][] = [
    ['lane', policyAt(p, { level: 'lane', site: where.site, shelf: where.shelf, lane: where.lane })],
    ['sku', policyAt(p, { level: 'sku', sku: where.sku })],
    ['site', policyAt(p, { level: 'site', site: where.site })],
    ['defaults', p.defaults],
  ];
  return inherit(levels, skip, where.capacity);
}

/** What a blank field at the SKU or site level inherits: the defaults (a SKU's site varies). */
export function resolveDefaults(p: PolicyViews): Record<PolicyField, Resolved> {
  return inherit([['defaults', p.defaults]], undefined, null);
}

function inherit(
  levels: [PolicyLevel, PolicyRow | undefined][],
  skip: PolicyLevel | undefined,
  capacity: number | null,
): Record<PolicyField, Resolved> {
  const out = {} as Record<PolicyField, Resolved>;
  for (const f of POLICY_FIELDS) {
    const hit = levels.find(([lvl, row]) => lvl !== skip && row?.[f] !== undefined);
    if (hit) out[f] = { value: hit[1]?.[f] as number | boolean, from: hit[0] };
    else if (f === 'orderUpTo' && capacity !== null) out[f] = { value: capacity, from: 'capacity' };
    else out[f] = { value: null, from: null };
  }
  return out;
}

export const SOURCE_TEXT: Readonly<Record<PolicySource, string>> = {
  lane: 'this lane',
  sku: 'the SKU',
  site: 'the site',
  defaults: 'the defaults',
  capacity: 'the lane capacity',
};

/** A resolved value as text: durations compact, booleans yes/no, unset as a dash. */
export function formatPolicyValue(f: PolicyField, v: number | boolean | null): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return DURATION_FIELDS.has(f) ? formatMs(v) : String(v);
}

// --- refusals -----------------------------------------------------------------------------------

export type Failure =
  | { kind: 'invalid'; message: string; fields: FieldErrors }
  /** Someone changed (or created) the object since it was read; `current` is how it is now. */
  | { kind: 'conflict'; message: string; current: unknown }
  | { kind: 'forbidden'; message: string }
  | { kind: 'gone'; message: string }
  | { kind: 'error'; message: string };

export const CONFLICT_TEXT = 'Changed by someone else since you opened it.';

/**
 * What a form shows for a failed save. `doing` completes "Your role may not …" (e.g. "change this
 * SKU"); `creating` says the form had no revision, so a 409 means the id is taken.
 */
export function describeFailure(err: unknown, doing: string, creating = false): Failure {
  if (!(err instanceof ApiError)) return { kind: 'error', message: (err as Error)?.message ?? String(err) };
  if (err.status === 400 || err.status === 422) {
    const fields: Record<string, string> = {};
    for (const i of err.issues) fields[i.path] ??= i.message;
    return { kind: 'invalid', message: err.message, fields };
  }
  if (err.status === 409) {
    const body = err.body as { current?: unknown } | null;
    const current = body && typeof body === 'object' && 'current' in body ? body.current : null;
    return {
      kind: 'conflict',
      message: creating
        ? 'Already exists: someone else created it since you opened this form.'
        : CONFLICT_TEXT,
      current,
    };
  }
  if (err.status === 403) return { kind: 'forbidden', message: `Your role may not ${doing}.` };
  if (err.status === 404)
    return {
      kind: 'gone',
      message: 'Gone: someone else removed it. Reload to see the catalogue as it is now.',
    };
  return { kind: 'error', message: err.message };
}

/** A conflict's `current` read as `schema`, or null when it is missing or of another shape. */
export function currentAs<S extends z.ZodMiniType>(schema: S, current: unknown): z.output<S> | null {
  const r = z.safeParse(schema, current);
  return r.success ? r.data : null;
}
