/**
 * The agent as a Raspberry Pi runs it: the bundle (agent/dist/shelfsense-agent.cjs and its chunks,
 * what deploy/shelfsense-agent.service starts) as a child process. It counts the simulator's
 * shelves over plain TCP and on a serial port (a pty), and serves its metrics; it reaches a broker
 * over TLS (a private CA given by NODE_EXTRA_CA_CERTS, as a unit's Environment= would) and over
 * WebSocket. The serial source, the metrics endpoint and the TLS and WebSocket transports are
 * chunks of their own, loaded only when asked for.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { type AgentConfigInput, topics } from '@shelfsense/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, shelvesFromSim } from '../../helpers/agent.js';
import { type TestBroker as Aedes, startAedes } from '../../helpers/brokers.js';
import { type CliProcess, killAll, ROOT, spawnCli } from '../../helpers/proc.js';
import { expectStableLevelsMatchSim } from '../../helpers/stable-levels.js';
import { waitFor } from '../../helpers/wait.js';
import { type CertFiles, makeCertificate } from '../broker/certificate.js';
import { connect, login, PASSWORD, startBroker, type TestBroker } from '../broker/helpers.js';

const BUNDLE = 'agent/dist/shelfsense-agent.cjs';
const dirs: string[] = [];

function writeConfig(config: AgentConfigInput): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-bundle-'));
  dirs.push(dir);
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, JSON.stringify({ stateDir: join(dir, 'state'), ...config }, null, 2)); // JSON is YAML
  return file;
}

function startBundle(config: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnCli(BUNDLE, ['--config', config], { env });
}

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the bundled agent', () => {
  /** The bundle counts `sim`'s shelves (every lane stable, at the simulator's count) and serves metrics. */
  async function countsAndServesMetrics(sim: Simulator, sources: AgentConfigInput['sources']): Promise<void> {
    const broker: Aedes = await startAedes();
    const sub = await collect(broker.url, ['shelfsense/v1/#']);
    try {
      const config = writeConfig({
        agent: { id: 'pi-bundle', site: 'store-1' },
        sources,
        broker: { url: broker.url, reconnectMs: 100 },
        delivery: { trimOn: 'broker' },
        shelves: shelvesFromSim(sim),
        log: { level: 'warn' },
        metrics: { port: 0 },
      });
      const agent = startBundle(config);
      const ready = await agent.waitForJson<{ ready?: boolean; metricsPort?: number }>(
        (o) => o.ready === true,
        15_000,
      );
      expect(ready.metricsPort).toBeGreaterThan(0);

      // A stable level for every lane of every shelf, with the simulator's count at its frame.
      await expectStableLevelsMatchSim(sim, sub.messages, { what: 'a stable level for every lane' });
      const status = sub.messages.find((m) => m.topic === topics.status('store-1', 'pi-bundle'));
      expect(status?.payload.state).toBe('online');

      const text = await (await fetch(`http://127.0.0.1:${ready.metricsPort}/metrics`)).text();
      const frames = Number(/^shelfsense_agent_frames_total (\d+)$/m.exec(text)?.[1]);
      expect(frames).toBeGreaterThan(0);
      expect(text).toMatch(/^shelfsense_agent_broker_connected 1$/m);
    } finally {
      await sub.close();
      await broker.close();
      await sim.stop();
    }
  }

  it('counts simulated shelves over TCP, publishes to a plain broker and serves metrics', async () => {
    const sim = await startSimulator({
      seed: 21,
      shelves: 2,
      lanes: 3,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: 'steady',
      logLevel: 'silent',
    });
    await countsAndServesMetrics(
      sim,
      sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
    );
  }, 40_000);

  it("counts a shelf on a serial port (its chunk and serialport's native binding load then)", async () => {
    const sim = await startSimulator({
      seed: 22,
      shelves: 1,
      lanes: 3,
      transport: 'pty',
      control: false,
      scenario: 'steady',
      logLevel: 'silent',
    });
    await countsAndServesMetrics(
      sim,
      sim.shelves.map((s) => ({ path: s.path as string })),
    );
  }, 40_000);

  describe('over TLS and WebSocket to the Shelfsense broker', () => {
    let certDir: string;
    let cert: CertFiles;
    let tb: TestBroker;

    beforeAll(async () => {
      certDir = mkdtempSync(join(tmpdir(), 'agent-bundle-tls-'));
      dirs.push(certDir);
      cert = makeCertificate(certDir);
      tb = await startBroker({
        mqtt: { port: false, tls: { port: 0, host: '127.0.0.1', ...cert }, websocket: { enabled: true } },
      });
    });

    afterAll(async () => {
      await tb?.close();
    });

    const config = (url: string) =>
      writeConfig({
        agent: { id: 'agent-a', site: 'A' },
        // No shelf is needed to go online; the port answers nothing.
        sources: [{ url: 'tcp://127.0.0.1:9' }],
        broker: { url, reconnectMs: 100, username: 'agent-a', password: PASSWORD },
        delivery: { trimOn: 'broker' },
        log: { level: 'warn' },
      });

    const tls = () => `mqtts://127.0.0.1:${tb.broker.ports.tls}`;
    const ws = () => tb.wsUrl;
    const cli = (config: string, env: NodeJS.ProcessEnv) =>
      spawnCli('cli/dist/main.js', ['agent', '--config', config], { env });
    it.each([
      ['TLS', 'the bundle', tls, startBundle],
      ['WebSocket', 'the bundle', ws, startBundle],
      ['TLS', '`shelfsense agent`', tls, cli],
      ['WebSocket', '`shelfsense agent`', ws, cli],
    ])(
      'goes online over %s (%s)',
      async (_name, _how, url, start) => {
        const admin = await connect(`mqtts://127.0.0.1:${tb.broker.ports.tls}`, {
          ...login('admin'),
          ca: readFileSync(cert.certFile),
          rejectUnauthorized: true,
        });
        try {
          await admin.client.subscribeAsync(topics.status('A', 'agent-a'), { qos: 1 });
          const agent = start(config(url()), { NODE_EXTRA_CA_CERTS: cert.certFile });
          await agent.waitForJson<{ ready?: boolean }>((o) => o.ready === true, 15_000);
          // Live, not retained: an earlier case's agent left its own status behind.
          await admin
            .waitFor(
              (m) => !m.retain && m.payload.includes('"state":"online"'),
              'agent-a going online',
              15_000,
            )
            .catch((err: Error) => {
              throw new Error(`${err.message}; agent said: ${agent.lines.join('\n')}${agent.stderr()}`);
            });
        } finally {
          await admin.end();
        }
      },
      30_000,
    );
  });

  it('discovers serial ports through the port lister (sysfs and /dev/serial, no udevadm), in the serial chunk', async () => {
    const broker: Aedes = await startAedes();
    try {
      const config = writeConfig({
        agent: { id: 'pi-discover', site: 'store-1' },
        // No device matches: the lister reads sysfs and finds none, so the source waits.
        sources: [{ discover: { glob: '/dev/shelfsense-none-*' } }],
        broker: { url: broker.url, reconnectMs: 100 },
        reconnect: { minMs: 50, maxMs: 100 },
        log: { level: 'info' },
      });
      // A PATH with `node` alone, as on a minimal image without udev's tools: serialport's
      // lister would fail there with `spawn udevadm ENOENT`.
      const bin = mkdtempSync(join(tmpdir(), 'agent-bundle-path-'));
      dirs.push(bin);
      symlinkSync(process.execPath, join(bin, 'node'));
      const agent = startBundle(config, { PATH: bin });
      // The logs (stderr): had the lister failed to load, discovery would say so at each attempt.
      await waitFor(() => agent.stderr().includes('"reason":"no matching serial port"'), 15_000, {
        what: 'a discovery that found no port',
      });
      expect(agent.stderr()).not.toMatch(/discovery failed|udevadm/);
    } finally {
      await killAll();
      await broker.close();
    }
  });

  it('names the file and every bad field of a config, in English, and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-bundle-bad-'));
    dirs.push(dir);
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      'agent: { id: pi }\nsources: [{ url: "tcp://127.0.0.1:1" }]\nbroker: { url: "mqtt://127.0.0.1:1", keepaliveS: 0 }\n',
    );
    const agent = spawnCli(join(ROOT, BUNDLE), ['--config', file]);
    const exit = await agent.exited;
    expect(exit.code).toBe(2);
    const err = agent.stderr();
    expect(err).toContain(file);
    expect(err).toMatch(/agent\.site: Invalid input: expected string, received undefined/);
    // The bundle carries zod's English messages (zod/mini alone would say "Invalid input").
    expect(err).toMatch(/broker\.keepaliveS: Too small: expected number to be >=1/);
  });
});
