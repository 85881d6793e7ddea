/**
 * Orders: the user's orders (`GET /api/orders`, `GET /api/orders/{id}`) and the transitions people
 * make (acknowledge, ship, cancel), each answering with the updated order.
 */
import { Id, OrderState, OrderStates } from '../payloads.js';
import * as z from '../zod.js';
import { limitParam, listParam, orNull } from './common.js';

/** `GET /api/orders?state=open,acknowledged&site=…&limit=N` */
export const OrdersQuery = z.object({
  state: z.optional(listParam(OrderStates)),
  site: z.optional(Id),
  limit: z.optional(limitParam(10_000)),
});
export type OrdersQuery = z.infer<typeof OrdersQuery>;

/** `POST /api/orders/{id}/ship`: the quantity shipped, when not the quantity ordered. */
export const ShipOrderBody = z.strictObject({
  quantity: z.optional(z.number().check(z.int(), z.positive(), z.maximum(1_000_000))),
});
export type ShipOrderBody = z.infer<typeof ShipOrderBody>;

/** `POST /api/orders/{id}/cancel`: the reason goes to the log. */
export const CancelOrderBody = z.strictObject({ reason: z.optional(z.string().check(z.maxLength(500))) });
export type CancelOrderBody = z.infer<typeof CancelOrderBody>;

/** Webhook delivery states (`skipped`: the supplier has no webhook). */
export const DeliveryStates = ['pending', 'delivered', 'dead', 'skipped'] as const;
export const DeliveryState = z.enum(DeliveryStates);
export type DeliveryState = z.infer<typeof DeliveryState>;

/** The webhook delivery of the order's newest event. */
export const ApiDelivery = z.object({
  state: DeliveryState,
  attempts: z.number().check(z.int(), z.nonnegative()),
});
export type ApiDelivery = z.infer<typeof ApiDelivery>;

export const ApiOrder = z.object({
  id: z.string(),
  site: z.string(),
  shelf: z.string(),
  lane: z.string(),
  sku: z.string(),
  supplier: z.string(),
  state: OrderState,
  quantity: z.number(),
  shippedQuantity: orNull(z.number()),
  receivedQuantity: orNull(z.number()),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Null when no delivery was queued. */
  delivery: orNull(ApiDelivery),
});
export type ApiOrder = z.infer<typeof ApiOrder>;

/** Newest first. */
export const OrdersResponse = z.array(ApiOrder);
export type OrdersResponse = z.infer<typeof OrdersResponse>;
