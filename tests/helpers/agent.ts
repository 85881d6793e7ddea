/**
 * Helpers for agent tests: an agent config pointing at simulated shelves, with the factory
 * calibration a shelf would ship with (the simulator's true cell offset, tray and scale), and a
 * subscriber that collects what the agent publishes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Simulator } from '@shelfsense/firmware-sim';
import { AgentConfig, type AgentConfigInput, parseWith } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';

export function laneId(i: number): string {
  return `L${i}`;
}

/** Lane settings and factory calibration for every simulated shelf, as a local agent config. */
export function shelvesFromSim(
  sim: Simulator,
  sku = (serial: string, lane: number) => `sku-${serial}-${lane}`,
) {
  return sim.shelves.map((s) => {
    // The shelf as it booted (the first truth record; an MCU shelf numbers its frames itself).
    const truth = sim.groundTruth.states(s.serial)[0] ?? sim.truth(s.serial);
    return {
      serial: s.serial,
      shelf: s.serial,
      lanes: s.lanes.map((l) => ({
        lane: laneId(l.lane),
        channels: l.channels,
        sku: sku(s.serial, l.lane),
        unitWeightG: l.unitWeightG,
        capacity: l.capacity,
      })),
      calibration: truth.cells.map((c, channel) => ({
        channel,
        offset: c.offset + c.trayG * c.scale,
        scale: c.scale,
      })),
    };
  });
}

export function agentConfig(
  sim: Simulator,
  brokerUrl: string,
  overrides: Partial<AgentConfigInput> = {},
): AgentConfig & { defaultUnitWeightG: number } {
  const input: AgentConfigInput = {
    agent: { id: 'pi-1', site: 'store-1' },
    sources: sim.shelves.map((s) => (s.path ? { path: s.path } : { url: `tcp://127.0.0.1:${s.tcpPort}` })),
    broker: { url: brokerUrl, reconnectMs: 100 },
    stateDir: mkdtempSync(join(tmpdir(), 'agent-state-')),
    delivery: { trimOn: 'broker' },
    reconnect: { minMs: 50, maxMs: 500 },
    shelves: shelvesFromSim(sim),
    log: { level: 'silent' },
    ...overrides,
  };
  return { ...parseWith(AgentConfig, input, 'test agent config'), defaultUnitWeightG: 100 };
}

/**
 * An agent config for a chain with a real central on `mqttPort`: the agent signs in as `pi-1`,
 * trims its outbox on central's stored mark, and takes its lane settings from central's map; only
 * each shelf's factory calibration is local.
 */
export function centralAgentConfig(
  sim: Simulator,
  mqttPort: number,
): AgentConfig & { defaultUnitWeightG: number } {
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  return agentConfig(sim, url, {
    broker: { url, username: 'pi-1', password: 'agent-password-1', reconnectMs: 200 },
    delivery: { trimOn: 'central', redeliverMs: 1_500 },
    shelves: shelvesFromSim(sim).map(({ serial, calibration }) => ({ serial, calibration })),
  });
}

export interface Collected {
  topic: string;
  payload: Record<string, unknown>;
  retain: boolean;
}

/** Subscribes to `filters` and keeps every message, in arrival order. */
export async function collect(url: string, filters: string[], opts: mqtt.IClientOptions = {}) {
  const messages: Collected[] = [];
  const client: MqttClient = await mqtt.connectAsync(url, { reconnectPeriod: 100, ...opts });
  client.on('message', (topic, payload, packet) => {
    try {
      messages.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain });
    } catch {
      messages.push({ topic, payload: { unparsable: payload.toString() }, retain: packet.retain });
    }
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return { messages, client, close: () => client.endAsync() };
}

/** Posts an action (remove, add, …) to a simulated shelf through the simulator's control API. */
export async function simControl(
  sim: Simulator,
  serial: string,
  action: Record<string, unknown>,
): Promise<{ appliesFromSeq: number }> {
  const r = await fetch(`${sim.controlUrl}/shelves/${serial}/actions`, {
    method: 'POST',
    body: JSON.stringify(action),
    headers: { 'content-type': 'application/json' },
  });
  if (r.status !== 200) throw new Error(`control ${JSON.stringify(action)}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { appliesFromSeq: number };
}
