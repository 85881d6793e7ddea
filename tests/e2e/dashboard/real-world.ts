/**
 * The real central side for browser tests, in the test process: `Central` with its service parts
 * (HTTP API, MQTT over WebSocket, the built dashboard at `/`), simulated shelves over TCP (seeded,
 * idle: nothing moves unless the test says so through the control API) and a real `Agent` with the
 * factory calibration. Durations are short so orders, alerts and offline states happen in seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { Central, serviceParts } from '@shelfsense/central';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { AgentConfig, CentralConfig, parseWith } from '@shelfsense/protocol';
import { pino } from 'pino';
import type { z } from 'zod';
import { waitFor } from '../../helpers/wait.js';

export const SITE = 'store-1';
export const AGENT = 'pi-1';

export const USERS = [
  { name: 'acme', password: 'acme-password-1', grant: { role: 'supplier', supplier: 'acme' } },
  { name: 'store', password: 'store-password-1', grant: { role: 'operator', sites: [SITE] } },
  { name: 'tech', password: 'tech-password-1', grant: { role: 'technician', sites: [SITE] } },
  { name: 'admin', password: 'admin-password-1', grant: { role: 'admin' } },
  { name: AGENT, password: 'agent-password-1', grant: { role: 'agent', site: SITE, agent: AGENT } },
] as const;

export interface LaneSpec {
  sku: string;
  name: string;
  unitWeightG: number;
  items: number;
  capacity: number;
  /** Per-lane policy override (e.g. a long debounce to hold a lane below its reorder point). */
  policy?: { debounceMs?: number; reorderPoint?: number };
}

export interface WorldOptions {
  seed: number;
  shelf: string;
  serial: string;
  lanes: LaneSpec[];
  /** Default order debounce, ms. */
  debounceMs?: number;
}

/** A lane as `GET /api/lanes/...` answers it (the fields the tests read). */
export interface ApiLane {
  site: string;
  shelf: string;
  lane: string;
  sku: string;
  units: number | null;
  grams: number | null;
  stable: boolean | null;
  status: string;
  openOrder: { id: string; state: string; quantity: number } | null;
}

export interface TruthLane {
  lane: number;
  items: number;
  unitWeightG: number;
  extraG: number;
}

export interface World {
  central: Central;
  sim: Simulator;
  agent: Agent;
  /** The dashboard's URL, `http://127.0.0.1:PORT/`. */
  url: string;
  shelf: string;
  serial: string;
  /** Lane ids in channel order: L1, L2, … */
  laneIds: string[];
  /** One simulator control action on the shelf; resolves with the reply, throws on an error answer. */
  control(action: Record<string, unknown>): Promise<{ appliesFromSeq: number }>;
  /** The simulator's ground truth as of the next frame. */
  truth(): Promise<{ lanes: TruthLane[]; cells: { offset: number; scale: number; trayG: number }[] }>;
  api(path: string, token: string, init?: RequestInit): Promise<Response>;
  login(user: string): Promise<string>;
  lane(id: string, token: string): Promise<ApiLane>;
  /** Waits until the lane (as the API answers it) satisfies `ok`, bounded. */
  waitLane(
    id: string,
    token: string,
    what: string,
    ok: (l: ApiLane) => boolean,
    ms?: number,
  ): Promise<ApiLane>;
  stop(): Promise<void>;
}

export const laneIdOf = (i: number) => `L${i + 1}`;

function centralConfig(o: WorldOptions, dataDir: string): z.input<typeof CentralConfig> {
  return {
    dataDir,
    log: { level: 'warn' },
    suppliers: [{ id: 'acme', name: 'ACME Beverages' }],
    skus: o.lanes.map((l) => ({ id: l.sku, name: l.name, unitWeightG: l.unitWeightG, supplier: 'acme' })),
    sites: [
      {
        id: SITE,
        name: 'Store one',
        shelves: [
          {
            id: o.shelf,
            serial: o.serial,
            agent: AGENT,
            lanes: o.lanes.map((l, i) => ({
              id: laneIdOf(i),
              channels: [i],
              sku: l.sku,
              capacity: l.capacity,
            })),
          },
        ],
      },
    ],
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    timing: { offlineAfterMs: 120_000 },
    integrations: { nodeRed: { enabled: false } },
    replenishment: {
      defaults: { reorderPoint: 4, packSize: 2, debounceMs: o.debounceMs ?? 1_000, hysteresis: 1 },
      lanes: o.lanes.flatMap((l, i) =>
        l.policy ? [{ site: SITE, shelf: o.shelf, lane: laneIdOf(i), ...l.policy }] : [],
      ),
      tickMs: 250,
    },
  };
}

export async function startWorld(o: WorldOptions): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'dash-real-'));
  const stops: (() => Promise<unknown>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
  };
  try {
    const config = parseWith(CentralConfig, centralConfig(o, join(dir, 'central')), 'test central config');
    const central = new Central({ config, logger: pino({ level: 'error' }), parts: serviceParts() });
    await central.start();
    stops.unshift(() => central.stop());
    const users = central.broker!.users;
    for (const u of USERS) await users.add(u.name, u.grant as Parameters<typeof users.add>[1], u.password);

    const sim = await startSimulator({
      transport: 'tcp',
      tcpPort: 0,
      seed: o.seed,
      scenario: {
        shelves: [
          {
            serial: o.serial,
            lanes: o.lanes.map((l) => ({ unitWeightG: l.unitWeightG, items: l.items, capacity: l.capacity })),
          },
        ],
      },
      logger: pino({ level: 'warn' }),
    });
    stops.unshift(() => sim.stop());

    const agentConfig = parseWith(
      AgentConfig,
      {
        agent: { id: AGENT, site: SITE },
        sources: sim.shelves.map((s) => ({ url: `tcp://127.0.0.1:${s.tcpPort}` })),
        broker: {
          url: `mqtt://127.0.0.1:${central.mqttPort}`,
          username: AGENT,
          password: USERS.find((u) => u.name === AGENT)!.password,
          reconnectMs: 200,
        },
        stateDir: join(dir, 'agent'),
        delivery: { redeliverMs: 1_500 },
        log: { level: 'warn' },
        // A shelf leaves the factory calibrated (the simulator's true offset, tray and scale).
        shelves: sim.shelves.map((s) => ({
          serial: s.serial,
          shelf: o.shelf,
          calibration: sim
            .truth(s.serial, 0)
            .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
        })),
      },
      'test agent config',
    );
    const agent = new Agent(agentConfig, createLogger('warn', { part: 'agent' }));
    await agent.start();
    let agentStopped = false;
    const origStop = agent.stop.bind(agent);
    agent.stop = async () => {
      if (agentStopped) return;
      agentStopped = true;
      await origStop();
    };
    stops.unshift(() => agent.stop());

    const base = `http://127.0.0.1:${central.httpPort}`;
    const api = (path: string, token: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...(init.headers ?? {}),
        },
      });
    const lane = async (id: string, token: string) => {
      const r = await api(`/api/lanes/${SITE}/${o.shelf}/${id}`, token);
      if (r.status !== 200) throw new Error(`GET lane ${id}: ${r.status}`);
      return (await r.json()) as ApiLane;
    };
    const world: World = {
      central,
      sim,
      agent,
      url: `${base}/`,
      shelf: o.shelf,
      serial: o.serial,
      laneIds: o.lanes.map((_, i) => laneIdOf(i)),
      async control(action) {
        const r = await fetch(`${sim.controlUrl}/shelves/${o.serial}/actions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(action),
        });
        if (r.status !== 200)
          throw new Error(`control ${JSON.stringify(action)}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { appliesFromSeq: number };
      },
      async truth() {
        const r = await fetch(`${sim.controlUrl}/shelves/${o.serial}/truth`);
        return (await r.json()) as Awaited<ReturnType<World['truth']>>;
      },
      api,
      async login(user) {
        const password = USERS.find((u) => u.name === user)!.password;
        const r = await fetch(`${base}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user, password }),
        });
        if (r.status !== 200) throw new Error(`login ${user}: ${r.status}`);
        return ((await r.json()) as { token: string }).token;
      },
      lane,
      async waitLane(id, token, what, ok, ms = 20_000) {
        return waitFor(
          async () => {
            const l = await lane(id, token);
            return ok(l) ? l : null;
          },
          ms,
          { intervalMs: 100, what: `${id}: ${what}` },
        );
      },
      stop: stopAll,
    };
    return world;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** startWorld, then wait until central holds every lane's first level; returns an admin token too. */
export async function startSettledWorld(o: WorldOptions): Promise<{ world: World; admin: string }> {
  const world = await startWorld(o);
  const admin = await world.login('admin');
  for (const [i, l] of o.lanes.entries()) {
    await world.waitLane(
      laneIdOf(i),
      admin,
      `first level (${l.items} items)`,
      (x) => x.units === l.items,
      30_000,
    );
  }
  return { world, admin };
}
