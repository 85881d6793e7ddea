/**
 * Onboarding a shelf with no server edit, with the real parts: central (embedded broker, HTTP
 * API), a real agent, and two simulated shelves on socat pseudo-terminals. One shelf is in the
 * catalogue; the other's serial is not. The agent reports the unknown one with its channels; the
 * API lists it to the site's technician (and to no one who may not onboard it); its readings stay
 * out of the agent's outbox while the known shelf's keep flowing; its health and raw stream work
 * under its serial; and once a technician PUTs it into the catalogue it leaves the list and its
 * lane counts under the new shelf id — no restart anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { Central, serviceParts } from '@shelfsense/central';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import {
  AgentConfig,
  CentralConfig,
  parseWith,
  StreamPayload,
  topics,
  UnassignedShelvesResponse,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';

const SITE = 'store-1';
const AGENT = 'pi-1';
const KNOWN = 'SIM-KNOWN';
const NEW = 'SIM-NEW';
const UNIT_G = 100;
const PASSWORD = 'onboarding-password-1';
const USERS = [
  { name: AGENT, grant: { role: 'agent', site: SITE, agent: AGENT } },
  { name: 'tech', grant: { role: 'technician', sites: [SITE] } },
  { name: 'tech-elsewhere', grant: { role: 'technician', sites: ['store-2'] } },
  { name: 'store', grant: { role: 'operator', sites: [SITE] } },
  { name: 'admin', grant: { role: 'admin' } },
] as const;

interface Seen {
  topic: string;
  body: Record<string, unknown>;
}

describe('[onboarding] a shelf whose serial the catalogue does not know', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onboarding-'));
  let central: Central;
  let sim: Simulator;
  let agent: Agent;
  let watcher: MqttClient;
  const seen: Seen[] = [];
  /** Retained topics cleared (an empty payload). */
  const cleared: string[] = [];
  const tokens = new Map<string, string>();

  const base = () => `http://127.0.0.1:${central.httpPort}`;
  const api = (user: string, path: string, init: RequestInit = {}) =>
    fetch(`${base()}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(user)}` },
    });
  const unassigned = async (user: string) => {
    const r = await api(user, '/api/shelves/unassigned');
    expect(r.status).toBe(200);
    return parseWith(UnassignedShelvesResponse, await r.json(), 'unassigned shelves');
  };
  const truthItems = (serial: string, lane: number) => sim.truth(serial).lanes[lane]!.items;

  beforeAll(async () => {
    const config = parseWith(
      CentralConfig,
      {
        dataDir: join(dir, 'central'),
        log: { level: 'silent' },
        auth: { scrypt: { cost: 1024 } },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false } },
        suppliers: [{ id: 'acme' }],
        skus: [{ id: 'cola-330', unitWeightG: UNIT_G, supplier: 'acme' }],
        sites: [
          {
            id: SITE,
            shelves: [
              {
                id: 'known',
                serial: KNOWN,
                agent: AGENT,
                lanes: [{ id: 'L0', channels: [0], sku: 'cola-330', capacity: 30 }],
              },
            ],
          },
          { id: 'store-2', shelves: [] },
        ],
      },
      'test central config',
    );
    central = new Central({ config, logger: pino({ level: 'silent' }), parts: serviceParts() });
    await central.start();
    for (const u of USERS) {
      await central.broker!.users.add(u.name, u.grant as never, PASSWORD);
      const r = await fetch(`${base()}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.name, password: PASSWORD }),
      });
      tokens.set(u.name, ((await r.json()) as { token: string }).token);
    }

    watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqttPort}`, {
      username: 'admin',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    watcher.on('message', (topic, p) => {
      if (p.length) seen.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> });
      else cleared.push(topic);
    });
    await watcher.subscribeAsync(`shelfsense/v1/${SITE}/#`, { qos: 1 });

    sim = await startSimulator({
      seed: 7,
      transport: 'pty',
      scenario: {
        shelves: [
          { serial: KNOWN, lanes: [{ unitWeightG: UNIT_G, items: 12, capacity: 30 }] },
          {
            serial: NEW,
            lanes: [
              { unitWeightG: UNIT_G, items: 9, capacity: 30 },
              { unitWeightG: 250, items: 3, capacity: 10 },
            ],
          },
        ],
      },
      logger: pino({ level: 'silent' }),
    });
    const agentConfig = parseWith(
      AgentConfig,
      {
        agent: { id: AGENT, site: SITE },
        sources: sim.shelves.map((s) => ({ path: s.path! })),
        broker: {
          url: `mqtt://127.0.0.1:${central.mqttPort}`,
          username: AGENT,
          password: PASSWORD,
          reconnectMs: 100,
        },
        stateDir: join(dir, 'agent'),
        delivery: { trimOn: 'central', redeliverMs: 1_000 },
        reconnect: { minMs: 50, maxMs: 500 },
        log: { level: 'silent' },
        // Factory calibration only: which shelf is which comes from central.
        shelves: sim.shelves.map((s) => ({
          serial: s.serial,
          calibration: sim
            .truth(s.serial, 0)
            .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
        })),
      },
      'test agent config',
    );
    agent = new Agent(agentConfig, createLogger('silent', { part: 'agent' }));
    await agent.start();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    await watcher?.endAsync().catch(() => undefined);
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is listed, with its channels, to the site’s technician and the admin; not to others', async () => {
    const list = await waitFor(
      async () => {
        const l = await unassigned('tech');
        return l.length > 0 ? l : null;
      },
      15_000,
      { intervalMs: 100, what: 'the new shelf in the unassigned list' },
    );
    expect(list).toEqual([
      { site: SITE, agent: AGENT, serial: NEW, channels: 2, agentOnline: true, seenAt: expect.any(Number) },
    ]);
    expect(await unassigned('admin')).toEqual(list);
    expect(await unassigned('tech-elsewhere')).toEqual([]);
    expect((await api('store', '/api/shelves/unassigned')).status).toBe(403);
  });

  it('[outbox] the known shelf’s readings keep flowing while the unknown one is attached', async () => {
    const admin = 'admin';
    const laneOf = async () =>
      (await (await api(admin, `/api/lanes/${SITE}/known/L0`)).json()) as { units: number | null };
    await waitFor(async () => (await laneOf()).units === 12, 30_000, {
      intervalMs: 100,
      what: 'the known lane’s first count',
    });
    const r = await fetch(`${sim.controlUrl}/shelves/${KNOWN}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'remove', lane: 0, count: 5 }),
    });
    expect(r.status).toBe(200);
    await waitFor(async () => (await laneOf()).units === 7, 30_000, {
      intervalMs: 100,
      what: 'the pick counted at central',
    });
    // Everything the agent queued was committed and trimmed: nothing of the new shelf waits.
    await waitFor(() => agent.outboxStats?.queued === 0, 10_000, { what: 'an empty outbox' });
    const mine = agent.describe().shelves.find((s) => s.serial === NEW)!;
    // No lanes, so no counts under made-up lanes; its channels are still read.
    expect(mine).toMatchObject({ shelf: NEW, attached: true, assigned: false, lanes: [] });
    const newTopics = seen.filter((m) => m.topic.startsWith(`shelfsense/v1/${SITE}/${NEW}/`));
    expect(newTopics.some((m) => m.topic.endsWith('/health'))).toBe(true);
    expect(newTopics.filter((m) => /\/(level|event)$/.test(m.topic))).toEqual([]);
  });

  it('[live readings] streams its raw channels under its serial', async () => {
    const r = await api('tech', `/api/agents/${SITE}/${AGENT}/commands/stream`, {
      method: 'POST',
      body: JSON.stringify({ args: { shelf: NEW, durationMs: 2_000 } }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { status: string }).status).toBe('ok');
    const frame = await waitFor(
      () =>
        seen
          .filter((m) => m.topic === topics.stream(SITE, AGENT))
          .map((m) => parseWith(StreamPayload, m.body, 'stream'))
          .find((s) => s.shelf === NEW),
      5_000,
      { what: 'a stream frame of the new shelf' },
    );
    expect(frame.channels.map((c) => c.channel)).toEqual([0, 1]);
    expect(frame.channels.every((c) => typeof c.raw === 'number')).toBe(true);
  });

  it('after PUT shelf it leaves the list and its lane counts under the new shelf id', async () => {
    const put = await api('tech', `/api/catalogue/sites/${SITE}/shelves/b`, {
      method: 'PUT',
      body: JSON.stringify({
        serial: NEW,
        agent: AGENT,
        lanes: [{ id: 'L0', channels: [0], sku: 'cola-330', capacity: 24 }],
      }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    await waitFor(async () => (await unassigned('tech')).length === 0, 5_000, {
      intervalMs: 100,
      what: 'the shelf to leave the unassigned list',
    });
    const level = await waitFor(
      () => seen.find((m) => m.topic === topics.level(SITE, 'b', 'L0') && m.body.stable === true),
      30_000,
      { what: 'a level under the new shelf id' },
    );
    expect(level.body).toMatchObject({ serial: NEW, sku: 'cola-330', units: truthItems(NEW, 0) });
    const lane = await waitFor(
      async () => {
        const l = (await (await api('tech', `/api/lanes/${SITE}/b/L0`)).json()) as { units: number | null };
        return l.units === 9 ? l : null;
      },
      10_000,
      { intervalMs: 100, what: 'central’s view of the new lane' },
    );
    expect(lane.units).toBe(truthItems(NEW, 0));
    expect(agent.describe().shelves.find((s) => s.serial === NEW)).toMatchObject({
      shelf: 'b',
      assigned: true,
    });
    // The health it reported under its serial is cleared: no shelf of that id is left behind.
    await waitFor(() => cleared.includes(topics.health(SITE, NEW)), 5_000, {
      what: 'the old health cleared',
    });
  });

  it('[decommission] DELETE puts it back in the list; the agent stops counting it, even its last shelf', async () => {
    const revisionOf = async (shelf: string) => {
      const c = (await (await api('tech', '/api/catalogue')).json()) as {
        sites: { id: string; shelves: { id: string; revision: number }[] }[];
      };
      return c.sites.find((x) => x.id === SITE)!.shelves.find((x) => x.id === shelf)!.revision;
    };
    const del = await api(
      'tech',
      `/api/catalogue/sites/${SITE}/shelves/b?revision=${await revisionOf('b')}`,
      {
        method: 'DELETE',
      },
    );
    expect(del.status, await del.clone().text()).toBe(200);
    await waitFor(async () => (await unassigned('tech')).map((x) => x.serial).join() === NEW, 5_000, {
      intervalMs: 100,
      what: 'the decommissioned shelf back in the list',
    });
    // Central knows at once; the agent when its new lane settings arrive.
    const released = (serial: string) =>
      waitFor(() => agent.describe().shelves.find((s) => s.serial === serial && !s.assigned), 5_000, {
        what: `the agent to release ${serial}`,
      });
    expect(await released(NEW)).toMatchObject({ shelf: NEW, lanes: [] });

    // The agent's last shelf: its lane settings become empty rather than staying as they were.
    const last = await api(
      'admin',
      `/api/catalogue/sites/${SITE}/shelves/known?revision=${await revisionOf('known')}`,
      {
        method: 'DELETE',
      },
    );
    expect(last.status, await last.clone().text()).toBe(200);
    await waitFor(
      async () => (await unassigned('tech')).map((x) => x.serial).join() === `${KNOWN},${NEW}`,
      5_000,
      { intervalMs: 100, what: 'both shelves unassigned' },
    );
    expect(await released(KNOWN)).toMatchObject({ shelf: KNOWN, lanes: [] });
    // The catalogue names the agent no more; its technician can still stream a shelf to onboard.
    const since = seen.length;
    const r = await api('tech', `/api/agents/${SITE}/${AGENT}/commands/stream`, {
      method: 'POST',
      body: JSON.stringify({ args: { shelf: KNOWN, durationMs: 1_000 } }),
    });
    expect(r.status, await r.clone().text()).toBe(200);
    await waitFor(
      () => seen.slice(since).some((m) => m.topic === topics.stream(SITE, AGENT) && m.body.shelf === KNOWN),
      5_000,
      { what: 'a stream frame from an agent the catalogue no longer names' },
    );
    const elsewhere = await api('tech-elsewhere', `/api/agents/${SITE}/${AGENT}/commands/stream`, {
      method: 'POST',
      body: JSON.stringify({ args: { shelf: KNOWN, durationMs: 1_000 } }),
    });
    expect(elsewhere.status).toBe(404);
  });
});
