/**
 * The central side's HTTP API under `/api` (docs/http-api.md), as one handler the central server
 * mounts beside the dashboard, `/mqtt` and `/metrics`: it answers every request under `/api` and
 * returns false, touching nothing, for any other path.
 *
 * Each request: route (404 / 405), bearer token (401), then the route's own checks in the order
 * body or query (400), scope (404 as if absent), role (403), and the action (409 for an illegal
 * transition). Every answer is JSON except the CSV export; every error has one shape (errors.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { childLogger } from '@shelfsense/protocol';
import { Counter, type Registry } from 'prom-client';
import { alertRoutes } from './alerts.js';
import { auditRoutes } from './audit.js';
import { authenticate, authRoutes } from './auth.js';
import { catalogueRoutes } from './catalogue.js';
import { commandRoutes } from './commands.js';
import { type RequestContext, type RouteEntry, STREAMED } from './context.js';
import type { ApiDeps } from './deps.js';
import { HttpError, HttpErrorCodes, mapError, notFound } from './errors.js';
import { exportRoutes } from './export.js';
import { forecastRoutes } from './forecast.js';
import { sendJson } from './io.js';
import { laneRoutes } from './lanes.js';
import { notificationRoutes } from './notifications.js';
import { observationRoutes } from './observations.js';
import { orderRoutes } from './orders.js';
import { purchaseOrderRoutes } from './purchase-orders.js';
import { Router } from './router.js';
import { shelvesRoutes } from './shelves.js';
import { usersRoutes } from './users.js';
import { webhookRoutes } from './webhooks.js';

export const API_PREFIX = '/api';

/**
 * `shelfsense_http_requests_total{route, method, status}`: API requests counted by route pattern
 * (never the raw path, so ids do not blow up the label set), on the Registry passed in.
 */
export const HTTP_REQUESTS_METRIC = 'shelfsense_http_requests_total';

/**
 * `shelfsense_login_refused_total{channel, reason}`: logins the user store's limiter refused
 * without checking the secret (channel `http` or `mqtt`; reason `name`, `address`, or `full` when
 * the table is full of locks), read from the store at scrape time.
 */
export const LOGIN_REFUSED_METRIC = 'shelfsense_login_refused_total';

export interface ApiMetrics {
  observe(route: string, method: string, status: number): void;
}

const NONE: ApiMetrics = { observe() {} };
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export function apiMetrics(registry: Registry | undefined): ApiMetrics {
  if (!registry) return NONE;
  // A second API on the same registry (a restart in one process) shares the counter.
  const existing = registry.getSingleMetric(HTTP_REQUESTS_METRIC);
  const counter =
    (existing as Counter<'route' | 'method' | 'status'> | undefined) ??
    new Counter({
      name: HTTP_REQUESTS_METRIC,
      help: 'HTTP API requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
  return {
    observe(route, method, status) {
      counter.inc({ route, method: KNOWN_METHODS.has(method) ? method : 'OTHER', status: String(status) });
    },
  };
}

function loginMetrics(registry: Registry | undefined, users: ApiDeps['users']): void {
  if (!registry) return;
  // A second API on the same registry (a restart in one process) reads its own store.
  registry.removeSingleMetric(LOGIN_REFUSED_METRIC);
  new Counter({
    name: LOGIN_REFUSED_METRIC,
    help: 'logins refused by the login limiter, by channel and reason',
    labelNames: ['channel', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, byReason] of Object.entries(users.loginRefused)) {
        for (const [reason, n] of Object.entries(byReason)) this.inc({ channel, reason }, n);
      }
    },
  });
}

/** Resolves true when it answered the request, false when the path is not the API's. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function createApi(deps: ApiDeps): ApiHandler {
  const log = childLogger(deps.log, 'api');
  const now = deps.clock ?? Date.now;
  const metrics = apiMetrics(deps.registry);
  const router = new Router<RouteEntry>();
  loginMetrics(deps.registry, deps.users);
  authRoutes(router);
  laneRoutes(router);
  orderRoutes(router);
  // Before the purchase-order routes: `/api/purchase-orders/lead-times` is not an id.
  forecastRoutes(router);
  purchaseOrderRoutes(router);
  alertRoutes(router);
  observationRoutes(router);
  commandRoutes(router);
  exportRoutes(router);
  webhookRoutes(router);
  catalogueRoutes(router);
  shelvesRoutes(router);
  usersRoutes(router);
  auditRoutes(router);
  notificationRoutes(router);

  return async (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://api.invalid');
    } catch {
      return false;
    }
    const path = url.pathname;
    if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return false;
    const method = (req.method ?? 'GET').toUpperCase();
    let route = 'unmatched';
    try {
      const m = router.match(method, path);
      if (m.kind === 'none') throw notFound(`no route ${method} ${path}`);
      if (m.kind === 'method') {
        throw new HttpError(405, HttpErrorCodes.METHOD, `${path} does not take ${method}`, [], {
          Allow: [...new Set(m.allowed)].join(', '),
        });
      }
      route = m.route.pattern;
      const ctx: RequestContext = { req, res, url, params: m.params, deps, now, log, principal: null };
      if (m.route.handler.auth) ctx.principal = authenticate(ctx);
      const result = await m.route.handler.run(ctx);
      if (result !== STREAMED) sendJson(res, 200, result);
    } catch (err) {
      const e = mapError(err);
      if (e.internal) log.error({ err, method, route }, 'request failed');
      else log.debug({ method, route, status: e.status, code: e.body.error.code }, 'request refused');
      if (res.headersSent) res.destroy();
      else sendJson(res, e.status, e.body, e.headers);
    }
    metrics.observe(route, method, res.statusCode);
    return true;
  };
}
