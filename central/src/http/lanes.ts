/**
 * Lanes: the list and one lane (lane-view.ts), a lane's level and event history over a time range,
 * and its calibration records. A lane outside the user's scope answers 404 like an absent one.
 *
 * The history comes from the configured history store (SQLite or InfluxDB, `historyOf`). The lane
 * view's newest level and the calibration records come from the central store, which ingest
 * commits every reading to first: the newest level is there before InfluxDB's batched writer has
 * flushed it (and whatever InfluxDB's downsampling or retention dropped), and the calibration
 * audit outlives InfluxDB's retention.
 */

import {
  type ApiLane,
  CalibrationsQuery,
  type CalibrationsResponse,
  type HistoryResponse,
  type LaneInfo,
  LanesQuery,
  type LanesResponse,
  RangeQuery,
} from '@shelfsense/protocol';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { historyOf } from './deps.js';
import { forbidden, notFound } from './errors.js';
import { parseQuery } from './io.js';
import { laneView, laneViews } from './lane-view.js';
import { resolveRange } from './params.js';
import { may, type Principal, visibleLane, visibleLanes } from './scope.js';

const LANE = '/api/lanes/:site/:shelf/:lane';

/** The lane named by the path, or 404 when it is absent or out of scope. */
export function laneFromPath(ctx: RequestContext, p: Principal): LaneInfo {
  const ref = {
    site: ctx.params['site'] ?? '',
    shelf: ctx.params['shelf'] ?? '',
    lane: ctx.params['lane'] ?? '',
  };
  const lane = visibleLane(p, ref, ctx.deps.map);
  if (!lane) throw notFound(`no lane ${ref.site}/${ref.shelf}/${ref.lane}`);
  return lane;
}

/** The level and event history of one lane in [from, to), from the configured history store. */
export async function laneHistory(
  ctx: RequestContext,
  lane: LaneInfo,
  from: number,
  to: number,
): Promise<HistoryResponse> {
  const ref = { site: lane.site, shelf: lane.shelf, lane: lane.lane, from, to };
  const history = historyOf(ctx.deps);
  const [levels, events] = await Promise.all([history.levels(ref), history.events(ref)]);
  return {
    levels: levels.map((r) => ({ ts: r.ts, units: r.units, grams: r.grams, state: r.state })),
    events: events.map((e) => ({ ts: e.ts, kind: e.kind, delta: e.delta, units: e.units })),
  };
}

export function laneRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/lanes', async (ctx, p): Promise<LanesResponse> => {
    parseQuery(ctx.url, LanesQuery);
    return laneViews(ctx.deps, visibleLanes(p, ctx.deps.map), ctx.now());
  });

  authed(router, 'GET', LANE, async (ctx, p): Promise<ApiLane> => {
    parseQuery(ctx.url, LanesQuery);
    return laneView(ctx.deps, laneFromPath(ctx, p), ctx.now());
  });

  authed(router, 'GET', `${LANE}/history`, async (ctx, p): Promise<HistoryResponse> => {
    const q = parseQuery(ctx.url, RangeQuery);
    const lane = laneFromPath(ctx, p);
    const { from, to } = resolveRange(q, ctx.now());
    return laneHistory(ctx, lane, from, to);
  });

  authed(router, 'GET', `${LANE}/calibrations`, async (ctx, p): Promise<CalibrationsResponse> => {
    const q = parseQuery(ctx.url, CalibrationsQuery);
    const lane = laneFromPath(ctx, p);
    if (!may(p, 'calibrations.read'))
      throw forbidden(`the ${p.grant.role} role may not read calibration records`);
    const rows = ctx.deps.store.history.calibrations({ site: lane.site, shelf: lane.shelf, lane: lane.lane });
    return rows
      .reverse()
      .slice(0, q.limit ?? 1_000)
      .map((r) => ({ id: `${r.agent}:${r.seq}`, ...r.record }));
  });
}
