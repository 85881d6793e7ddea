/**
 * The effective replenishment policy of one lane, field by field: lane override, else SKU override,
 * else site override, else defaults;
 * order-up-to falls back to the lane's capacity. A lane without a reorder point and an order-up-to
 * level is not managed (it still raises alerts, never orders).
 */

import { safetyStock } from '../orders/lead-time.js';
import type { PolicyOverride, ReplenishmentConfig } from './config.js';
import type { LaneInfo } from './lanes.js';
import { DAY_MS } from './rate.js';

export interface LanePolicy {
  reorderPoint: number;
  orderUpTo: number;
  packSize: number;
  minOrderQty: number;
  leadTimeMs: number;
  debounceMs: number;
  hysteresis: number;
  safetyStock: number;
  dynamicReorderPoint: boolean;
  /** null: the fixed safety stock and the configured lead time. */
  serviceLevel: number | null;
  enabled: boolean;
}

/** A supplier's lead time at a site, learned from its delivered purchase orders. */
export interface LearnedLeadTime {
  meanMs: number;
  stdMs: number;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The lane's policy, or null with the reason when the lane is not managed. */
export function resolvePolicy(
  cfg: ReplenishmentConfig,
  lane: Pick<LaneInfo, 'site' | 'shelf' | 'lane' | 'sku' | 'capacity'>,
): { policy: LanePolicy; reason?: undefined } | { policy: null; reason: string } {
  const sku = cfg.skus.find((s) => s.sku === lane.sku);
  const site = cfg.sites.find((s) => s.site === lane.site);
  const own = cfg.lanes.find((l) => l.site === lane.site && l.shelf === lane.shelf && l.lane === lane.lane);
  const strip = (o: (PolicyOverride & Record<string, unknown>) | undefined) => {
    if (!o) return {};
    const { sku: _s, site: _a, shelf: _b, lane: _c, ...rest } = o;
    return defined(rest as PolicyOverride);
  };
  const merged = { ...defined(cfg.defaults), ...strip(site), ...strip(sku), ...strip(own) };
  const reorderPoint = merged.reorderPoint;
  const orderUpTo = merged.orderUpTo ?? lane.capacity ?? undefined;
  if (reorderPoint === undefined) return { policy: null, reason: 'no reorderPoint configured' };
  if (orderUpTo === undefined)
    return { policy: null, reason: 'no orderUpTo configured and no lane capacity' };
  if (orderUpTo <= reorderPoint) {
    return { policy: null, reason: `orderUpTo (${orderUpTo}) is not above reorderPoint (${reorderPoint})` };
  }
  const d = cfg.defaults;
  return {
    policy: {
      reorderPoint,
      orderUpTo,
      packSize: merged.packSize ?? d.packSize,
      minOrderQty: merged.minOrderQty ?? d.minOrderQty,
      leadTimeMs: merged.leadTimeMs ?? d.leadTimeMs,
      debounceMs: merged.debounceMs ?? d.debounceMs,
      hysteresis: merged.hysteresis ?? d.hysteresis,
      safetyStock: merged.safetyStock ?? d.safetyStock,
      dynamicReorderPoint: merged.dynamicReorderPoint ?? d.dynamicReorderPoint,
      serviceLevel: merged.serviceLevel ?? d.serviceLevel ?? null,
      enabled: merged.enabled ?? d.enabled,
    },
  };
}

/**
 * The reorder point in force: the configured one, or — when the dynamic reorder point is on and
 * at least `minHistoryMs` of consumption has been observed — ceil(rate × lead time + safety stock),
 * kept below the order-up-to level so an order always has something to bring. With a service
 * level, the lead time is the learned one (else the configured one) and the safety stock covers
 * demand and lead-time variability at that level: the measured spread of daily demand once the
 * lane has a week of it, else Poisson (variance = mean, what independent shoppers give).
 */
export function reorderPointFor(
  policy: LanePolicy,
  ratePerMs: number | null,
  historyMs: number,
  minHistoryMs: number,
  learned: LearnedLeadTime | null = null,
  demandStd: number | null = null,
): number {
  if (!policy.dynamicReorderPoint || ratePerMs === null || historyMs < minHistoryMs)
    return policy.reorderPoint;
  let dynamic: number;
  if (policy.serviceLevel !== null && ratePerMs > 0) {
    const d = ratePerMs * DAY_MS;
    const input = {
      demandPerDayMean: d,
      demandPerDayStd: demandStd ?? Math.sqrt(d),
      leadTimeDaysMean: (learned?.meanMs ?? policy.leadTimeMs) / DAY_MS,
      leadTimeDaysStd: (learned?.stdMs ?? 0) / DAY_MS,
      serviceLevel: policy.serviceLevel,
    };
    const ss = Math.max(safetyStock(input), policy.safetyStock);
    dynamic = Math.ceil(d * input.leadTimeDaysMean + ss);
  } else {
    dynamic = Math.ceil(ratePerMs * (learned?.meanMs ?? policy.leadTimeMs) + policy.safetyStock);
  }
  return Math.max(0, Math.min(dynamic, policy.orderUpTo - 1));
}
