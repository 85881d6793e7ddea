/**
 * Purchase orders over HTTP (docs/http-api.md): the list and one PO, its CSV and printable page,
 * the supplier's moves (acknowledge, ship, propose a quantity), the operator's (send now, add a
 * line by hand, accept or decline a proposal, count a delivery by hand, close, cancel) and the
 * receipt discrepancies both resolve. A supplier sees its own POs only, an operator its sites'; a
 * PO out of scope answers 404 by id too.
 */
import {
  type ApiDiscrepancy,
  CancelPurchaseOrderBody,
  DecideProposalBody,
  DiscrepanciesQuery,
  type DiscrepanciesResponse,
  EmptyBody,
  ID_PATTERN,
  ManualLineBody,
  ProposeQuantityBody,
  PurchaseOrdersQuery,
  type PurchaseOrdersResponse,
  ReceivePurchaseOrderBody,
  ResolveDiscrepancyBody,
  ShipPurchaseOrderBody,
} from '@shelfsense/protocol';
import {
  type PurchaseOrder,
  type PurchaseOrderService,
  purchaseOrderView,
} from '../orders/purchase-orders.js';
import type { DiscrepancyRow } from '../store/purchase-orders.js';
import { type ApiRouter, actorOf, authed, type RequestContext, STREAMED } from './context.js';
import { forbidden, HttpError, HttpErrorCodes, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { purchaseOrderCsv, purchaseOrderHtml } from './purchase-order-docs.js';
import { type Action, may, type Principal } from './scope.js';

const SCAN_LIMIT = 100_000;

/** A supplier sees its own POs; operators and technicians their sites'; service and admin all. */
export function canSeePurchaseOrder(p: Principal, po: { site: string; supplier: string }): boolean {
  const g = p.grant;
  if (g.role === 'admin' || g.role === 'service') return true;
  if (g.role === 'supplier') return g.supplier === po.supplier;
  if (g.role === 'operator' || g.role === 'technician') return g.sites.includes(po.site);
  return false;
}

function service(ctx: RequestContext): PurchaseOrderService {
  const s = ctx.deps.purchaseOrders;
  if (!s) throw new HttpError(503, HttpErrorCodes.UNAVAILABLE, 'purchase orders run elsewhere');
  return s;
}

function visible(ctx: RequestContext, p: Principal): PurchaseOrder {
  const id = ctx.params['id'] ?? '';
  const po = ID_PATTERN.test(id) ? service(ctx).get(id) : undefined;
  // A draft is the store's own business until it is sent.
  if (!po || !canSeePurchaseOrder(p, po) || (po.state === 'draft' && p.grant.role === 'supplier')) {
    throw notFound(`no purchase order ${id}`);
  }
  return po;
}

function requireRole(p: Principal, action: Action, what: string): void {
  if (!may(p, action)) throw forbidden(`the ${p.grant.role} role may not ${what}`);
}

function discrepancyView(d: DiscrepancyRow): ApiDiscrepancy {
  return {
    id: d.id,
    purchaseOrderId: d.poId,
    site: d.site,
    supplier: d.supplier,
    sku: d.sku,
    kind: d.kind,
    expected: d.expected,
    counted: d.counted,
    state: d.state,
    resolution: d.resolution,
    note: d.note,
    openedAt: d.openedAt,
    resolvedAt: d.resolvedAt,
    resolvedBy: d.resolvedBy,
  };
}

function sendDocument(ctx: RequestContext, type: string, name: string, body: string): typeof STREAMED {
  ctx.res.writeHead(200, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Disposition': `${type === 'text/csv' ? 'attachment' : 'inline'}; filename="${name}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // The printable page is self-contained: no script, its own inline style only.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  ctx.res.end(body);
  return STREAMED;
}

export function purchaseOrderRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/purchase-orders', async (ctx, p): Promise<PurchaseOrdersResponse> => {
    const q = parseQuery(ctx.url, PurchaseOrdersQuery);
    const base = {
      site: q.site,
      supplier: p.grant.role === 'supplier' ? p.grant.supplier : q.supplier,
      limit: SCAN_LIMIT,
    };
    const s = service(ctx);
    const states = q.state ? [...new Set(q.state)] : [undefined];
    return states
      .flatMap((state) => s.list(state ? { ...base, state } : base))
      .filter((po) => canSeePurchaseOrder(p, po) && !(po.state === 'draft' && p.grant.role === 'supplier'))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, q.limit ?? 1_000)
      .map(purchaseOrderView);
  });

  authed(router, 'GET', '/api/purchase-orders/:id', async (ctx, p) => purchaseOrderView(visible(ctx, p)));

  authed(router, 'GET', '/api/purchase-orders/:id/csv', async (ctx, p) => {
    const po = visible(ctx, p);
    return sendDocument(ctx, 'text/csv', `${po.id}.csv`, purchaseOrderCsv(po, ctx.deps.skus ?? []));
  });

  authed(router, 'GET', '/api/purchase-orders/:id/print', async (ctx, p) => {
    const po = visible(ctx, p);
    const html = purchaseOrderHtml(po, ctx.deps.skus ?? [], service(ctx).discrepancies(po.id));
    return sendDocument(ctx, 'text/html', `${po.id}.html`, html);
  });

  authed(router, 'POST', '/api/purchase-orders/manual-lines', async (ctx, p) => {
    const body = await readJson(ctx.req, ManualLineBody);
    requireRole(p, 'po.manual', 'add lines by hand');
    if (!canSeePurchaseOrder(p, body)) throw notFound(`no site ${body.site}`);
    return purchaseOrderView(service(ctx).addManualLine(body, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/send', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.send', 'send purchase orders');
    return purchaseOrderView(service(ctx).sendNow(po.id, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/acknowledge', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.acknowledge', 'acknowledge purchase orders');
    return purchaseOrderView(service(ctx).acknowledge(po.id, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/ship', async (ctx, p) => {
    const body = await readJson(ctx.req, ShipPurchaseOrderBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.ship', 'ship purchase orders');
    return purchaseOrderView(service(ctx).ship(po.id, body.lines, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/receive', async (ctx, p) => {
    const body = await readJson(ctx.req, ReceivePurchaseOrderBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.receive', 'count deliveries');
    return purchaseOrderView(service(ctx).receive(po.id, body.lines, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/close', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.close', 'close purchase orders');
    return purchaseOrderView(service(ctx).close(po.id, actorOf(p), ctx.now()));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/cancel', async (ctx, p) => {
    const body = await readJson(ctx.req, CancelPurchaseOrderBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.cancel', 'cancel purchase orders');
    return purchaseOrderView(service(ctx).cancel(po.id, actorOf(p), ctx.now(), body.reason));
  });

  authed(router, 'POST', '/api/purchase-orders/:id/lines/:sku/propose', async (ctx, p) => {
    const body = await readJson(ctx.req, ProposeQuantityBody);
    const po = visible(ctx, p);
    requireRole(p, 'po.propose', 'propose quantities');
    const sku = ctx.params['sku'] ?? '';
    const r = service(ctx).propose(po.id, sku, body.quantity, body.note ?? null, actorOf(p), ctx.now());
    return purchaseOrderView(r);
  });

  for (const decision of ['accept', 'decline'] as const) {
    authed(router, 'POST', `/api/purchase-orders/:id/lines/:sku/${decision}`, async (ctx, p) => {
      const body = await readJson(ctx.req, DecideProposalBody);
      const po = visible(ctx, p);
      requireRole(p, 'po.decide', `${decision} proposals`);
      const sku = ctx.params['sku'] ?? '';
      const r = service(ctx).decide(
        po.id,
        sku,
        decision === 'accept',
        body.note ?? null,
        actorOf(p),
        ctx.now(),
      );
      return purchaseOrderView(r);
    });
  }

  authed(router, 'GET', '/api/discrepancies', async (ctx, p): Promise<DiscrepanciesResponse> => {
    const q = parseQuery(ctx.url, DiscrepanciesQuery);
    return service(ctx)
      .allDiscrepancies()
      .filter(
        (d) =>
          canSeePurchaseOrder(p, d) &&
          (q.state === undefined || d.state === q.state) &&
          (q.site === undefined || d.site === q.site),
      )
      .reverse()
      .slice(0, q.limit ?? 1_000)
      .map(discrepancyView);
  });

  authed(router, 'POST', '/api/discrepancies/:id/resolve', async (ctx, p) => {
    const body = await readJson(ctx.req, ResolveDiscrepancyBody);
    const id = ctx.params['id'] ?? '';
    const s = service(ctx);
    const d = ID_PATTERN.test(id) ? s.discrepancy(id) : undefined;
    if (!d || !canSeePurchaseOrder(p, d)) throw notFound(`no discrepancy ${id}`);
    requireRole(p, 'po.resolve', 'resolve discrepancies');
    return discrepancyView(s.resolve(d.id, body.resolution, body.note ?? null, actorOf(p), ctx.now()));
  });
}
