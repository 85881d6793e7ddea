/**
 * Grafana's file provisioning of deploy/grafana/provisioning, checked without a Grafana server
 * (none can be installed here): the data sources and the dashboard provider have the shape
 * Grafana's provisioning reads, the provider's folder holds the dashboards, every dashboard
 * refers to a provisioned data source by uid (no `${DS_…}` input, which file provisioning does
 * not resolve), each dashboard type-checks against Grafana's published schema (@grafana/schema's
 * `Dashboard`), the import variants in docs/grafana declare their inputs and match the
 * provisioned files, and every PromQL expression parses (promtool).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DASHBOARDS, provisioned } from '../../../deploy/grafana/sync.mjs';
import { ROOT } from '../../helpers/proc.js';
import {
  datasourceRefs,
  datasources,
  expandPromQL,
  type Json,
  promQueries,
  providerDir,
  providers,
  provisionedDashboards,
} from './dashboards.js';

const scratch = mkdtempSync(join(tmpdir(), 'shelfsense-grafana-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Type-checks each dashboard as a literal against @grafana/schema's `Dashboard`. Its string enums
 * (ThresholdsMode and the like) are the strings JSON holds, so they are compared as their values;
 * an annotation's target is the data source's own query, so it may carry that query's fields.
 */
function schemaErrors(dashboards: { name: string; json: Json }[]): string[] {
  const file = join(ROOT, 'tests/integration/metrics/__grafana_schema_check__.ts');
  const source = [
    "import type { AnnotationQuery, Dashboard, DataQuery } from '@grafana/schema';",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source, not a template
    'type Json<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T',
    '  : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    'type Query = DataQuery & Record<string, unknown>;',
    "type Checked = Json<Omit<Dashboard, 'annotations'> & { annotations?: { list?: AnnotationQuery<Query>[] } }>;",
    ...dashboards.map(
      (d, i) => `// ${d.name}\nexport const d${i} = ${JSON.stringify(d.json)} satisfies Checked;`,
    ),
  ].join('\n');
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile.call(host, name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const line = at ? source.split('\n')[at.line]?.slice(0, 60) : '';
    return `${ts.flattenDiagnosticMessageText(d.messageText, '\n')} (${line})`;
  });
}

describe('[GRAFANA-PROVISIONING] deploy/grafana/provisioning loads in a stock Grafana unchanged', () => {
  const ds = datasources();
  const dashboards = provisionedDashboards();
  const uids = new Map(ds.datasources.map((d) => [d.uid, d]));

  it('data sources: apiVersion 1, each with a name, a unique uid, a type and a URL', () => {
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources.map((d) => d.type).sort()).toEqual(['influxdb', 'prometheus']);
    for (const d of ds.datasources) {
      expect(d.name).toBeTruthy();
      expect(d.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(() => new URL(d.url)).not.toThrow();
    }
    expect(uids.size).toBe(ds.datasources.length);
  });

  it('dashboard provider: apiVersion 1, type file, a path that holds the dashboards', () => {
    const p = providers();
    expect(p.apiVersion).toBe(1);
    expect(p.providers).toHaveLength(1);
    for (const provider of p.providers) {
      expect(provider.type).toBe('file');
      expect(existsSync(providerDir(provider))).toBe(true);
    }
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual(['shelfsense-history', 'shelfsense-operations']);
  });

  it('every data source reference is a provisioned uid of the same type; no DS_… inputs', () => {
    for (const { file, json } of dashboards) {
      const text = JSON.stringify(json);
      expect(text, file).not.toMatch(/\$\{DS_/);
      expect(json.__inputs, file).toBeUndefined();
      const refs = datasourceRefs(json);
      expect(refs.length, file).toBeGreaterThan(5);
      for (const ref of refs) {
        if (ref.uid === '-- Grafana --') continue; // Grafana's own annotations and alerts
        const d = uids.get(ref.uid as string);
        expect(d, `${file}: ${JSON.stringify(ref)}`).toBeDefined();
        expect(ref.type, file).toBe(d?.type);
      }
    }
  });

  it('panels: unique ids, on the 24-column grid, each with a query', () => {
    for (const { file, json } of dashboards) {
      const panels = json.panels as Json[];
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) {
        const g = p.gridPos as { x: number; y: number; w: number; h: number };
        expect(g.x + g.w, `${file}: ${p.title as string}`).toBeLessThanOrEqual(24);
        expect((p.targets as Json[]).length, `${file}: ${p.title as string}`).toBeGreaterThan(0);
      }
    }
  });

  it("every dashboard, provisioned and import variant, type-checks against @grafana/schema's Dashboard", () => {
    const all = [
      ...dashboards.map((d) => ({ name: d.file, json: d.json })),
      ...DASHBOARDS.map((d) => {
        const {
          __inputs: _i,
          __requires: _r,
          ...rest
        } = JSON.parse(readFileSync(join(ROOT, d.from), 'utf8')) as Json;
        return { name: d.from, json: rest };
      }),
    ];
    expect(schemaErrors(all)).toEqual([]);
  });

  it('the checker itself refuses what the schema refuses', () => {
    const good = dashboards[0]?.json as Json;
    const panel = (good.panels as Json[])[0] as Json;
    const thresholds = { mode: 'absolut', steps: [] };
    const errors = schemaErrors([
      { name: 'a number as a string', json: { ...good, schemaVersion: 'new' } },
      {
        name: 'a misspelt enum value',
        json: { ...good, panels: [{ ...panel, fieldConfig: { defaults: { thresholds }, overrides: [] } }] },
      },
      { name: 'an unknown key', json: { ...good, panelz: [] } },
    ]).join('\n');
    expect(errors).toMatch(/'string' is not assignable to type 'number'/);
    expect(errors).toMatch(/"absolut"/);
    expect(errors).toMatch(/'"panelz"' does not exist/);
  });

  it('import variants (docs/grafana) declare every input they use and match the provisioned files', () => {
    for (const d of DASHBOARDS) {
      const json = JSON.parse(readFileSync(join(ROOT, d.from), 'utf8')) as Json & {
        __inputs: { name: string }[];
      };
      const used = new Set([...JSON.stringify(json).matchAll(/\$\{(DS_[A-Z_]+)\}/g)].map((m) => m[1]));
      expect(new Set(json.__inputs.map((i) => i.name)), d.from).toEqual(used);
      const file = join(ROOT, 'deploy/grafana/provisioning/dashboards/shelfsense', d.to);
      expect(
        JSON.parse(readFileSync(file, 'utf8')),
        `${d.to} is stale: run node deploy/grafana/sync.mjs`,
      ).toEqual(provisioned(json));
    }
  });

  it('every PromQL expression of the dashboards parses (promtool check rules)', () => {
    const queries = dashboards.flatMap((d) => promQueries(d.json));
    expect(queries.length).toBeGreaterThanOrEqual(30);
    const rules = {
      groups: [
        {
          name: 'dashboards',
          rules: queries.map((q, i) => ({
            record: `shelfsense_dashboard_query_${i}`,
            expr: expandPromQL(q.expr),
          })),
        },
      ],
    };
    const file = join(scratch, 'dashboard-queries.yml');
    writeFileSync(file, YAML.stringify(rules));
    const r = spawnSync('/usr/bin/promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(r.status).toBe(0);
  });
});
