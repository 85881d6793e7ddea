/**
 * The lane view of the API: the shelf map's facts about a lane, its newest level, the agent's
 * status, the shelf's health, the live order, the policy and the forecast — and the status derived
 * from them (`laneStatus` in the contract package). Anything not known yet is null.
 */

import type { ApiLane, LaneInfo, LaneRef } from '@shelfsense/protocol';
import { type LevelPayload, laneStatus } from '@shelfsense/protocol';
import type { Order } from '../orders/orders.js';
import { resolvePolicy } from '../rules/policy.js';
import type { ApiDeps, SkuInfo } from './deps.js';
import { laneHealth } from './lane-health.js';

export const DEFAULT_OFFLINE_AFTER_MS = 120_000;

/** The lane view is the contract's `ApiLane`: a field added here and not there fails to compile. */
export type LaneView = ApiLane;

const key = (r: LaneRef) => `${r.site}/${r.shelf}/${r.lane}`;
const skuNameCache = new WeakMap<readonly SkuInfo[], Map<string, string>>();

function skuName(skus: readonly SkuInfo[] | undefined, id: string): string | null {
  if (!skus) return null;
  let names = skuNameCache.get(skus);
  if (!names) {
    names = new Map(skus.filter((s) => s.name !== undefined).map((s) => [s.id, s.name as string]));
    skuNameCache.set(skus, names);
  }
  return names.get(id) ?? null;
}

/** Finite numbers rounded to 3 decimals; anything else (unknown, infinite) is null. */
function num(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000;
}

function view(
  deps: ApiDeps,
  lane: LaneInfo,
  level: LevelPayload | undefined,
  order: Order | undefined,
  now: number,
) {
  const status = deps.rules?.status(lane, now);
  const policy = status ? status.policy : resolvePolicy(deps.replenishment, lane).policy;
  const reorderPoint = status ? status.reorderPoint : (policy?.reorderPoint ?? null);
  const agentStatus = deps.live?.agentStatus(lane.site, lane.agent);
  const agentOnline = agentStatus ? agentStatus.state === 'online' : null;
  const health = laneHealth(deps.live?.shelfHealth(lane.site, lane.shelf), lane.channels);
  const f = status?.forecast;
  const offlineAfterMs = deps.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
  const v: LaneView = {
    site: lane.site,
    shelf: lane.shelf,
    lane: lane.lane,
    sku: lane.sku,
    skuName: skuName(deps.skus, lane.sku),
    supplier: lane.supplier,
    unitWeightG: lane.unitWeightG,
    capacity: lane.capacity,
    units: level?.units ?? null,
    grams: level?.grams ?? null,
    fill: level?.fill ?? null,
    state: level?.state ?? null,
    stable: level?.stable ?? null,
    confidence: level?.confidence ?? null,
    status: laneStatus({
      now,
      offlineAfterMs,
      agentOnline,
      levelTs: level?.ts ?? null,
      state: level?.state ?? null,
      condition: status?.condition ?? null,
      health,
      units: level?.units ?? null,
      orderState: order?.state ?? null,
      reorderPoint,
    }),
    offlineAfterMs,
    reorderPoint,
    orderUpTo: policy?.orderUpTo ?? null,
    ratePerDay: num(f?.ratePerDay),
    daysOfCover: num(f?.daysOfCover),
    stockoutAt: f?.stockOutAt ?? null,
    agent: lane.agent,
    agentOnline,
    health,
    updatedAt: level?.ts ?? null,
    openOrder: order ? { id: order.id, state: order.state, quantity: order.quantity } : null,
  };
  return v;
}

/** Views of many lanes, with one query for the levels and one for the live orders. */
export function laneViews(deps: ApiDeps, lanes: readonly LaneInfo[], now: number): LaneView[] {
  if (lanes.length === 0) return [];
  const levels = new Map(deps.store.history.latest().map((r) => [key(r), r.level]));
  const orders = new Map(deps.orders.list({ state: 'live', limit: 100_000 }).map((o) => [key(o), o]));
  return lanes.map((l) => view(deps, l, levels.get(key(l)), orders.get(key(l)), now));
}

export function laneView(deps: ApiDeps, lane: LaneInfo, now: number): LaneView {
  const level = deps.store.history.latest({ site: lane.site, shelf: lane.shelf, lane: lane.lane })[0]?.level;
  return view(deps, lane, level, deps.orders.live(lane), now);
}
