/**
 * Webhook dead letters (admins): order events whose delivery used up its attempts
 * (`GET /api/webhooks/dead`), and re-queueing one, which answers with the entry.
 */
import { OrderEvent } from '../payloads.js';
import * as z from '../zod.js';
import { limitParam, orNull } from './common.js';
import { DeliveryState } from './orders.js';

/** `GET /api/webhooks/dead?limit=N` */
export const DeadLettersQuery = z.object({ limit: z.optional(limitParam(10_000)) });
export type DeadLettersQuery = z.infer<typeof DeadLettersQuery>;

export const ApiDeadLetter = z.object({
  id: z.number().check(z.int(), z.positive()),
  eventId: z.string(),
  orderId: z.string(),
  supplier: z.string(),
  idempotencyKey: z.string(),
  state: DeliveryState,
  attempts: z.number().check(z.int(), z.nonnegative()),
  lastStatus: orNull(z.number()),
  lastError: orNull(z.string()),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** The order event as sent; null when its stored text cannot be read. */
  event: z.nullable(OrderEvent),
});
export type ApiDeadLetter = z.infer<typeof ApiDeadLetter>;

export const DeadLettersResponse = z.array(ApiDeadLetter);
export type DeadLettersResponse = z.infer<typeof DeadLettersResponse>;
