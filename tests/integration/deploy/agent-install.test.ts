/**
 * A Raspberry Pi installs the agent alone: deploy/pack.sh packs @shelfsense/protocol,
 * @shelfsense/agent and @shelfsense/cli (the `shelfsense` command; dist/ and its launcher only), deploy/install-agent.sh installs them from the tarballs with
 * `npm install --omit=dev` (the npm registry supplies mqtt, serialport's binding layer, pino,
 * yaml, zod, prom-client), and neither the central side nor its heavy dependencies come along. Then the
 * installed `shelfsense agent --help` runs, and the systemd units pass `systemd-analyze verify`.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { AgentConfig, loadConfigFile } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);

/** The central side and what only it needs: none of it may reach a Pi. (ws does: mqtt.js uses it.) */
const CENTRAL_ONLY = [
  'aedes',
  'node-red',
  'better-sqlite3',
  'influx',
  '@shelfsense/broker',
  '@shelfsense/central',
  '@shelfsense/dashboard',
  '@shelfsense/demo',
  '@shelfsense/firmware-sim',
];

/** npm's own variables from an `npm test` run would point the nested npm at this repository. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const r = await run(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? cleanEnv(),
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let dir: string;
let destdir: string;
let prefix: string;
let tarballs: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-deploy-'));
  const out = join(dir, 'pack');
  const packed = await sh('sh', [join(ROOT, 'deploy/pack.sh'), 'agent', out]);
  expect(packed.code, packed.stderr).toBe(0);
  tarballs = readdirSync(out)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(out, f));
  destdir = join(dir, 'root');
  const installed = await sh('sh', [join(ROOT, 'deploy/install-agent.sh'), ...tarballs], {
    cwd: dir,
    env: cleanEnv({ DESTDIR: destdir }),
  });
  expect(installed.code, installed.stderr).toBe(0);
  // The install script declares the one dependency whose install script is expected.
  expect(installed.stderr).not.toMatch(/install-scripts|not yet covered/);
  prefix = join(destdir, 'opt/shelfsense/agent');
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('installing the agent on a Pi', () => {
  it('[DEPLOY-PACK] the tarballs are the contract, the agent and the command, compiled only (dist/, the bin launcher, package.json)', async () => {
    expect(tarballs.map((t) => t.split('/').pop()).sort()).toEqual([
      'shelfsense-agent-0.1.0.tgz',
      'shelfsense-cli-0.1.0.tgz',
      'shelfsense-protocol-0.1.0.tgz',
    ]);
    for (const t of tarballs) {
      const list = (await sh('tar', ['-tzf', t])).stdout.trim().split('\n');
      expect(list).toContain('package/package.json');
      expect(list.some((f) => f.startsWith('package/dist/'))).toBe(true);
      expect(list.filter((f) => !/^package\/(dist\/|bin\/|package\.json$|README|LICENSE)/.test(f))).toEqual(
        [],
      );
    }
  });

  it('[DEPLOY-ALONE] the install pulls in neither aedes, node-red, better-sqlite3 nor the dashboard', async () => {
    const ls = await sh('npm', ['ls', '--all', '--omit=dev', '--json'], { cwd: prefix });
    const tree = JSON.parse(ls.stdout) as { dependencies?: Record<string, unknown> };
    const names = new Set<string>();
    const walk = (deps: Record<string, unknown> | undefined) => {
      for (const [name, d] of Object.entries(deps ?? {})) {
        const node = d as { version?: string; dependencies?: Record<string, unknown> };
        // An optional peer that is not installed is listed without a version.
        if (node.version) names.add(name);
        walk(node.dependencies);
      }
    };
    walk(tree.dependencies);
    expect(names).toContain('@shelfsense/agent');
    expect(names).toContain('@serialport/bindings-cpp');
    // The binding layer alone: not serialport's stream package and its ten parsers.
    expect(names.has('serialport')).toBe(false);
    expect(names).toContain('mqtt');
    expect(readdirSync(join(prefix, 'node_modules/@shelfsense')).sort()).toEqual([
      'agent',
      'cli',
      'protocol',
    ]);
    for (const name of CENTRAL_ONLY) {
      expect(names.has(name), `${name} is in the tree`).toBe(false);
      expect(existsSync(join(prefix, 'node_modules', name)), `${name} is on disk`).toBe(false);
    }
  });

  it('[DEPLOY-RUN] `shelfsense agent --help` runs from the install; central says its package is missing', async () => {
    const bin = join(prefix, 'node_modules/.bin/shelfsense');
    const help = await sh(bin, ['agent', '--help'], { cwd: dir });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: shelfsense agent');
    const central = await sh(bin, ['central', '--help'], { cwd: dir });
    expect(central.code).toBe(2);
    expect(central.stderr).toContain('@shelfsense/central is not installed');
  });

  it('[DEPLOY-SERIAL] serialport’s native binding loads from the install (prebuilt, nothing compiled); ports list without udevadm', async () => {
    // Run with a PATH holding `node` alone: a minimal Pi image has no udevadm, and the agent's own
    // lister (sysfs and /dev/serial) must not need it.
    const bin = join(dir, 'bin-node-only');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
    const portList = pathToFileURL(
      join(prefix, 'node_modules/@shelfsense/agent/dist/source/port-list.js'),
    ).href;
    const probe = await sh(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          // The native addon loads with the module; opening a missing device is its own error.
          "const { default: { LinuxBinding } } = await import('@serialport/bindings-cpp/dist/linux.js');",
          "const opened = await LinuxBinding.open({ path: '/dev/shelfsense-none', baudRate: 115200 }).catch((e) => e);",
          'if (!/no such file/i.test(opened.message)) throw opened;',
          `const { listSerialPorts } = await import(${JSON.stringify(portList)});`,
          'const { ports, sysfs } = listSerialPorts();',
          "console.log('serial ok', JSON.stringify({ sysfs, ports: ports.length }));",
        ].join('\n'),
      ],
      { cwd: prefix, env: cleanEnv({ PATH: bin }) },
    );
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout).toContain('serial ok');
    if (process.platform === 'linux') expect(probe.stdout).toContain('"sysfs":true');
    expect(existsSync(join(prefix, 'node_modules/@serialport/bindings-cpp/build'))).toBe(false);
  });

  it('[DEPLOY-UNIT] the installed unit runs the installed agent bundle with this node; both units verify', async () => {
    const unit = readFileSync(join(destdir, 'etc/systemd/system/shelfsense-agent.service'), 'utf8');
    const exec =
      /^ExecStart=(\S+)((?: --[\w-]+(?:=\S+)?)*) (\S+) --config \/etc\/shelfsense\/agent\.yaml$/m.exec(unit);
    expect(exec).not.toBeNull();
    expect(existsSync(exec![1]!)).toBe(true);
    const script = join(destdir, exec![3]!);
    expect(script).toMatch(/@shelfsense\/agent\/dist\/shelfsense-agent\.cjs$/);
    expect(existsSync(script)).toBe(true);
    // The bundle runs from the install with the unit's node flags: its help, and a config error
    // named by field with exit code 2 (which the unit does not restart on).
    const flags = exec![2]!.trim().split(/\s+/).filter(Boolean);
    const help = await sh(process.execPath, [...flags, script, '--help'], { cwd: dir });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: shelfsense agent');
    const bad = join(dir, 'bad-agent.yaml');
    writeFileSync(bad, 'agent: { id: pi-1 }\nsources: []\n');
    const refused = await sh(process.execPath, [...flags, script, '--config', bad], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/agent\.site/);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^SupplementaryGroups=dialout$/m);
    expect(unit).toMatch(/^StateDirectory=shelfsense-agent$/m);
    expect(unit).toMatch(/^User=shelfsense$/m);
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
    if (!analyze) return;
    // The worker's unit is a template: verified as one of its instances.
    const worker = join(dir, 'shelfsense-worker@w1.service');
    writeFileSync(worker, readFileSync(join(ROOT, 'deploy/shelfsense-worker@.service'), 'utf8'));
    for (const file of [
      join(destdir, 'etc/systemd/system/shelfsense-agent.service'),
      join(ROOT, 'deploy/shelfsense-central.service'),
      join(ROOT, 'deploy/shelfsense-web.service'),
      worker,
    ]) {
      const v = await sh(analyze, ['verify', file]);
      expect(v.stderr).not.toMatch(/Unknown (key|section)|Invalid|Failed|bad-setting|not executable/i);
    }
  });

  it('[DEPLOY-CONFIG] the example agent config is valid', () => {
    const cfg = loadConfigFile(AgentConfig, join(ROOT, 'deploy/agent.example.yaml'), 'agent config');
    expect(cfg.stateDir).toBe('/var/lib/shelfsense-agent');
    expect(cfg.sources).toHaveLength(2);
  });
});
