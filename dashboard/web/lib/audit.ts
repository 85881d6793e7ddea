/**
 * The audit trail (docs/audit.md): its query string from the panel's filters, a page of rows
 * (`GET /api/audit`, newest first, older pages by `before`), the CSV export fetched with the token
 * in the Authorization header (never in the URL) as a Blob, and a one-line summary of what a row
 * changed. No DOM here.
 */
import { type ApiAuditEntry, AUDIT_CSV_COLUMNS, AuditResponse } from '@shelfsense/protocol';
import { type Api, ApiError, ClientErrorCodes } from './api.js';
import { filenameFromDisposition } from './csv.js';

/** Rows per page of the panel; "Load older" asks for the next one. */
export const AUDIT_PAGE = 100;

export interface AuditFilters {
  actor?: string | undefined;
  /** An action (`order.cancelled`) or an area (`order`). */
  action?: string | undefined;
  /** The kind of object: `order`, `lane`, `user` … */
  target?: string | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, inclusive. */
  to?: number | undefined;
}

/** The query string (with its `?`, or '') for the filters, a page size and where to page from. */
export function auditQuery(f: AuditFilters, page: { before?: number; limit?: number } = {}): string {
  const q = new URLSearchParams();
  for (const key of ['actor', 'action', 'target'] as const) {
    const v = f[key]?.trim();
    if (v) q.set(key, v);
  }
  for (const key of ['from', 'to'] as const) {
    const v = f[key];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`audit filter ${key}: not a time (${v})`);
    q.set(key, String(Math.floor(v)));
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) {
    throw new RangeError('audit filter: "from" must not be after "to"');
  }
  if (page.before !== undefined) q.set('before', String(page.before));
  if (page.limit !== undefined) q.set('limit', String(page.limit));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface AuditPage {
  rows: ApiAuditEntry[];
  /** True when the page was full, so older rows may follow. */
  more: boolean;
}

/** One page, newest first: the newest rows, or those older than the row numbered `before`. */
export async function listAudit(
  api: Api,
  f: AuditFilters,
  before?: number,
  limit = AUDIT_PAGE,
): Promise<AuditPage> {
  const rows = await api.request(
    'GET',
    `/api/audit${auditQuery(f, { limit, ...(before !== undefined ? { before } : {}) })}`,
    AuditResponse,
  );
  return { rows, more: rows.length >= limit };
}

function stamp(ts: number): string {
  return new Date(ts).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
}

/** `shelfsense-audit-20251126-1845.csv` (UTC, when it was asked for). */
export function auditFilename(now: number): string {
  return `shelfsense-audit-${stamp(now)}.csv`;
}

/** Every row the filters match, as a CSV Blob with a file name. */
export async function fetchAuditCsv(
  api: Api,
  f: AuditFilters,
  now = Date.now(),
): Promise<{ blob: Blob; filename: string }> {
  const path = `/api/audit.csv${auditQuery(f)}`;
  const res = await api.raw(path, { headers: { Accept: 'text/csv' } });
  const text = await res.text();
  if (!text.replace(/^\uFEFF/, '').startsWith(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`)) {
    throw new ApiError(res.status, ClientErrorCodes.BAD_RESPONSE, `${path} did not answer the audit CSV`);
  }
  return {
    blob: new Blob([text], { type: 'text/csv;charset=utf-8' }),
    filename: filenameFromDisposition(res.headers.get('Content-Disposition')) ?? auditFilename(now),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value in a few characters: strings bare, the rest as JSON, long ones cut. */
export function shortValue(v: unknown, max = 40): string {
  if (v === undefined || v === null) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/**
 * What a row changed, in one line: `open → acknowledged` for a single field that changed,
 * `capacity: 24 → 30; sku: x → y` for several (at most `max`, then how many more), `created` /
 * `removed` when there was nothing before or after, '' when the row records no object.
 */
export function changeSummary(e: Pick<ApiAuditEntry, 'before' | 'after'>, max = 3): string {
  const { before, after } = e;
  if (before === null && after === null) return '';
  if (!isObject(before) || !isObject(after)) {
    if (before === null)
      return isObject(after) && 'state' in after ? `→ ${shortValue(after['state'])}` : 'created';
    if (after === null) return 'removed';
    return `${shortValue(before)} → ${shortValue(after)}`;
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (keys.length === 0) return 'no change';
  if (keys.length === 1 && keys[0] === 'state')
    return `${shortValue(before['state'])} → ${shortValue(after['state'])}`;
  const shown = keys
    .slice(0, max)
    .map((k) => `${k}: ${shortValue(before[k], 24)} → ${shortValue(after[k], 24)}`)
    .join('; ');
  return keys.length > max ? `${shown}; +${keys.length - max} more` : shown;
}

/** A date input's `YYYY-MM-DD` as the first (or, with `end`, the last) millisecond of that local day. */
export function dayBound(value: string, end = false): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const start = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(start.getTime())) return undefined;
  if (!end) return start.getTime();
  const next = new Date(start);
  next.setDate(next.getDate() + 1);
  return next.getTime() - 1;
}
