/**
 * The soak run's world: one store with every simulated shelf, the catalogue's two suppliers, the
 * central config (shelf map, reorder points per SKU, webhooks) and the agent config (TCP sources,
 * factory calibration, trimming on central's stored mark). Lane ids are `L<lane index>`.
 */
import { mkdirSync } from 'node:fs';
import type { Simulator, SoakWeek } from '@shelfsense/firmware-sim';
import { addUser } from '../helpers/central.js';

export const SITE = 'soak-store';
export const AGENT = 'pi-1';
export const AGENT_PASSWORD = 'soak-agent-password-1';
export const SUPPLIERS = ['acme', 'crunchy'] as const;
export const supplierPassword = (s: string) => `soak-${s}-password-1`;
export const webhookSecret = (s: string) => `soak-webhook-secret-${s}-0123456789`;
export const shelfId = (index: number) => `shelf-${String(index + 1).padStart(2, '0')}`;
export const laneId = (lane: number) => `L${lane}`;

/** Timing of the central side; durations on reading time are device time. */
export const RULES = {
  debounceMs: 1_500,
  hysteresis: 1,
  moveWindowMs: 2_000,
  tickMs: 500,
} as const;

export function addSoakUsers(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  addUser(dataDir, AGENT, ['--role', 'agent', '--site', SITE], AGENT_PASSWORD);
  for (const s of SUPPLIERS)
    addUser(dataDir, s, ['--role', 'supplier', '--supplier', s], supplierPassword(s));
}

export function centralConfig(week: SoakWeek, sim: Simulator, dataDir: string, webhookUrl: string) {
  const skus = new Map(week.shelves.flatMap((s) => s.lanes.map((l) => [l.sku.id, l.sku] as const)));
  return {
    dataDir,
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    suppliers: SUPPLIERS.map((id) => ({ id })),
    skus: [...skus.values()].map((s) => ({ id: s.id, unitWeightG: s.unitWeightG, supplier: s.supplier })),
    sites: [
      {
        id: SITE,
        shelves: week.shelves.map((s) => ({
          id: shelfId(s.index),
          serial: s.serial,
          agent: AGENT,
          lanes: s.lanes.map((l) => ({
            id: laneId(l.lane),
            channels: sim.shelf(s.serial).lanes[l.lane]?.channels ?? [l.lane],
            sku: l.sku.id,
            capacity: l.sku.capacity,
          })),
        })),
      },
    ],
    // Heartbeats arrive every second of wall time; a minute of silence is a real outage.
    timing: { offlineAfterMs: 60_000 },
    replenishment: {
      defaults: { debounceMs: RULES.debounceMs, hysteresis: RULES.hysteresis },
      skus: [...skus.values()].map((s) => ({ sku: s.id, reorderPoint: s.reorderPoint })),
      tickMs: RULES.tickMs,
      receipt: { moveWindowMs: RULES.moveWindowMs },
      // A lane left empty overnight is a stock-out, not an anomaly.
      alerts: { anomalyAfterMs: 60_000 },
      webhooks: {
        suppliers: SUPPLIERS.map((s) => ({ supplier: s, url: webhookUrl, secret: webhookSecret(s) })),
        retry: { baseMs: 200, maxMs: 2_000, maxAttempts: 100 },
        pollMs: 100,
      },
    },
  };
}

export function agentConfig(sim: Simulator, mqttPort: number, stateDir: string, heartbeatMs: number) {
  return {
    agent: { id: AGENT, site: SITE },
    sources: sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
    broker: {
      url: `mqtt://127.0.0.1:${mqttPort}`,
      username: AGENT,
      password: AGENT_PASSWORD,
      reconnectMs: 200,
    },
    delivery: { trimOn: 'central', redeliverMs: 5_000 },
    stateDir,
    reconnect: { minMs: 50, maxMs: 500 },
    // In virtual time the shelves run ahead of the wall clock: the heartbeat (wall clock) carries the
    // reading time forward, so debounces and delivery windows at central elapse on reading time.
    signal: { heartbeatMs },
    shelves: sim.shelves.map((s) => ({
      serial: s.serial,
      calibration: sim
        .truth(s.serial, 0)
        .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
    })),
    log: { level: 'warn' },
    metrics: { port: 0 },
  };
}
