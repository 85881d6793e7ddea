/**
 * Webhook dead letters (admins only): order events whose delivery used up its attempts, and
 * re-queueing one with a fresh attempt budget (the delivery worker is woken at once).
 */
import { z } from 'zod';
import type { OutboxEntry } from '../webhooks/outbox.js';
import { type ApiRouter, authed } from './context.js';
import { forbidden, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { limitParam } from './params.js';
import { may, type Principal } from './scope.js';

const ListQuery = z.object({ limit: limitParam(10_000).optional() });
const Empty = z.strictObject({});

export function deadLetterView(e: OutboxEntry) {
  let event: unknown = null;
  try {
    event = JSON.parse(e.body);
  } catch {
    // The body is written by central itself; a damaged one is shown as null rather than failing the list.
  }
  return {
    id: e.id,
    eventId: e.eventId,
    orderId: e.orderId,
    supplier: e.supplier,
    idempotencyKey: e.idempotencyKey,
    state: e.state,
    attempts: e.attempts,
    lastStatus: e.lastStatus,
    lastError: e.lastError,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    event,
  };
}

function requireAdmin(p: Principal): void {
  if (!may(p, 'webhooks.dead')) throw forbidden(`the ${p.grant.role} role may not manage webhook deliveries`);
}

export function webhookRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/webhooks/dead', async (ctx, p) => {
    const q = parseQuery(ctx.url, ListQuery);
    requireAdmin(p);
    return ctx.deps.orders.outbox.dead(q.limit ?? 1_000).map(deadLetterView);
  });

  authed(router, 'POST', '/api/webhooks/dead/:id/requeue', async (ctx, p) => {
    await readJson(ctx.req, Empty);
    requireAdmin(p);
    const raw = ctx.params['id'] ?? '';
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(id) || id < 1) throw notFound(`no dead letter ${raw}`);
    const entry = ctx.deps.orders.outbox.requeue(id, ctx.now());
    ctx.log.info({ outboxId: id, by: p.user }, 'webhook dead letter re-queued');
    try {
      ctx.deps.webhooks?.notify();
    } catch (err) {
      ctx.log.error({ err }, 'waking the webhook worker failed');
    }
    return deadLetterView(entry);
  });
}
