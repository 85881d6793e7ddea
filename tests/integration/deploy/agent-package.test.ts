/**
 * `@shelfsense/agent` as a published package (docs/releasing.md): `npm pack` builds it (prepack)
 * into a tarball of compiled files only, and installed on its own, offline from npm's cache, it
 * brings the bundle and serialport's native binding and nothing else; its `shelfsense-agent`
 * command then answers --help and --version and counts a simulated shelf over TCP into a broker.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulator } from '@shelfsense/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, laneId, shelvesFromSim } from '../../helpers/agent.js';
import { freePort, startAedes } from '../../helpers/brokers.js';
import { ROOT } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);

/** What the bundle carries itself: none of it may be installed beside it. */
const BUNDLED = ['mqtt', 'pino', 'zod', 'yaml', 'prom-client', '@shelfsense/protocol'];

/** npm's variables from an `npm test` run would point a nested npm at this repository. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

async function sh(cmd: string, args: string[], cwd: string) {
  try {
    const r = await run(cmd, args, { cwd, env: cleanEnv(), timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const agentPkg = JSON.parse(readFileSync(join(ROOT, 'agent/package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};

let dir: string;
let tarball: string;
let files: string[];
let prefix: string;
let bin: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-agent-pkg-'));
  const out = join(dir, 'pack');
  mkdirSync(out);
  const packed = await sh('npm', ['pack', './agent', '--pack-destination', out, '--json'], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  // prepack's own output comes before npm's JSON.
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(out, info[0]!.filename);
  files = info[0]!.files.map((f) => f.path);
  prefix = join(dir, 'install');
  mkdirSync(prefix);
  const args = [
    'install',
    '--prefix',
    prefix,
    '--omit=dev',
    '--legacy-peer-deps',
    '--no-audit',
    '--no-fund',
    tarball,
  ];
  // From npm's cache; a cache without the binding's manifest may still fetch it.
  let installed = await sh('npm', [...args, '--offline'], dir);
  if (installed.code !== 0) installed = await sh('npm', [...args, '--prefer-offline'], dir);
  expect(installed.code, installed.stderr).toBe(0);
  bin = join(prefix, 'node_modules/.bin/shelfsense-agent');
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the agent package', () => {
  it('[PKG-FILES] the tarball holds the bundle and compiled files, no sources, tests or build state', () => {
    expect(tarball.endsWith(`shelfsense-agent-${agentPkg.version}.tgz`)).toBe(true);
    expect(files).toContain('package.json');
    expect(files).toContain('dist/shelfsense-agent.cjs');
    expect(files.some((f) => f.startsWith('dist/bundle/') && f.endsWith('.cjs'))).toBe(true);
    const stray = files.filter(
      (f) => !/^dist\//.test(f) && !/^(package\.json|README(\.md)?|LICENSE)$/.test(f),
    );
    expect(stray).toEqual([]);
    expect(files.filter((f) => /(^|\/)src\/|\.test\.|tsbuildinfo|(^|\/)testing\./.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('[PKG-DEPS] installed alone it brings serialport’s binding and nothing the bundle holds', () => {
    expect(Object.keys(agentPkg.dependencies)).toEqual(['@serialport/bindings-cpp']);
    const nm = join(prefix, 'node_modules');
    expect(existsSync(join(nm, '@shelfsense/agent/dist/shelfsense-agent.cjs'))).toBe(true);
    expect(existsSync(join(nm, '@serialport/bindings-cpp/package.json'))).toBe(true);
    for (const name of BUNDLED) expect(existsSync(join(nm, name)), `${name} is installed`).toBe(false);
    // Prebuilt: nothing was compiled.
    expect(existsSync(join(nm, '@serialport/bindings-cpp/build'))).toBe(false);
    const top = readdirSync(nm).filter((n) => !n.startsWith('.'));
    expect(top.length).toBeLessThan(10);
  });

  it('[PKG-BIN] `shelfsense-agent --help` and `--version` run from the install', async () => {
    const help = await sh(bin, ['--help'], dir);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: shelfsense agent');
    const version = await sh(bin, ['--version'], dir);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toContain(agentPkg.version);
  });

  it('[PKG-RUN] the installed command counts a simulated shelf over TCP into a broker', async () => {
    const sim = await startSimulator({
      seed: 3,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [{ serial: 'PKG-1', lanes: [{ unitWeightG: 250, items: 10, capacity: 20 }] }],
        events: [{ at: '1s', every: '2s', action: 'remove', lane: 0, count: 1 }],
      },
    });
    const broker = await startAedes();
    const sub = await collect(broker.url, ['shelfsense/v1/store-1/+/+/level']);
    const metricsPort = await freePort();
    const config = join(dir, 'agent.yaml');
    // JSON is YAML: the agent reads it as its config file.
    writeFileSync(
      config,
      JSON.stringify({
        agent: { id: 'pi-1', site: 'store-1' },
        sources: sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
        broker: { url: broker.url, reconnectMs: 100 },
        stateDir: join(dir, 'state'),
        delivery: { trimOn: 'broker' },
        shelves: shelvesFromSim(sim),
        metrics: { port: metricsPort },
        log: { level: 'warn' },
      }),
    );
    let child: ChildProcess | null = null;
    try {
      child = spawn(bin, ['--config', config], {
        cwd: dir,
        env: cleanEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
      const level = await waitFor(
        () => sub.messages.find((m) => m.topic === `shelfsense/v1/store-1/PKG-1/${laneId(0)}/level`),
        30_000,
        { what: `a level from the installed agent (stderr: ${stderr})` },
      );
      expect(level.payload.units).toBeTypeOf('number');
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^shelfsense_agent_broker_connected 1$/m);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      child = null;
    } finally {
      child?.kill('SIGKILL');
      await sub.close();
      await broker.close();
      await sim.stop();
    }
  }, 60_000);
});
