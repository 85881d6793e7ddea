/**
 * Who may import whom (docs/architecture.md): the lint rule in biome.json that enforces it, checked
 * against each package's declared dependencies, and run for real on probe files laid out like the
 * workspace, so a rule that stopped matching fails here rather than letting the layering rot.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);
const read = (f: string) => JSON.parse(readFileSync(join(ROOT, f), 'utf8'));
const workspaces: string[] = read('package.json').workspaces;
const biome = read('biome.json');

interface Override {
  includes: string[];
  linter?: { rules?: { style?: { noRestrictedImports?: { options: { paths: Record<string, string> } } } } };
}

/** The packages a package's sources may not import, as biome.json says. */
function forbidden(dir: string): string[] {
  const o = (biome.overrides as Override[]).find((x) => x.includes.includes(`${dir}/src/**`));
  const paths = o?.linter?.rules?.style?.noRestrictedImports?.options.paths ?? {};
  return Object.keys(paths).filter((p) => /^@shelfsense\/[^/]+$/.test(p));
}

const internal = (deps: Record<string, string> = {}) =>
  Object.keys(deps).filter((d) => d.startsWith('@shelfsense/'));

const dirs = workspaces.filter((d) => d !== 'bench');
const probeRoot = mkdtempSync(join(tmpdir(), 'shelfsense-layering-'));
afterAll(() => rmSync(probeRoot, { recursive: true, force: true }));

/** Lints `source` as if it were the file `file` of the workspace; returns the rules that fired. */
async function lint(file: string, source: string): Promise<string[]> {
  const dir = mkdtempSync(join(probeRoot, 'probe-'));
  const { $schema: _schema, vcs: _vcs, ...config } = biome;
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  for (const d of workspaces) {
    mkdirSync(join(dir, d), { recursive: true });
    cpSync(join(ROOT, d, 'package.json'), join(dir, d, 'package.json'));
  }
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), source);
  const bin = join(ROOT, 'node_modules/.bin/biome');
  const out = await run(bin, ['lint', '--reporter=json', file], { cwd: dir }).then(
    (r) => r.stdout,
    (err: { stdout: string }) => err.stdout,
  );
  const report = JSON.parse(out) as { diagnostics: { category: string }[] };
  return report.diagnostics.map((d) => d.category);
}

describe('layering', () => {
  it('every package’s declared @shelfsense dependencies are ones the lint rule allows', () => {
    for (const d of dirs) {
      const pkg = read(`${d}/package.json`);
      // The agent's published package is a bundle: what it is built from is a dev dependency.
      const declared = [
        ...internal(pkg.dependencies),
        ...internal(pkg.devDependencies),
        ...internal(pkg.peerDependencies),
      ];
      // The dispatcher names its subcommand packages as optional peers; it never imports them statically.
      const imported = d === 'cli' ? internal(pkg.dependencies) : declared;
      for (const dep of imported) expect(forbidden(d), `${d} → ${dep}`).not.toContain(dep);
    }
  });

  it('the central side needs neither the agent nor the simulator; the agent needs only the contract', () => {
    expect(internal(read('central/package.json').dependencies)).not.toEqual(
      expect.arrayContaining(['@shelfsense/agent']),
    );
    expect(forbidden('central')).toEqual(
      expect.arrayContaining(['@shelfsense/agent', '@shelfsense/firmware-sim', '@shelfsense/demo']),
    );
    const agent = read('agent/package.json');
    expect([...internal(agent.dependencies), ...internal(agent.devDependencies)]).toEqual([
      '@shelfsense/protocol',
    ]);
    // Every other @shelfsense workspace (node-red-contrib-shelfsense is published under its own name).
    expect(forbidden('protocol').sort()).toEqual(
      workspaces
        .filter((d) => d !== 'protocol')
        .map((d) => read(`${d}/package.json`).name as string)
        .filter((n) => n.startsWith('@shelfsense/'))
        .sort(),
    );
  });

  it('the rule fires on a forbidden package, a path into another package, and an undeclared one', async () => {
    const rules = await lint(
      'agent/src/probe.ts',
      [
        "import { Central } from '@shelfsense/central';",
        "import { Store } from '../../central/src/store/index.js';",
        "import Database from 'better-sqlite3';",
        'export const all = [Central, Store, Database];',
      ].join('\n'),
    );
    expect(rules.filter((r) => r === 'lint/style/noRestrictedImports')).toHaveLength(2);
    expect(rules).toContain('lint/correctness/noUndeclaredDependencies');
  }, 60_000);

  it('production code may not import a ./testing entry; tests may', async () => {
    const probe = "import { Ingest } from '@shelfsense/central/testing';\nexport const x = Ingest;\n";
    expect(await lint('demo/src/probe.ts', probe)).toContain('lint/style/noRestrictedImports');
    expect(await lint('tests/unit/probe.test.ts', probe)).toEqual([]);
  }, 60_000);

  it('the rule stays quiet on an allowed import', async () => {
    const rules = await lint(
      'central/src/probe.ts',
      "import { MqttBroker } from '@shelfsense/broker';\nimport { topics } from '@shelfsense/protocol';\nexport const all = [MqttBroker, topics];\n",
    );
    expect(rules).toEqual([]);
  }, 60_000);
});
