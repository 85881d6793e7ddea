/**
 * `shelfsense demo`: the whole system on one machine — simulated shelves over TCP, an agent, and
 * the central side with its embedded broker, SQLite store and dashboard — in a temp or given
 * directory. The loop closes by itself: an automatic supplier (unless `supplier: 'manual'`)
 * acknowledges and ships each order, the goods arrive on the simulated shelf, and the shelf's
 * weight marks the order received. The scheduled supplier's needs go out as purchase orders — at
 * once when urgent, else sent early by the store's operator every couple of minutes of shop time
 * (a weekly cut-off would not come during a demo); the supplier acknowledges and ships each PO, and
 * each of its lanes arrives and is counted the same way. Prints the dashboard URL and the demo
 * credentials; Ctrl-C stops everything cleanly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '@shelfsense/agent';
import { Central, type Part, serviceParts } from '@shelfsense/central';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { AgentConfig, CentralConfig, childLogger, ensurePrivateDir, parseWith } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { DemoDelivery } from './demo-delivery.js';
import {
  DEMO_AGENT,
  DEMO_OPERATOR,
  DEMO_PACK_SIZE,
  DEMO_SCHEDULED_SUPPLIER,
  DEMO_SEED,
  DEMO_SHELVES,
  DEMO_SITE,
  DEMO_USERS,
  demoCentralConfig,
  demoScenario,
  demoSimLane,
  laneId,
} from './demo-setup.js';
import { DemoOperator, DemoSupplier } from './demo-supplier.js';

export interface DemoOptions {
  dir?: string | undefined;
  httpPort: number;
  mqttPort: number;
  speed: number;
  webhook?: string | undefined;
  logLevel: string;
  /** Central's HTTP-facing parts (default: serviceParts(); the automatic supplier needs the API). */
  parts?: readonly Part[];
  /** `auto` (default): the demo's supplier acknowledges and ships; `manual`: people do, in the dashboard. */
  supplier?: 'auto' | 'manual';
  /** The automatic supplier's delay before acknowledging, and again before shipping, ms (default 2000). */
  supplierDelayMs?: number;
  /** Fraction of automatic shipments sent one pack short (default 0.2). */
  shortRate?: number;
  /** From shipping to the first item on the shelf, ms (default 3000). */
  deliveryDelayMs?: number;
  /** Between two delivered items, ms (default 100). */
  itemMs?: number;
  /**
   * How often the store's operator sends the purchase-order drafts early, ms (default: 2 minutes
   * of shop time, 120000 / speed; 0: never, the drafts wait for their cut-off).
   */
  sendDraftsEveryMs?: number;
}

export interface Demo {
  central: Central;
  agent: Agent;
  sim: Simulator;
  delivery: DemoDelivery;
  /** Null with `supplier: 'manual'`. */
  supplier: DemoSupplier | null;
  /** The operator sending purchase-order drafts early; null with `sendDraftsEveryMs: 0`. */
  operator: DemoOperator | null;
  dir: string;
  urls: { dashboard: string; mqtt: string; control: string | null };
  stop(): Promise<void>;
}

export async function startDemo(o: DemoOptions, log: Logger): Promise<Demo> {
  // mkdtemp makes a 0700 directory; a given one is created 0700 if it does not exist yet.
  const dir = ensurePrivateDir(o.dir ?? mkdtempSync(join(tmpdir(), 'shelfsense-demo-')), log);
  const config = parseWith(
    CentralConfig,
    demoCentralConfig({
      dataDir: join(dir, 'central'),
      httpPort: o.httpPort,
      mqttPort: o.mqttPort,
      webhook: o.webhook,
      logLevel: o.logLevel,
      speed: o.speed,
    }),
    'demo central config',
  );
  const central = new Central({
    config,
    logger: childLogger(log, 'central'),
    parts: o.parts ?? serviceParts(),
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
      seed: DEMO_SEED,
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

    const delivery = new DemoDelivery({
      orders: central.orders!,
      sim,
      site: DEMO_SITE,
      locate: demoSimLane,
      delayMs: o.deliveryDelayMs ?? 3_000,
      itemMs: o.itemMs ?? 100,
      purchaseOrderOf: (orderId) => central.centralStore?.purchaseOrders.needOf(orderId)?.poId,
      logger: childLogger(log, 'delivery'),
    });
    delivery.start();
    stops.unshift(() => delivery.stop());
    const host = `127.0.0.1:${central.httpPort}`;
    let supplier: DemoSupplier | null = null;
    if ((o.supplier ?? 'auto') === 'auto') {
      supplier = new DemoSupplier({
        baseUrl: `http://${host}`,
        accounts: DEMO_USERS.filter((u) => u.grant.role === 'supplier').map((u) => ({
          username: u.name,
          password: u.password,
          purchaseOrders: u.name === DEMO_SCHEDULED_SUPPLIER,
        })),
        delayMs: o.supplierDelayMs ?? 2_000,
        shortRate: o.shortRate ?? 0.2,
        packSize: DEMO_PACK_SIZE,
        seed: DEMO_SEED,
        logger: childLogger(log, 'supplier'),
      });
      supplier.start();
      stops.unshift(() => supplier!.stop());
    }
    // A weekly cut-off would not come during a demo: the store's operator sends the drafts early.
    const everyMs = o.sendDraftsEveryMs ?? Math.round(120_000 / o.speed);
    let operator: DemoOperator | null = null;
    if (everyMs > 0) {
      const user = DEMO_USERS.find((u) => u.name === DEMO_OPERATOR)!;
      operator = new DemoOperator({
        baseUrl: `http://${host}`,
        account: { username: user.name, password: user.password },
        everyMs,
        logger: childLogger(log, 'operator'),
      });
      operator.start();
      stops.unshift(() => operator!.stop());
    }
    return {
      central,
      agent,
      sim,
      delivery,
      supplier,
      operator,
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
    '',
    '  Within a minute the fast-selling lane (shelf-a/L1) drops below its reorder point and an order',
    d.supplier
      ? '  appears; the automatic supplier acknowledges and ships it, the goods arrive on the shelf item\n' +
        '  by item, and the shelf confirms the delivery by weight (order Received).'
      : '  appears. Log in as its supplier (acme) to acknowledge and ship it; the goods then arrive on\n' +
        '  the shelf item by item and the shelf confirms the delivery by weight (order Received).',
    '',
    `  ${DEMO_SCHEDULED_SUPPLIER} delivers on a weekly schedule, so its lanes' needs go out as purchase orders:`,
    '  at once when the lane would run out before the next delivery (urgent), else at the cut-off' +
      (d.operator
        ? `\n  or when the store's operator (${DEMO_OPERATOR}) sends the draft early, every ${(d.operator.everyMs / 1000).toFixed(0)} s.`
        : '\n  or when the store operator sends the draft.'),
    d.supplier
      ? `  The supplier acknowledges and ships each PO; each lane's share arrives and is counted as above.`
      : `  Log in as ${DEMO_SCHEDULED_SUPPLIER} to acknowledge and ship it; each lane's share then arrives as above.`,
    '  Press Ctrl-C to stop.',
  ].join('\n');
}
