/**
 * `shelfsense demo`: the whole system on one machine — simulated shelves over TCP, an agent, and
 * the central side with its embedded broker, SQLite store and dashboard — in a temp or given
 * directory. Prints the dashboard URL and the demo credentials; Ctrl-C stops everything cleanly.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { AgentConfig, CentralConfig, childLogger, parseWith } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { Central, type CentralParts, type HttpMount } from './central.js';
import {
  DEMO_AGENT,
  DEMO_SHELVES,
  DEMO_SITE,
  DEMO_USERS,
  demoCentralConfig,
  demoScenario,
  laneId,
} from './demo-setup.js';

export interface DemoOptions {
  dir?: string | undefined;
  httpPort: number;
  mqttPort: number;
  speed: number;
  webhook?: string | undefined;
  logLevel: string;
  mounts?: (parts: CentralParts) => HttpMount[] | Promise<HttpMount[]>;
}

export interface Demo {
  central: Central;
  agent: Agent;
  sim: Simulator;
  dir: string;
  urls: { dashboard: string; mqtt: string; control: string | null };
  stop(): Promise<void>;
}

export async function startDemo(o: DemoOptions, log: Logger): Promise<Demo> {
  const dir = resolve(o.dir ?? mkdtempSync(join(tmpdir(), 'shelfsense-demo-')));
  mkdirSync(dir, { recursive: true });
  const config = parseWith(
    CentralConfig,
    demoCentralConfig({
      dataDir: join(dir, 'central'),
      httpPort: o.httpPort,
      mqttPort: o.mqttPort,
      webhook: o.webhook,
      logLevel: o.logLevel,
    }),
    'demo central config',
  );
  const central = new Central({
    config,
    logger: childLogger(log, 'central'),
    ...(o.mounts ? { mounts: o.mounts } : {}),
  });
  await central.start();
  const stops: (() => Promise<unknown>)[] = [() => central.stop()];
  try {
    const users = central.broker!.users;
    for (const u of DEMO_USERS) {
      if (!users.get(u.name)) await users.add(u.name, u.grant as Parameters<typeof users.add>[1], u.password);
    }
    const sim = await startSimulator({
      transport: 'tcp',
      tcpPort: 0,
      speed: o.speed,
      scenario: demoScenario(),
      logger: childLogger(log, 'sim'),
    });
    stops.unshift(() => sim.stop());
    const agentPassword = DEMO_USERS.find((u) => u.name === DEMO_AGENT)!.password;
    const agentConfig = parseWith(
      AgentConfig,
      {
        agent: { id: DEMO_AGENT, site: DEMO_SITE },
        sources: sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
        broker: {
          url: `mqtt://127.0.0.1:${central.mqttPort}`,
          username: DEMO_AGENT,
          password: agentPassword,
          reconnectMs: 500,
        },
        stateDir: join(dir, 'agent'),
        delivery: { redeliverMs: 3_000 },
        signal: { heartbeatMs: 30_000 },
        log: { level: o.logLevel as AgentConfig['log']['level'] },
        // A shelf leaves the factory calibrated; a technician can redo it from the dashboard.
        shelves: sim.shelves.map((s) => ({
          serial: s.serial,
          shelf: DEMO_SHELVES.find((d) => d.serial === s.serial)?.id,
          calibration: sim
            .truth(s.serial, 0)
            .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
        })),
      },
      'demo agent config',
    );
    const agent = new Agent(agentConfig, childLogger(log, 'agent'));
    await agent.start();
    stops.unshift(() => agent.stop());
    const host = `127.0.0.1:${central.httpPort}`;
    return {
      central,
      agent,
      sim,
      dir,
      urls: {
        dashboard: `http://${host}/`,
        mqtt: `mqtt://127.0.0.1:${central.mqttPort}`,
        control: sim.controlUrl,
      },
      stop: async () => {
        for (const s of stops.splice(0)) await s();
      },
    };
  } catch (err) {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
    throw err;
  }
}

export function demoBanner(d: Demo): string {
  const users = DEMO_USERS.filter((u) => u.grant.role !== 'agent')
    .map((u) => `    ${u.name.padEnd(8)} ${u.password.padEnd(14)} (${u.grant.role})`)
    .join('\n');
  return [
    'Shelfsense demo is running.',
    '',
    `  Dashboard:      ${d.urls.dashboard}`,
    `  MQTT:           ${d.urls.mqtt}`,
    `  Shelf control:  ${d.urls.control ?? '-'}   (e.g. POST /shelves/DEMO-A/actions {"action":"remove","lane":0,"count":3})`,
    `  Data:           ${d.dir}`,
    '',
    '  Log in as (user / password):',
    users,
    '',
    `  Lanes: ${DEMO_SHELVES.map((s) => `${s.id}/${s.lanes.map((_, i) => laneId(i)).join(',')}`).join('  ')}`,
    '  Press Ctrl-C to stop.',
  ].join('\n');
}
