/**
 * A purchase order as it leaves central: the webhook body of each version, and the API's view.
 */
import { randomUUID } from 'node:crypto';
import type { ApiPurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine } from '@shelfsense/protocol';
import type { PurchaseOrder } from './purchase-orders.js';

/** The webhook body of a PO as it stands. */
export function purchaseOrderEvent(po: PurchaseOrder, now: number): PurchaseOrderEvent {
  return {
    type: 'purchase_order',
    eventId: `evt_${randomUUID()}`,
    // Each version of a PO is sent once: the receiver processes each key once.
    idempotencyKey: `${po.id}:v${po.version}`,
    purchaseOrderId: po.id,
    version: po.version,
    state: po.state,
    site: po.site,
    supplier: po.supplier,
    urgent: po.urgent === 1,
    deliveryDueAt: po.deliveryDueAt,
    lines: po.lines
      .filter((l) => l.quantity > 0 || l.shippedQuantity !== null)
      .map((l) => ({
        sku: l.sku,
        quantity: l.quantity,
        shippedQuantity: l.shippedQuantity,
        receivedQuantity: l.receivedQuantity,
        lanes: po.needs
          .filter((n) => n.lineId === l.id)
          .map((n) => ({ shelf: n.shelf, lane: n.lane, quantity: n.quantity })),
      })),
    ts: now,
  };
}

/** The PO as the HTTP API shows it. */
export function purchaseOrderView(po: PurchaseOrder): ApiPurchaseOrder {
  return {
    id: po.id,
    site: po.site,
    supplier: po.supplier,
    state: po.state,
    urgent: po.urgent === 1,
    cutoffAt: po.cutoffAt,
    deliveryDueAt: po.deliveryDueAt,
    version: po.version,
    lines: po.lines.map(
      (l): PurchaseOrderLine => ({
        id: l.id,
        sku: l.sku,
        quantity: l.quantity,
        manualQuantity: l.manualQuantity,
        shippedQuantity: l.shippedQuantity,
        receivedQuantity: l.receivedQuantity,
        lanes: po.needs
          .filter((n) => n.lineId === l.id)
          .map((n) => ({
            shelf: n.shelf,
            lane: n.lane,
            orderId: n.orderId,
            quantity: n.quantity,
            shippedQuantity: n.shippedQuantity,
            receivedQuantity: n.receivedQuantity,
          })),
        proposal:
          l.proposedQuantity === null
            ? null
            : {
                quantity: l.proposedQuantity,
                note: l.proposalNote,
                by: l.proposedBy ?? '',
                at: l.proposedAt ?? 0,
              },
      }),
    ),
    createdAt: po.createdAt,
    updatedAt: po.updatedAt,
    sentAt: po.sentAt,
    acknowledgedAt: po.acknowledgedAt,
    shippedAt: po.shippedAt,
    receivedAt: po.receivedAt,
    closedAt: po.closedAt,
  };
}
