/**
 * Serial port discovery as a Pi runs it — the bundled agent (agent/dist/shelfsense-agent.cjs) as a
 * child process — on a machine without `udevadm`: its PATH holds `node` and nothing else, so a
 * lister that spawned udevadm would fail (`spawn udevadm ENOENT`). Shelves are the simulator's, on
 * socat ptys linked under a temporary by-id directory the way udev links USB adapters under
 * /dev/serial/by-id; a Zigbee-like stick (another pty) is linked there too and must be left alone.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import type { AgentConfigInput } from '@shelfsense/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { collect, shelvesFromSim } from '../../helpers/agent.js';
import { type TestBroker as Aedes, startAedes } from '../../helpers/brokers.js';
import { type CliProcess, killAll, spawnCli } from '../../helpers/proc.js';
import { closeAllPtys, startPtyPair } from '../../helpers/pty.js';
import { expectStableLevelsMatchSim } from '../../helpers/stable-levels.js';
import { waitFor } from '../../helpers/wait.js';

const BUNDLE = 'agent/dist/shelfsense-agent.cjs';
const dirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A PATH directory holding `node` alone: no udevadm, whatever this machine has installed. */
function pathWithoutUdevadm(): string {
  const bin = tempDir('agent-nopath-');
  symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

function startBundle(config: AgentConfigInput): CliProcess {
  const dir = tempDir('agent-discovery-');
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, JSON.stringify({ stateDir: join(dir, 'state'), ...config }, null, 2)); // JSON is YAML
  return spawnCli(BUNDLE, ['--config', file], { env: { PATH: pathWithoutUdevadm() } });
}

/** The agent's JSON log lines with message `msg`. */
function logged(agent: CliProcess, msg: string): Record<string, unknown>[] {
  return agent
    .stderr()
    .split('\n')
    .flatMap((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        return o.msg === msg ? [o] : [];
      } catch {
        return []; // the last line, still being written
      }
    });
}

afterEach(async () => {
  await killAll();
  await closeAllPtys();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('serial port discovery without udevadm (the bundled agent)', () => {
  it('[DISCOVER-NO-UDEVADM] lists ports from sysfs and the links: none matches, and nothing fails', async () => {
    const agent = startBundle({
      agent: { id: 'pi-discover', site: 'store-1' },
      sources: [
        { discover: { glob: '/dev/shelfsense-none-*' } },
        { discover: { vendorId: 'ffff', productId: 'fffe' } },
      ],
      // Discovery needs no broker: nothing listens on port 9.
      broker: { url: 'mqtt://127.0.0.1:9', reconnectMs: 1_000 },
      reconnect: { minMs: 50, maxMs: 100 },
      log: { level: 'debug' },
    });
    await waitFor(() => logged(agent, 'serial ports listed').length >= 4, 15_000, {
      what: 'discovery listing ports a few times',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; agent said: ${agent.stderr()}`);
    });
    await waitFor(() => agent.stderr().includes('"reason":"no matching serial port"'), 5_000, {
      what: 'a discovery that found no port',
    });
    expect(agent.stderr()).not.toMatch(/discovery failed|udevadm|ENOENT/);
    // sysfs answers on Linux, so serialport's lister (the one that spawns udevadm) is never asked.
    expect(logged(agent, 'serial ports listed').every((l) => l.sysfs === true)).toBe(true);
  });

  it('[DISCOVER-BY-ID] opens the shelves by a glob on their by-id links and counts them; a Zigbee stick is left alone', async () => {
    const sim: Simulator = await startSimulator({
      seed: 31,
      shelves: 2,
      lanes: 2,
      transport: 'pty',
      control: false,
      scenario: 'steady',
      logLevel: 'silent',
    });
    const zigbee = await startPtyPair();
    const broker: Aedes = await startAedes();
    const sub = await collect(broker.url, ['shelfsense/v1/#']);
    try {
      // udev's naming: usb-<manufacturer>_<product>_<serial>-if<interface>-port<n>.
      const byId = join(tempDir('agent-by-id-'), 'by-id');
      mkdirSync(byId);
      for (const s of sim.shelves) {
        symlinkSync(s.path as string, join(byId, `usb-Shelfsense_Shelf_${s.serial}-if00-port0`));
      }
      symlinkSync(zigbee.b, join(byId, 'usb-Itead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_c0ffee42-if00-port0'));
      // No by-path directory: a missing one is no error.
      const byPath = join(byId, '..', 'by-path');
      const discover = { glob: `${byId}/usb-Shelfsense_Shelf_*`, byIdDir: byId, byPathDir: byPath };
      const agent = startBundle({
        agent: { id: 'pi-by-id', site: 'store-1' },
        // One entry per shelf, the same criteria: each takes a port no other source holds.
        sources: [{ discover }, { discover }],
        broker: { url: broker.url, reconnectMs: 100 },
        delivery: { trimOn: 'broker' },
        reconnect: { minMs: 50, maxMs: 200 },
        shelves: shelvesFromSim(sim),
        log: { level: 'info' },
      });
      await agent.waitForJson<{ ready?: boolean }>((o) => o.ready === true, 15_000);

      // A stable level for every lane of both shelves, at the simulator's count for its frame.
      await expectStableLevelsMatchSim(sim, sub.messages, {
        what: 'a stable level for every lane of both shelves',
        onTimeout: () => `agent said: ${agent.stderr()}`,
      });

      // Each source found its shelf through the link and opened the device the link points to.
      const shelfDevices = sim.shelves.map((s) => realpathSync(s.path as string)).sort();
      const discovered = logged(agent, 'serial port discovered');
      expect([...new Set(discovered.map((l) => l.path))].sort()).toEqual(shelfDevices);
      for (const l of discovered) {
        expect(l.links).toEqual([expect.stringMatching(/\/usb-Shelfsense_Shelf_[^/]+-if00-port0$/)]);
      }
      const opened = logged(agent, 'serial port open').map((l) => l.path);
      expect(opened).not.toContain(realpathSync(zigbee.b));
      expect([...new Set(opened)].sort()).toEqual(shelfDevices);
      expect(agent.stderr()).not.toMatch(/discovery failed|udevadm/);
    } finally {
      await sub.close();
      await killAll();
      await broker.close();
      await sim.stop();
    }
  }, 60_000);
});
