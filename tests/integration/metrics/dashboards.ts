/**
 * The Grafana files shipped in deploy/grafana/provisioning and docs/grafana, read as Grafana would,
 * and the PromQL of the dashboards with Grafana's macros and variables expanded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../../helpers/proc.js';

export const PROVISIONING = join(ROOT, 'deploy/grafana/provisioning');
/** Where the provider's paths point on a Grafana host (Debian and the Docker image). */
export const GRAFANA_PROVISIONING = '/etc/grafana/provisioning';

export interface DataSource {
  name: string;
  uid: string;
  type: string;
  url: string;
}

export interface Provider {
  name: string;
  type: string;
  options: { path: string };
}

export type Json = Record<string, unknown>;

export function readYaml<T>(file: string): T {
  return YAML.parse(readFileSync(file, 'utf8')) as T;
}

export function datasources(): { apiVersion: number; datasources: DataSource[] } {
  return readYaml(join(PROVISIONING, 'datasources/shelfsense.yaml'));
}

export function providers(): { apiVersion: number; providers: Provider[] } {
  return readYaml(join(PROVISIONING, 'dashboards/shelfsense.yaml'));
}

/** A provider's path on the Grafana host, as a folder of this repository. */
export function providerDir(p: Provider): string {
  if (!p.options.path.startsWith(`${GRAFANA_PROVISIONING}/`))
    throw new Error(`${p.options.path} is outside ${GRAFANA_PROVISIONING}`);
  return join(PROVISIONING, p.options.path.slice(GRAFANA_PROVISIONING.length + 1));
}

/** Every provisioned dashboard: file name and parsed JSON. */
export function provisionedDashboards(): { file: string; json: Json }[] {
  return providers().providers.flatMap((p) => {
    const dir = providerDir(p);
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ file: join(dir, f), json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Json }));
  });
}

/** Every object under `value` that sits at a `datasource` key. */
export function datasourceRefs(value: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const v of value) datasourceRefs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'datasource' && v && typeof v === 'object') out.push(v as Json);
      else datasourceRefs(v, out);
    }
  }
  return out;
}

export interface PromQuery {
  where: string;
  expr: string;
}

/** The PromQL of a dashboard: panel targets, annotations, and query variables' label_values() series. */
export function promQueries(dash: Json): PromQuery[] {
  const out: PromQuery[] = [];
  const isProm = (ds: unknown) => (ds as Json | undefined)?.type === 'prometheus';
  for (const p of (dash.panels as Json[] | undefined) ?? []) {
    for (const t of (p.targets as Json[] | undefined) ?? []) {
      if ((isProm(t.datasource) || isProm(p.datasource)) && typeof t.expr === 'string')
        out.push({ where: `${p.title as string} ${t.refId as string}`, expr: t.expr });
    }
  }
  const annotations = ((dash.annotations as Json | undefined)?.list as Json[] | undefined) ?? [];
  for (const a of annotations) {
    const expr = (a.target as Json | undefined)?.expr;
    if (isProm(a.datasource) && typeof expr === 'string')
      out.push({ where: `annotation ${a.name as string}`, expr });
  }
  const variables = ((dash.templating as Json | undefined)?.list as Json[] | undefined) ?? [];
  for (const v of variables) {
    const q = (v.query as Json | undefined)?.query;
    const m = typeof q === 'string' ? /^label_values\((.+),\s*(\w+)\)$/.exec(q) : null;
    if (isProm(v.datasource) && m) out.push({ where: `variable ${v.name as string}`, expr: m[1] as string });
  }
  return out;
}

/** Grafana's macros and the dashboard's variables (All) as Grafana would expand them. */
export function expandPromQL(expr: string, rateInterval = '1m'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '1h')
    .replaceAll('$agent', '.*');
}
