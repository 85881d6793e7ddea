/**
 * deploy/prometheus as promtool judges it: the rules and the scrape config are valid, the rules'
 * unit tests (shelfsense.rules.test.yml) pass and cover every alert, and every Shelfsense metric
 * the rules and the dashboards name is one the code registers.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ROOT } from '../../helpers/proc.js';
import { promQueries, provisionedDashboards } from './dashboards.js';

const DIR = join(ROOT, 'deploy/prometheus');
const promtool = (...args: string[]) => {
  const r = spawnSync('/usr/bin/promtool', args, { cwd: DIR, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

const rules = YAML.parse(readFileSync(join(DIR, 'shelfsense.rules.yml'), 'utf8')) as {
  groups: { rules: { alert: string; expr: string; for?: string }[] }[];
};
const alerts = rules.groups.flatMap((g) => g.rules);

/** Where the metrics are registered. */
const SOURCES = [
  'agent/src/metrics.ts',
  'central/src/parts/metrics.ts',
  'central/src/history/metrics.ts',
  'central/src/http/api.ts',
  'broker/src/mqtt/metrics.ts',
].map((f) => readFileSync(join(ROOT, f), 'utf8'));

describe('[PROMETHEUS-RULES] deploy/prometheus under promtool', () => {
  it('promtool check rules: valid', () => {
    const r = promtool('check', 'rules', 'shelfsense.rules.yml');
    expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('promtool check config: the example scrape config is valid and loads the rules', () => {
    const r = promtool('check', 'config', 'prometheus.yml');
    expect(r.output).toContain('SUCCESS: 1 rule files found');
    expect(r.status).toBe(0);
  });

  it('promtool test rules: the unit tests pass and cover every alert', () => {
    const r = promtool('test', 'rules', 'shelfsense.rules.test.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const tests = YAML.parse(readFileSync(join(DIR, 'shelfsense.rules.test.yml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect([...fired].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('every Shelfsense metric the rules and dashboards name is registered by the code', () => {
    const exprs = [
      ...alerts.map((a) => a.expr),
      ...provisionedDashboards().flatMap((d) => promQueries(d.json).map((q) => q.expr)),
    ];
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\bshelfsense_\w+/g)].map((m) => m[0])));
    expect(names.size).toBeGreaterThan(15);
    const missing = [...names]
      .map((n) => n.replace(/_(bucket|count|sum)$/, ''))
      .filter((n) => !SOURCES.some((s) => s.includes(`'${n}'`)));
    expect(missing).toEqual([]);
  });
});
