/**
 * Alerts: the user's alerts (newest first; by default the live ones) and acknowledging one — an
 * operator or technician of the site, or an admin. Visibility is the lane's `alert` topic, so a
 * supplier sees none; an alert out of scope answers 404 by id too.
 */
import { AlertsQuery, type AlertsResponse, type ApiAlert, EmptyBody, ID_PATTERN } from '@shelfsense/protocol';
import { type AlertRow, alertEvent } from '../store/alerts.js';
import { type ApiRouter, actorOf, authed, type RequestContext } from './context.js';
import { forbidden, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import { canReadLane, may, type Principal } from './scope.js';

const SCAN_LIMIT = 100_000;

export function alertView(a: AlertRow): ApiAlert {
  return {
    id: a.id,
    kind: a.kind,
    state: a.state,
    site: a.site,
    shelf: a.shelf,
    lane: a.lane,
    message: a.message,
    openedAt: a.openedAt,
    updatedAt: a.updatedAt,
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    clearedAt: a.clearedAt,
  };
}

function canSeeAlert(ctx: RequestContext, p: Principal, a: AlertRow): boolean {
  return canReadLane(p, a, 'alert', ctx.deps.map);
}

export function alertRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/alerts', async (ctx, p): Promise<AlertsResponse> => {
    const q = parseQuery(ctx.url, AlertsQuery);
    const states = [...new Set(q.state ?? (['open', 'acknowledged'] as const))];
    const kinds = q.kind ? new Set(q.kind) : null;
    return states
      .flatMap((state) => ctx.deps.store.alerts.list({ state, site: q.site, limit: SCAN_LIMIT }))
      .filter((a) => (kinds === null || kinds.has(a.kind)) && canSeeAlert(ctx, p, a))
      .sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, q.limit ?? 1_000)
      .map(alertView);
  });

  authed(router, 'POST', '/api/alerts/:id/acknowledge', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const id = ctx.params['id'] ?? '';
    const a = ID_PATTERN.test(id) ? ctx.deps.store.alerts.get(id) : undefined;
    if (!a || !canSeeAlert(ctx, p, a)) throw notFound(`no alert ${id}`);
    if (!may(p, 'alert.acknowledge')) throw forbidden(`the ${p.grant.role} role may not acknowledge alerts`);
    const before = a.state;
    const updated = ctx.deps.store.alerts.acknowledge(id, actorOf(p), ctx.now());
    if (before !== updated.state && ctx.deps.onAlert) {
      try {
        ctx.deps.onAlert(alertEvent(updated));
      } catch (err) {
        ctx.log.error({ err, alertId: id }, 'alert listener failed');
      }
    }
    return alertView(updated);
  });
}
