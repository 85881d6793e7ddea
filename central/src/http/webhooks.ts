/**
 * Webhook dead letters (admins only): order events whose delivery used up its attempts, and
 * re-queueing one with a fresh attempt budget (the delivery worker is woken at once).
 */
import {
  type ApiDeadLetter,
  DeadLettersQuery,
  type DeadLettersResponse,
  EmptyBody,
  type OrderEvent,
} from '@shelfsense/protocol';
import type { OutboxEntry } from '../webhooks/outbox.js';
import { type ApiRouter, authed } from './context.js';
import { forbidden, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { may, type Principal } from './scope.js';

export function deadLetterView(e: OutboxEntry): ApiDeadLetter {
  let event: OrderEvent | null = null;
  try {
    // Central wrote the body from an OrderEvent (orders.ts), so it is read back as one.
    event = JSON.parse(e.body) as OrderEvent;
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
  authed(router, 'GET', '/api/webhooks/dead', async (ctx, p): Promise<DeadLettersResponse> => {
    const q = parseQuery(ctx.url, DeadLettersQuery);
    requireAdmin(p);
    return ctx.deps.orders.outbox.dead(q.limit ?? 1_000).map(deadLetterView);
  });

  authed(router, 'POST', '/api/webhooks/dead/:id/requeue', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
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
