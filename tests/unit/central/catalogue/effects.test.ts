/**
 * What a new catalogue does to the live orders: an order whose lane is gone, holds another SKU, or
 * whose SKU has another supplier is cancelled with the reason while it can be (open,
 * acknowledged); a shipped one is kept and named; a received one is left to close.
 */
import {
  diffCatalogues,
  orderEffects,
  REASONS,
  renderDiff,
  renderSummary,
} from '@shelfsense/central/catalogue';
import type { OrderRow } from '@shelfsense/central/store';
import type { OrderState } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { copy, small } from './fixtures.js';

function order(id: string, lane: string, state: OrderState = 'open', over: Partial<OrderRow> = {}): OrderRow {
  const [site, shelf, l] = lane.split('/') as [string, string, string];
  const sku = small()
    .sites.find((s) => s.id === site)
    ?.shelves.find((h) => h.id === shelf)
    ?.lanes.find((x) => x.id === l)?.sku as string;
  return {
    id,
    site,
    shelf,
    lane: l,
    sku,
    supplier: small().skus.find((s) => s.id === sku)?.supplier as string,
    state,
    quantity: 6,
    shippedQuantity: null,
    receivedQuantity: null,
    reason: '{"trigger":"rules"}',
    createdAt: 0,
    updatedAt: 0,
    version: 1,
    ...over,
  };
}

const A0 = 'store-1/shelf-a/L0';
const A1 = 'store-1/shelf-a/L1';
const B0 = 'store-1/shelf-b/L0';

describe('effects on open orders', () => {
  it('an unchanged catalogue touches no order', () => {
    expect(orderEffects(small(), [order('o1', A0), order('o2', B0, 'acknowledged')])).toEqual([]);
  });

  it('[lane given to another SKU] its open order is cancelled with the reason', () => {
    const next = copy(small());
    next.sites[0]!.shelves[0]!.lanes[0]!.sku = 'fanta-330';
    expect(orderEffects(next, [order('o1', A0), order('o2', A1)])).toEqual([
      { orderId: 'o1', lane: A0, state: 'open', action: 'cancel', reason: REASONS.otherSku },
    ]);
  });

  it("[SKU's supplier changed] every live order of that SKU is cancelled", () => {
    const next = copy(small());
    next.skus[2]!.supplier = 'acme';
    expect(orderEffects(next, [order('o1', A0), order('o3', B0, 'acknowledged')])).toEqual([
      { orderId: 'o3', lane: B0, state: 'acknowledged', action: 'cancel', reason: REASONS.otherSupplier },
    ]);
  });

  it('[lane removed] by its own removal, its shelf’s or its site’s, each with its reason', () => {
    const lane = copy(small());
    lane.sites[0]!.shelves[0]!.lanes.pop();
    lane.replenishment.lanes = [];
    expect(orderEffects(lane, [order('o2', A1)])[0]?.reason).toBe(REASONS.laneRemoved);
    const shelf = copy(lane);
    shelf.sites[0]!.shelves.pop();
    expect(orderEffects(shelf, [order('o3', B0)])[0]?.reason).toBe(REASONS.shelfRemoved);
    const site = copy(shelf);
    site.sites = [];
    site.replenishment.lanes = [];
    expect(orderEffects(site, [order('o1', A0)])[0]?.reason).toBe(REASONS.siteRemoved);
  });

  it('a shipped order cannot be cancelled: kept and named; a received one is left to close', () => {
    const next = copy(small());
    next.sites = [];
    next.replenishment.lanes = [];
    expect(orderEffects(next, [order('o1', A0, 'shipped'), order('o2', A1, 'received')])).toEqual([
      { orderId: 'o1', lane: A0, state: 'shipped', action: 'keep', reason: REASONS.siteRemoved },
    ]);
  });

  it('an order opened under an older catalogue is judged by what it asks for, not by the last diff', () => {
    // The lane moved to fanta in an earlier version while this cola order stayed live.
    const stale = order('o1', A0, 'open', { sku: 'cola-330' });
    const before = copy(small());
    before.sites[0]!.shelves[0]!.lanes[0]!.sku = 'fanta-330';
    const next = copy(before);
    next.sites[0]!.shelves[0]!.lanes[0]!.capacity = 30;
    expect(diffCatalogues(before, next).map((c) => c.fields)).toEqual([['capacity']]);
    expect(orderEffects(next, [stale])).toEqual([
      expect.objectContaining({ orderId: 'o1', action: 'cancel' }),
    ]);
  });

  it('renders the effect on the lane line, or on a line of its own for a lane the diff does not name', () => {
    const next = copy(small());
    next.sites[0]!.shelves[0]!.lanes[0]!.sku = 'fanta-330';
    next.skus[2]!.supplier = 'acme';
    next.sites[0]!.shelves[0]!.lanes.pop();
    next.replenishment.lanes = [];
    const effects = orderEffects(next, [
      order('ord_1', A0),
      order('ord_2', A1, 'shipped'),
      order('ord_3', B0, 'acknowledged'),
    ]);
    const changes = diffCatalogues(small(), next);
    expect(renderDiff(changes, effects)).toEqual([
      '~ sku chips: supplier crunchy → acme',
      '~ lane store-1/shelf-a/L0: sku cola-330 → fanta-330 (cancels order ord_1: lane given to another SKU)',
      '- lane store-1/shelf-a/L1 (keeps order ord_2, lane removed: it is shipped and cannot be cancelled; receive it by hand)',
      '- policy lane store-1/shelf-a/L0',
      "! lane store-1/shelf-b/L0 (cancels order ord_3: SKU's supplier changed)",
    ]);
    expect(renderSummary(changes, effects)).toBe(
      '0 added, 2 changed, 2 removed; 2 open orders cancelled, 1 kept (already shipped)',
    );
  });
});
