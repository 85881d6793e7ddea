/**
 * Orders: the user's orders (newest first), one order, and the transitions people make —
 * acknowledge and ship (the supplier, or an admin), cancel (an operator of the site, or an admin).
 * `received` is set by the shelf itself, never here. An order out of scope answers 404 by id too.
 */
import {
  type ApiOrder,
  CancelOrderBody,
  EmptyBody,
  ID_PATTERN,
  OrdersQuery,
  type OrdersResponse,
  ShipOrderBody,
} from '@shelfsense/protocol';
import type { Order } from '../orders/orders.js';
import { type ApiRouter, actorOf, authed, type RequestContext } from './context.js';
import { forbidden, HttpError, HttpErrorCodes, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { type Action, canReadLane, may, type Principal } from './scope.js';

/** Orders are read from the store in one query of at most this many rows per state. */
const SCAN_LIMIT = 100_000;

/**
 * A supplier sees an order when it may read the lane's order topic (the lane holds its SKU now)
 * and the order was raised to it; everyone else by the order topic alone.
 */
export function canSeeOrder(p: Principal, o: Order, ctx: RequestContext): boolean {
  if (p.grant.role === 'supplier' && o.supplier !== p.grant.supplier) return false;
  return canReadLane(p, o, 'order', ctx.deps.map);
}

export function orderView(ctx: RequestContext, o: Order): ApiOrder {
  const entries = ctx.deps.orders.outbox.list({ orderId: o.id, limit: SCAN_LIMIT });
  const last = entries[entries.length - 1];
  return {
    id: o.id,
    site: o.site,
    shelf: o.shelf,
    lane: o.lane,
    sku: o.sku,
    supplier: o.supplier,
    state: o.state,
    quantity: o.quantity,
    shippedQuantity: o.shippedQuantity,
    receivedQuantity: o.receivedQuantity,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    delivery: last ? { state: last.state, attempts: last.attempts } : null,
  };
}

function visibleOrder(ctx: RequestContext, p: Principal): Order {
  const id = ctx.params['id'] ?? '';
  const o = ID_PATTERN.test(id) ? ctx.deps.orders.get(id) : undefined;
  if (!o || !canSeeOrder(p, o, ctx)) throw notFound(`no order ${id}`);
  return o;
}

/** A gathered order moves with its purchase order, never on its own. */
function notOnPurchaseOrder(ctx: RequestContext, o: Order): void {
  const po = ctx.deps.purchaseOrders?.poOf(o.id);
  if (po) {
    throw new HttpError(
      409,
      HttpErrorCodes.CONFLICT,
      `order ${o.id} is on purchase order ${po}: act on that`,
      [{ path: 'purchaseOrder', message: po }],
    );
  }
}

function requireRole(p: Principal, action: Action, what: string): void {
  if (!may(p, action)) throw forbidden(`the ${p.grant.role} role may not ${what}`);
}

export function orderRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/orders', async (ctx, p): Promise<OrdersResponse> => {
    const q = parseQuery(ctx.url, OrdersQuery);
    const base = {
      site: q.site,
      supplier: p.grant.role === 'supplier' ? p.grant.supplier : undefined,
      limit: SCAN_LIMIT,
    };
    const rows = q.state
      ? [...new Set(q.state)].flatMap((state) => ctx.deps.orders.list({ ...base, state }))
      : ctx.deps.orders.list(base);
    return rows
      .filter((o) => canSeeOrder(p, o, ctx))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, q.limit ?? 1_000)
      .map((o) => orderView(ctx, o));
  });

  authed(router, 'GET', '/api/orders/:id', async (ctx, p) => orderView(ctx, visibleOrder(ctx, p)));

  authed(router, 'POST', '/api/orders/:id/acknowledge', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const o = visibleOrder(ctx, p);
    requireRole(p, 'order.acknowledge', 'acknowledge orders');
    notOnPurchaseOrder(ctx, o);
    const r = ctx.deps.orders.transition(o.id, 'acknowledged', { actor: actorOf(p), now: ctx.now() });
    return orderView(ctx, r.order);
  });

  authed(router, 'POST', '/api/orders/:id/ship', async (ctx, p) => {
    const body = await readJson(ctx.req, ShipOrderBody);
    const o = visibleOrder(ctx, p);
    requireRole(p, 'order.ship', 'ship orders');
    notOnPurchaseOrder(ctx, o);
    const r = ctx.deps.orders.transition(o.id, 'shipped', {
      actor: actorOf(p),
      now: ctx.now(),
      ...(body.quantity !== undefined ? { shippedQuantity: body.quantity } : {}),
    });
    return orderView(ctx, r.order);
  });

  authed(router, 'POST', '/api/orders/:id/cancel', async (ctx, p) => {
    const body = await readJson(ctx.req, CancelOrderBody);
    const o = visibleOrder(ctx, p);
    requireRole(p, 'order.cancel', 'cancel orders');
    notOnPurchaseOrder(ctx, o);
    const r = ctx.deps.orders.transition(o.id, 'cancelled', {
      actor: actorOf(p),
      now: ctx.now(),
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
    });
    if (r.event) ctx.log.info({ orderId: o.id, by: p.user, reason: body.reason ?? null }, 'order cancelled');
    return orderView(ctx, r.order);
  });
}
