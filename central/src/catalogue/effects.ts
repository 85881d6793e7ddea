/**
 * What a new catalogue does to the live orders. An order is for one lane, one SKU and that SKU's
 * supplier; when the new catalogue no longer has that lane, gives it another SKU, or gives its SKU
 * another supplier, the order asks for goods nobody wants from that supplier any more:
 *
 *   open or acknowledged  → cancelled, with the reason (the supplier gets the cancel event);
 *   shipped               → kept: the goods are on their way and a shipped order cannot be
 *                           cancelled; it is listed so someone receives it by hand;
 *   received              → nothing: its goods are on the shelf and it closes by itself.
 *
 * Each live order is checked against the new catalogue itself rather than against the diff, so an
 * order opened under an older version is judged by what it asks for, not by the last change.
 */
import type { Catalogue, OrderState } from '@shelfsense/protocol';
import { canTransition } from '../orders/transitions.js';
import type { OrderRow } from '../store/orders.js';
import type { OrdersRepository } from '../store/repositories.js';

export type EffectAction = 'cancel' | 'keep';

export interface OrderEffect {
  orderId: string;
  /** `site/shelf/lane` */
  lane: string;
  state: OrderState;
  action: EffectAction;
  reason: string;
}

export const REASONS = {
  siteRemoved: 'site removed',
  shelfRemoved: 'shelf removed',
  laneRemoved: 'lane removed',
  otherSku: 'lane given to another SKU',
  otherSupplier: "SKU's supplier changed",
} as const;

type LiveOrder = Pick<OrderRow, 'id' | 'site' | 'shelf' | 'lane' | 'sku' | 'supplier' | 'state'>;

/** Where each lane's goods come from in a catalogue, indexed once for all the orders. */
function index(c: Catalogue) {
  const supplierOf = new Map(c.skus.map((s) => [s.id, s.supplier]));
  const shelves = new Set<string>();
  const lanes = new Map<string, string>();
  for (const site of c.sites) {
    for (const shelf of site.shelves) {
      shelves.add(`${site.id}/${shelf.id}`);
      for (const lane of shelf.lanes) lanes.set(`${site.id}/${shelf.id}/${lane.id}`, lane.sku);
    }
  }
  return { sites: new Set(c.sites.map((s) => s.id)), shelves, lanes, supplierOf };
}

/** Why the order no longer fits the catalogue, or null when it still does. */
function misfit(at: ReturnType<typeof index>, o: LiveOrder): string | null {
  if (!at.sites.has(o.site)) return REASONS.siteRemoved;
  if (!at.shelves.has(`${o.site}/${o.shelf}`)) return REASONS.shelfRemoved;
  const sku = at.lanes.get(`${o.site}/${o.shelf}/${o.lane}`);
  if (sku === undefined) return REASONS.laneRemoved;
  if (sku !== o.sku) return REASONS.otherSku;
  if (at.supplierOf.get(o.sku) !== o.supplier) return REASONS.otherSupplier;
  return null;
}

/** The effects of `after` on the given live orders, in their order. */
export function orderEffects(after: Catalogue, live: readonly LiveOrder[]): OrderEffect[] {
  const at = index(after);
  const out: OrderEffect[] = [];
  for (const o of live) {
    if (o.state === 'received' || o.state === 'closed' || o.state === 'cancelled') continue;
    const reason = misfit(at, o);
    if (!reason) continue;
    out.push({
      orderId: o.id,
      lane: `${o.site}/${o.shelf}/${o.lane}`,
      state: o.state,
      action: canTransition(o.state, 'cancelled') ? 'cancel' : 'keep',
      reason,
    });
  }
  return out;
}

/** The effects of `after` on every live order in the store. */
export function liveOrderEffects(after: Catalogue, orders: OrdersRepository): OrderEffect[] {
  // One live order per lane at most, so the list's ceiling is far above any store's lanes.
  return orderEffects(after, orders.list({ state: 'live', limit: 100_000 }));
}
