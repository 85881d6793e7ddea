/**
 * Purchase orders: one per supplier, site and delivery cycle, gathering the lane needs of every
 * SKU the supplier delivers there (docs/purchase-orders.md). Suppliers with a delivery schedule in
 * the catalogue get these instead of one order per lane; the webhook sends one event per PO change.
 */
import { EpochMs, Id } from '../payloads.js';
import * as z from '../zod.js';
import { limitParam, listParam, orNull } from './common.js';

/**
 * draft (gathering until the cut-off) → sent → acknowledged → shipped → received → closed, or
 * cancelled before it ships. `received` is set when every line has been counted on the shelf.
 */
export const PurchaseOrderStates = [
  'draft',
  'sent',
  'acknowledged',
  'shipped',
  'received',
  'closed',
  'cancelled',
] as const;
export const PurchaseOrderState = z.enum(PurchaseOrderStates);
export type PurchaseOrderState = z.infer<typeof PurchaseOrderState>;

const Quantity = z.number().check(z.int(), z.positive(), z.maximum(1_000_000));
const Count = z.number().check(z.int(), z.nonnegative(), z.maximum(1_000_000));

/** A lane whose need is part of a line. */
export const PurchaseOrderLane = z.object({
  shelf: Id,
  lane: Id,
  /** The lane's order (its need), one per lane and PO at most. */
  orderId: z.string(),
  quantity: z.number(),
  shippedQuantity: orNull(z.number()),
  receivedQuantity: orNull(z.number()),
});
export type PurchaseOrderLane = z.infer<typeof PurchaseOrderLane>;

/** A supplier's proposal to change a line's quantity, waiting for the operator. */
export const QuantityProposal = z.object({
  quantity: z.number(),
  note: orNull(z.string()),
  by: z.string(),
  at: z.number(),
});
export type QuantityProposal = z.infer<typeof QuantityProposal>;

/** One SKU of a PO: what the lanes need plus what was added by hand. */
export const PurchaseOrderLine = z.object({
  id: z.number(),
  sku: Id,
  quantity: z.number(),
  /** Of `quantity`, the items added by hand. */
  manualQuantity: z.number(),
  shippedQuantity: orNull(z.number()),
  receivedQuantity: orNull(z.number()),
  lanes: z.array(PurchaseOrderLane),
  proposal: orNull(QuantityProposal),
});
export type PurchaseOrderLine = z.infer<typeof PurchaseOrderLine>;

export const ApiPurchaseOrder = z.object({
  id: z.string(),
  site: Id,
  supplier: Id,
  state: PurchaseOrderState,
  /** Sent at once because a lane would run out before the next cycle's delivery. */
  urgent: z.boolean(),
  /** The cut-off it gathers for (null once sent early). */
  cutoffAt: orNull(EpochMs),
  /** When the cycle's goods are due. */
  deliveryDueAt: orNull(EpochMs),
  /** Grows with every change; the webhook's idempotency key names it. */
  version: z.number(),
  lines: z.array(PurchaseOrderLine),
  createdAt: EpochMs,
  updatedAt: EpochMs,
  sentAt: orNull(EpochMs),
  acknowledgedAt: orNull(EpochMs),
  shippedAt: orNull(EpochMs),
  receivedAt: orNull(EpochMs),
  closedAt: orNull(EpochMs),
});
export type ApiPurchaseOrder = z.infer<typeof ApiPurchaseOrder>;

/** Newest first. */
export const PurchaseOrdersResponse = z.array(ApiPurchaseOrder);
export type PurchaseOrdersResponse = z.infer<typeof PurchaseOrdersResponse>;

/** `GET /api/purchase-orders?state=sent,acknowledged&site=…&supplier=…&limit=N` */
export const PurchaseOrdersQuery = z.object({
  state: z.optional(listParam(PurchaseOrderStates)),
  site: z.optional(Id),
  supplier: z.optional(Id),
  limit: z.optional(limitParam(10_000)),
});
export type PurchaseOrdersQuery = z.infer<typeof PurchaseOrdersQuery>;

/** `POST /api/purchase-orders/{id}/ship`: per SKU, the quantity shipped (default: as ordered). */
export const ShipPurchaseOrderBody = z.strictObject({
  lines: z.optional(z.array(z.strictObject({ sku: Id, quantity: Count })).check(z.maxLength(1_000))),
});
export type ShipPurchaseOrderBody = z.infer<typeof ShipPurchaseOrderBody>;

/** `POST /api/purchase-orders/{id}/receive`: lines counted by hand (lanes count themselves). */
export const ReceivePurchaseOrderBody = z.strictObject({
  lines: z.array(z.strictObject({ sku: Id, quantity: Count })).check(z.minLength(1), z.maxLength(1_000)),
});
export type ReceivePurchaseOrderBody = z.infer<typeof ReceivePurchaseOrderBody>;

/** `POST /api/purchase-orders/{id}/cancel` */
export const CancelPurchaseOrderBody = z.strictObject({
  reason: z.optional(z.string().check(z.maxLength(500))),
});
export type CancelPurchaseOrderBody = z.infer<typeof CancelPurchaseOrderBody>;

/** `POST /api/purchase-orders/manual-lines`: an operator orders by hand. */
export const ManualLineBody = z.strictObject({
  site: Id,
  supplier: Id,
  sku: Id,
  quantity: Quantity,
  reason: z.string().check(z.minLength(1), z.maxLength(500)),
});
export type ManualLineBody = z.infer<typeof ManualLineBody>;

/** `POST /api/purchase-orders/{id}/lines/{sku}/propose`: the supplier asks for another quantity. */
export const ProposeQuantityBody = z.strictObject({
  quantity: Quantity,
  note: z.optional(z.string().check(z.maxLength(500))),
});
export type ProposeQuantityBody = z.infer<typeof ProposeQuantityBody>;

/** `POST /api/purchase-orders/{id}/lines/{sku}/accept|decline` */
export const DecideProposalBody = z.strictObject({
  note: z.optional(z.string().check(z.maxLength(500))),
});
export type DecideProposalBody = z.infer<typeof DecideProposalBody>;

/** The webhook body of a PO change (`type: purchase_order`), schemas/webhook-purchase-order.schema.json. */
export const PurchaseOrderEvent = z.object({
  type: z.literal('purchase_order'),
  eventId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** `{purchaseOrderId}:v{version}`: the receiver processes each key once. */
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(128)),
  purchaseOrderId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The PO's revision: a new one for each change (a state, an accepted quantity). */
  version: z.number().check(z.int(), z.positive()),
  state: PurchaseOrderState,
  site: Id,
  supplier: Id,
  urgent: z.boolean(),
  deliveryDueAt: orNull(EpochMs),
  lines: z.array(
    z.object({
      sku: Id,
      quantity: Count,
      shippedQuantity: orNull(Count),
      receivedQuantity: orNull(Count),
      lanes: z.array(z.object({ shelf: Id, lane: Id, quantity: Count })),
    }),
  ),
  ts: EpochMs,
});
export type PurchaseOrderEvent = z.infer<typeof PurchaseOrderEvent>;

export const DiscrepancyKinds = ['short', 'over', 'wrong-item'] as const;
export const DiscrepancyResolutions = ['accept', 'credit', 'redeliver'] as const;

/**
 * A PO line counted on the shelf different from what was shipped. `accept` takes the count as
 * delivered, `credit` records that the supplier credits the difference, `redeliver` orders the
 * missing items again on the site's next PO.
 */
export const ApiDiscrepancy = z.object({
  id: z.string(),
  purchaseOrderId: z.string(),
  site: Id,
  supplier: Id,
  sku: Id,
  kind: z.enum(DiscrepancyKinds),
  expected: z.number(),
  counted: z.number(),
  state: z.enum(['open', 'resolved']),
  resolution: orNull(z.enum(DiscrepancyResolutions)),
  note: orNull(z.string()),
  openedAt: EpochMs,
  resolvedAt: orNull(EpochMs),
  resolvedBy: orNull(z.string()),
});
export type ApiDiscrepancy = z.infer<typeof ApiDiscrepancy>;

export const DiscrepanciesResponse = z.array(ApiDiscrepancy);
export type DiscrepanciesResponse = z.infer<typeof DiscrepanciesResponse>;

/** `GET /api/discrepancies?state=open&site=…` */
export const DiscrepanciesQuery = z.object({
  state: z.optional(z.enum(['open', 'resolved'])),
  site: z.optional(Id),
  limit: z.optional(limitParam(10_000)),
});
export type DiscrepanciesQuery = z.infer<typeof DiscrepanciesQuery>;

/** `POST /api/discrepancies/{id}/resolve` */
export const ResolveDiscrepancyBody = z.strictObject({
  resolution: z.enum(DiscrepancyResolutions),
  note: z.optional(z.string().check(z.maxLength(500))),
});
export type ResolveDiscrepancyBody = z.infer<typeof ResolveDiscrepancyBody>;

/** A supplier's lead time at a site, learned from its delivered POs (sent → counted on the shelf). */
export const ApiLeadTime = z.object({
  site: Id,
  supplier: Id,
  /** Deliveries learned from (0: the schedule's nominal time only). */
  n: z.number(),
  meanMs: z.number(),
  stdMs: z.number(),
  /** The schedule's cut-off → delivery time, the prior the learning starts from (null: none). */
  nominalMs: orNull(z.number()),
});
export type ApiLeadTime = z.infer<typeof ApiLeadTime>;

export const LeadTimesResponse = z.array(ApiLeadTime);
export type LeadTimesResponse = z.infer<typeof LeadTimesResponse>;

/** `GET /api/purchase-orders/lead-times?site=…&supplier=…` and `GET /api/forecast?site=…&sku=…` */
export const ForecastQuery = z.object({
  site: z.optional(Id),
  supplier: z.optional(Id),
  sku: z.optional(Id),
});
export type ForecastQuery = z.infer<typeof ForecastQuery>;

/**
 * Stock and sales of one SKU at one site (summed over its lanes), what the supplier plans with:
 * daily demand over the last four weeks, when it runs out, the learned lead time and the reorder
 * point those give at the policy's service level.
 */
export const ApiForecast = z.object({
  site: Id,
  sku: Id,
  supplier: Id,
  lanes: z.number(),
  units: orNull(z.number()),
  demandPerDay: orNull(z.number()),
  demandStdPerDay: orNull(z.number()),
  stockOutAt: orNull(EpochMs),
  leadTimeDays: orNull(z.number()),
  serviceLevel: orNull(z.number()),
  safetyStock: orNull(z.number()),
  reorderPoint: orNull(z.number()),
  nextDeliveryAt: orNull(EpochMs),
});
export type ApiForecast = z.infer<typeof ApiForecast>;

export const ForecastResponse = z.array(ApiForecast);
export type ForecastResponse = z.infer<typeof ForecastResponse>;
