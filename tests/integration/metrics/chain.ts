/**
 * The whole chain as an operator would run it, for the metrics tests: a simulated shelf over TCP,
 * the compiled agent process with its /metrics on the host asked for, the compiled central
 * process, and a supplier webhook that can be made to fail. Central's timings are short, so an
 * order, a dead letter and an offline shelf each happen within seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { shelvesFromSim } from '../../helpers/agent.js';
import { addUser, type CentralProcess, startCentral, WebhookReceiver } from '../../helpers/central.js';
import { type CliProcess, shelfsense } from '../../helpers/proc.js';

export const SERIAL = 'SHELF-M';

export interface Chain {
  dir: string;
  sim: Simulator;
  central: CentralProcess;
  agent: CliProcess;
  agentMetricsPort: number;
  hooks: WebhookReceiver;
  stop(): Promise<void>;
}

export interface ChainOptions {
  /** The supplier's webhook answers 500, so each order event is a dead letter after one attempt. */
  webhookFails?: boolean;
  /** The agent's metrics.host (default: the config's default). */
  agentHost?: string;
  /** Items on lane L1 at start: at or below the reorder point (4), an order opens at once. */
  l1Items?: number;
}

/** Starts the chain. By default lane L1 starts below its reorder point, so an order opens soon. */
export async function startChain(opts: ChainOptions = {}): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-metrics-'));
  const hooks = new WebhookReceiver();
  if (opts.webhookFails) hooks.status = 500;
  const url = await hooks.start();
  const dataDir = join(dir, 'central');
  addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
  const sim = await startSimulator({
    seed: 31,
    transport: 'tcp',
    tcpPort: 0,
    logLevel: 'silent',
    scenario: {
      shelves: [
        {
          serial: SERIAL,
          lanes: [
            { unitWeightG: 350, items: 8, capacity: 20 },
            { unitWeightG: 150, items: opts.l1Items ?? 2, capacity: 20 },
          ],
        },
      ],
    },
  });
  const central = await startCentral(
    {
      dataDir,
      log: { level: 'warn' },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      suppliers: [{ id: 'acme' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 150, supplier: 'acme' },
      ],
      sites: [
        {
          id: 'store-1',
          shelves: [
            {
              id: 'shelf-1',
              serial: SERIAL,
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola', capacity: 20 },
                { id: 'L1', channels: [1], sku: 'chips', capacity: 20 },
              ],
            },
          ],
        },
      ],
      timing: { offlineAfterMs: 60_000 },
      replenishment: {
        defaults: { reorderPoint: 4, debounceMs: 300, hysteresis: 1 },
        tickMs: 200,
        webhooks: {
          suppliers: [{ supplier: 'acme', url, secret: 'acme-webhook-secret-0123456789' }],
          retry: { baseMs: 100, maxMs: 200, maxAttempts: 1 },
          pollMs: 100,
        },
      },
    },
    dir,
  );
  const agentFile = join(dir, 'agent.json');
  writeFileSync(
    agentFile,
    JSON.stringify({
      agent: { id: 'pi-1', site: 'store-1' },
      sources: sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
      broker: {
        url: `mqtt://127.0.0.1:${central.mqtt}`,
        username: 'pi-1',
        password: 'agent-password-1',
        reconnectMs: 200,
      },
      stateDir: join(dir, 'agent-state'),
      reconnect: { minMs: 50, maxMs: 500 },
      signal: { heartbeatMs: 1_000 },
      shelves: shelvesFromSim(sim).map((s) => ({ serial: s.serial, calibration: s.calibration })),
      log: { level: 'warn' },
      metrics: { port: 0, ...(opts.agentHost ? { host: opts.agentHost } : {}) },
    }),
  );
  const agent = shelfsense(['agent', '--config', agentFile]);
  const ready = await agent.waitForJson<{ ready?: boolean; metricsPort?: number }>(
    (o) => o.ready === true,
    20_000,
  );
  return {
    dir,
    sim,
    central,
    agent,
    agentMetricsPort: ready.metricsPort ?? 0,
    hooks,
    async stop() {
      await agent.kill('SIGTERM', 5_000);
      await central.stop();
      await sim.stop();
      await hooks.stop();
    },
  };
}

/** Takes `count` items off a lane of the simulated shelf, as a customer would. */
export async function pick(sim: Simulator, lane: number, count: number): Promise<void> {
  if (!sim.controlUrl) throw new Error('the simulator runs without its control API');
  const r = await fetch(`${sim.controlUrl}/shelves/${SERIAL}/actions`, {
    method: 'POST',
    body: JSON.stringify({ action: 'remove', lane, count }),
    headers: { 'content-type': 'application/json' },
  });
  if (r.status !== 200) throw new Error(`pick: HTTP ${r.status} ${await r.text()}`);
}

/** GETs a /metrics page. */
export async function scrape(url: string): Promise<string> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

/** The value of one sample (`name{labels} value`), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Pipes an exposition into `promtool check metrics`: its exit code and everything it said. */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
