#!/usr/bin/env node
// Writes the provisioned dashboards (deploy/grafana/provisioning/dashboards/shelfsense/) from the
// import variants in docs/grafana/: Grafana's file provisioning does not resolve `${DS_…}` inputs,
// so each input becomes the uid of the data source provisioned beside them.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Data source uids of provisioning/datasources/shelfsense.yaml, by plugin id. */
export const DATASOURCE_UIDS = { influxdb: 'shelfsense-influxdb', prometheus: 'shelfsense-prometheus' };

/** Import variant (docs/grafana/) → provisioned file (deploy/grafana/provisioning/dashboards/shelfsense/). */
export const DASHBOARDS = [
  { from: 'docs/grafana/shelfsense.json', to: 'shelfsense-history.json' },
  { from: 'docs/grafana/shelfsense-prometheus.json', to: 'shelfsense-operations.json' },
];

export const PROVISIONED_DIR = 'deploy/grafana/provisioning/dashboards/shelfsense';

/** The provisioned form of an import-variant dashboard: no __inputs/__requires, uids instead. */
export function provisioned(dashboard) {
  const { __inputs: inputs = [], __requires: _requires, ...rest } = dashboard;
  let text = JSON.stringify(rest);
  for (const input of inputs) {
    const uid = DATASOURCE_UIDS[input.pluginId];
    if (!uid) throw new Error(`no provisioned data source for ${input.pluginId} (${input.name})`);
    text = text.replaceAll(`\${${input.name}}`, uid);
  }
  return JSON.parse(text);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const d of DASHBOARDS) {
    const out = provisioned(JSON.parse(readFileSync(join(ROOT, d.from), 'utf8')));
    writeFileSync(join(ROOT, PROVISIONED_DIR, d.to), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${d.from} → ${PROVISIONED_DIR}/${d.to}\n`);
  }
  // In the repository's own JSON style, so a rerun without changes leaves no diff.
  const files = DASHBOARDS.map((d) => join(PROVISIONED_DIR, d.to));
  spawnSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', ...files], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
