/**
 * What a supplier plans with (docs/purchase-orders.md): per SKU and site, stock on the shelves and
 * sales per day over the last four weeks, when it runs out at that rate, the lead time learned from
 * the supplier's delivered purchase orders, and the reorder point in force. A supplier sees its
 * own SKUs only, an operator its sites'.
 */
import {
  type ApiForecast,
  type ApiLeadTime,
  ForecastQuery,
  type ForecastResponse,
  type LaneInfo,
} from '@shelfsense/protocol';
import { dailyDemand, forecast } from '../orders/forecast.js';
import { safetyStock } from '../orders/lead-time.js';
import { nextCycle } from '../orders/schedule.js';
import { resolvePolicy } from '../rules/policy.js';
import { DAY_MS } from '../rules/rate.js';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { historyOf } from './deps.js';
import { parseQuery } from './io.js';
import { canSeePurchaseOrder } from './purchase-orders.js';
import { type Principal, visibleLanes } from './scope.js';

/** Days of sales the forecast averages. */
const DEMAND_DAYS = 28;

function lanesFor(ctx: RequestContext, p: Principal, q: ForecastQuery): LaneInfo[] {
  return visibleLanes(p, ctx.deps.map).filter(
    (l) =>
      (q.site === undefined || l.site === q.site) &&
      (q.sku === undefined || l.sku === q.sku) &&
      (q.supplier === undefined || l.supplier === q.supplier) &&
      // A supplier plans its own SKUs only, whoever else's lanes it may read.
      (p.grant.role !== 'supplier' || l.supplier === p.grant.supplier),
  );
}

const scheduleOf = (ctx: RequestContext, supplier: string) =>
  ctx.deps.catalogue?.config().suppliers.find((s) => s.id === supplier)?.schedule ??
  ctx.deps.purchaseOrders?.schedule(supplier);

export function forecastRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/purchase-orders/lead-times', async (ctx, p): Promise<ApiLeadTime[]> => {
    const q = parseQuery(ctx.url, ForecastQuery);
    const pos = ctx.deps.purchaseOrders;
    if (!pos) return [];
    const pairs = new Map<string, { site: string; supplier: string }>();
    for (const l of lanesFor(ctx, p, q))
      pairs.set(`${l.site} ${l.supplier}`, { site: l.site, supplier: l.supplier });
    return [...pairs.values()]
      .filter((x) => canSeePurchaseOrder(p, x))
      .map((x) => pos.learnedLeadTime(x.site, x.supplier, ctx.now()))
      .filter((x): x is ApiLeadTime => x !== null);
  });

  authed(router, 'GET', '/api/forecast', async (ctx, p): Promise<ForecastResponse> => {
    const q = parseQuery(ctx.url, ForecastQuery);
    const now = ctx.now();
    const lanes = lanesFor(ctx, p, q);
    const groups = new Map<string, LaneInfo[]>();
    for (const l of lanes) {
      const key = `${l.site} ${l.sku}`;
      groups.set(key, [...(groups.get(key) ?? []), l]);
    }
    const history = historyOf(ctx.deps);
    const out: ApiForecast[] = [];
    for (const group of groups.values()) {
      const first = group[0] as LaneInfo;
      const schedule = scheduleOf(ctx, first.supplier);
      const timezone = schedule?.timezone ?? 'UTC';
      let units: number | null = null;
      let mean: number | null = null;
      let variance = 0;
      let reorderPoint: number | null = null;
      for (const l of group) {
        const ref = { site: l.site, shelf: l.shelf, lane: l.lane };
        const [latest] = await history.latest(ref);
        if (latest) units = (units ?? 0) + latest.level.units;
        const levels = await history.levels({ ...ref, from: now - (DEMAND_DAYS + 1) * DAY_MS, to: now });
        const demand = dailyDemand(
          levels.map((r) => ({ ts: r.ts, units: r.units })),
          { timezone, days: DEMAND_DAYS, now },
        );
        if (demand.mean !== null) {
          mean = (mean ?? 0) + demand.mean;
          variance += (demand.std ?? 0) ** 2;
        }
        const rop =
          ctx.deps.rules?.status(ref, now)?.reorderPoint ??
          resolvePolicy(ctx.deps.replenishment, l).policy?.reorderPoint;
        if (rop !== undefined && rop !== null) reorderPoint = (reorderPoint ?? 0) + rop;
      }
      const learned = ctx.deps.purchaseOrders?.learnedLeadTime(first.site, first.supplier, now) ?? null;
      const policy = resolvePolicy(ctx.deps.replenishment, first).policy;
      const serviceLevel = policy?.serviceLevel ?? null;
      const leadTimeMs = learned?.meanMs ?? policy?.leadTimeMs ?? null;
      const ss =
        serviceLevel !== null && mean !== null && leadTimeMs !== null
          ? safetyStock({
              demandPerDayMean: mean,
              demandPerDayStd: Math.sqrt(variance),
              leadTimeDaysMean: leadTimeMs / DAY_MS,
              leadTimeDaysStd: (learned?.stdMs ?? 0) / DAY_MS,
              serviceLevel,
            })
          : null;
      const f = units === null ? null : forecast({ units, demandPerDayMean: mean, now });
      out.push({
        site: first.site,
        sku: first.sku,
        supplier: first.supplier,
        lanes: group.length,
        units,
        demandPerDay: mean,
        demandStdPerDay: mean === null ? null : Math.sqrt(variance),
        stockOutAt: f?.stockoutAt ?? null,
        leadTimeDays: leadTimeMs === null ? null : leadTimeMs / DAY_MS,
        serviceLevel,
        safetyStock: ss,
        reorderPoint,
        nextDeliveryAt: schedule ? nextCycle(schedule, now).deliveryAt : null,
      });
    }
    return out.sort((a, b) => (a.site + a.sku < b.site + b.sku ? -1 : 1));
  });
}
