/**
 * `shelfsense_http_requests_total{route, method, status}`: API requests counted by route pattern
 * (never the raw path, so ids do not blow up the label set), on the Registry passed in.
 */
import { Counter, type Registry } from 'prom-client';

export const HTTP_REQUESTS_METRIC = 'shelfsense_http_requests_total';

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
