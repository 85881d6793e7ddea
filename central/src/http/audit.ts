/**
 * The audit trail over HTTP (docs/audit.md): `GET /api/audit` (JSON, newest first, paged with
 * `before`) and `GET /api/audit.csv` (the same rows as CSV, streamed page by page). Admins read
 * every row; an operator only the rows of its sites (a row without a site — a login, a SKU — is
 * not an operator's to read); every other role gets 403.
 *
 * Only GET is registered, so any other method on these paths is a 405: the trail cannot be
 * changed through the API, and the store's triggers refuse it below that.
 */
import { type ApiAuditEntry, AUDIT_CSV_COLUMNS, AuditQuery, type AuditResponse } from '@shelfsense/protocol';
import type { AuditEntry, AuditQuery as StoreAuditQuery } from '../store/audit.js';
import { type ApiRouter, authed, STREAMED } from './context.js';
import { csvRow } from './csv.js';
import { forbidden } from './errors.js';
import { write } from './export.js';
import { parseQuery } from './io.js';
import type { Principal } from './scope.js';

/** Rows per store query of the CSV export: small enough not to hold other requests up. */
const CSV_PAGE_ROWS = 1_000;

/**
 * The sites whose rows `p` may read, narrowed to `site` when asked: undefined for every row (an
 * admin with no site filter), an empty list for none (an operator asking for another site).
 */
function readableSites(p: Principal, site: string | undefined): readonly string[] | undefined {
  const g = p.grant;
  if (g.role === 'admin') return site === undefined ? undefined : [site];
  if (g.role === 'operator') return site === undefined ? g.sites : g.sites.filter((s) => s === site);
  throw forbidden(`the ${g.role} role may not read the audit trail`);
}

function storeQuery(q: AuditQuery, p: Principal): StoreAuditQuery {
  return {
    from: q.from,
    to: q.to,
    actor: q.actor,
    action: q.action,
    target: q.target,
    targetId: q.targetId,
    sites: readableSites(p, q.site),
    beforeSeq: q.before,
  };
}

function entryView(e: AuditEntry): ApiAuditEntry {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    role: e.role,
    action: e.action,
    target: e.target,
    targetId: e.targetId,
    site: e.site,
    before: e.before ?? null,
    after: e.after ?? null,
    detail: e.detail,
  };
}

const jsonText = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));

function csvLine(e: AuditEntry): string {
  return csvRow([
    e.seq,
    e.at,
    new Date(e.at).toISOString(),
    e.actor,
    e.role,
    e.action,
    e.target,
    e.targetId,
    e.site,
    jsonText(e.before),
    jsonText(e.after),
    jsonText(e.detail),
  ]);
}

export function auditRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/audit', async (ctx, p): Promise<AuditResponse> => {
    const q = parseQuery(ctx.url, AuditQuery);
    const query = storeQuery(q, p);
    return ctx.deps.store.audit.list({ ...query, limit: q.limit ?? 100 }).map(entryView);
  });

  authed(router, 'GET', '/api/audit.csv', async (ctx, p) => {
    const q = parseQuery(ctx.url, AuditQuery);
    const query = storeQuery(q, p);
    const res = ctx.res;
    // Every matching row unless a limit is given: the trail is kept forever, and an export is how
    // it leaves the system whole.
    let left = q.limit ?? Number.POSITIVE_INFINITY;
    let beforeSeq = query.beforeSeq;
    let buf = csvRow(AUDIT_CSV_COLUMNS);
    // The first page is read before the status line, so a failing store still answers JSON.
    let page = ctx.deps.store.audit.list({ ...query, beforeSeq, limit: Math.min(left, CSV_PAGE_ROWS) });
    res.writeHead(200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="shelfsense-audit-${ctx.now()}.csv"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    while (page.length > 0) {
      for (const e of page) buf += csvLine(e);
      if (!(await write(res, buf))) return STREAMED;
      buf = '';
      left -= page.length;
      const oldest = page[page.length - 1] as AuditEntry;
      if (left <= 0 || page.length < CSV_PAGE_ROWS) break;
      beforeSeq = oldest.seq;
      // Let other requests in between pages (the store answers without yielding).
      await new Promise((r) => setImmediate(r));
      page = ctx.deps.store.audit.list({ ...query, beforeSeq, limit: Math.min(left, CSV_PAGE_ROWS) });
    }
    if (buf !== '' && !(await write(res, buf))) return STREAMED;
    res.end();
    return STREAMED;
  });
}
