/**
 * Every `parts.*` switch the central config allows, on a real central (embedded aedes over TCP,
 * SQLite, HTTP API): with a part off, central starts, the other parts do their work, and what the
 * missing part would have done does not happen — or the API says why it cannot.
 * (`parts.broker: false` runs against a real Mosquitto in ingest-paths.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, serviceParts } from '@shelfsense/central';
import {
  CentralConfig,
  type CentralConfigInput,
  clientIds,
  filters,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { level as levelPayload } from '../../unit/central/store/fixtures.js';

const SITE = 'store-1';
const AGENT = 'pi-1';
const PASSWORD = 'correct horse battery';

function config(dataDir: string, parts: CentralConfigInput['parts']): CentralConfig {
  return parseWith(
    CentralConfig,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      suppliers: [{ id: 'acme' }],
      skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
      sites: [
        {
          id: SITE,
          shelves: [
            {
              id: 'shelf-1',
              serial: 'S1',
              agent: AGENT,
              lanes: [{ id: 'L0', channels: [0], sku: 'cola', capacity: 20 }],
            },
          ],
        },
      ],
      replenishment: {
        defaults: { reorderPoint: 4, debounceMs: 0 },
        webhooks: {
          suppliers: [{ supplier: 'acme', url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16+chars' }],
        },
      },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
      parts,
    },
    'test central config',
  );
}

const level = (seq: number, units: number) =>
  JSON.stringify(levelPayload(seq, units, Date.now() + seq, { agent: AGENT, serial: 'S1', sku: 'cola' }));

describe('central part switches', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
  });

  async function start(parts: CentralConfigInput['parts']) {
    const dir = mkdtempSync(join(tmpdir(), 'parts-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const central = new Central({
      config: config(dir, parts),
      logger: pino({ level: 'silent' }),
      parts: serviceParts(),
    });
    await central.start();
    stops.unshift(() => central.stop());
    const users = central.broker!.users;
    await users.add(AGENT, { role: 'agent', site: SITE, agent: AGENT }, PASSWORD);
    await users.add('tech', { role: 'technician', sites: [SITE] }, PASSWORD);
    return central;
  }

  /** An agent publishing levels 1..n of a lane that falls to 2 items (below its reorder point). */
  async function publishLevels(central: Central, n: number) {
    const agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.broker!.ports.tcp}`, {
      username: AGENT,
      password: PASSWORD,
      clientId: clientIds.agent(SITE, AGENT),
      reconnectPeriod: 0,
    });
    stops.unshift(() => agent.endAsync());
    for (let seq = 1; seq <= n; seq++)
      await agent.publishAsync(topics.level(SITE, 'shelf-1', 'L0'), level(seq, seq < n ? 10 : 2), { qos: 1 });
  }

  async function api(central: Central, path: string, init: RequestInit = {}) {
    const base = `http://127.0.0.1:${central.httpPort}`;
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'tech', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    return fetch(`${base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
  }

  it('[parts.ingest off] central serves the API, and a command still reaches its agent over the bus', async () => {
    const central = await start({ ingest: false });
    expect(central.ingest).toBeNull();
    expect((await fetch(`http://127.0.0.1:${central.httpPort}/healthz`)).status).toBe(200);
    expect((await api(central, '/api/lanes')).status).toBe(200);
    // The agent answers its requests; commands travel on central's bus, which no part owns.
    const agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.broker!.ports.tcp}`, {
      username: AGENT,
      password: PASSWORD,
      clientId: clientIds.agent(SITE, AGENT),
      reconnectPeriod: 0,
    });
    stops.unshift(() => agent.endAsync());
    agent.on('message', (_topic, payload) => {
      const { transaction } = JSON.parse(payload.toString()) as { transaction: string };
      const reply = { transaction, status: 'ok', data: { identified: true } };
      void agent.publishAsync(topics.response(SITE, AGENT, 'identify'), JSON.stringify(reply), { qos: 1 });
    });
    await agent.subscribeAsync(filters.requests(SITE, AGENT), { qos: 1 });
    const r = await api(central, `/api/agents/${SITE}/${AGENT}/commands/identify`, {
      method: 'POST',
      body: '{}',
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', data: { identified: true } });
  });

  it('[parts.rules off] readings are committed, and a lane below its reorder point orders nothing', async () => {
    const central = await start({ rules: false });
    expect(central.rules).toBeNull();
    await publishLevels(central, 5);
    const store = central.store!;
    await waitFor(() => store.readings.mark(SITE, AGENT) === 5, 10_000, { what: 'five readings committed' });
    expect(store.db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(0);
  });

  it('[parts.webhooks off] the rules order; the webhook stays queued, undelivered', async () => {
    const central = await start({ webhooks: false });
    expect(central.worker).toBeNull();
    await publishLevels(central, 5);
    const store = central.store!;
    await waitFor(() => store.db.prepare('SELECT COUNT(*) FROM orders').pluck().get() === 1, 10_000, {
      what: 'one order',
    });
    await waitFor(
      () => (store.db.prepare('SELECT COUNT(*) FROM webhook_outbox').pluck().get() as number) >= 1,
      10_000,
      { what: 'the order’s webhook queued' },
    );
    expect(
      store.db
        .prepare(`SELECT COUNT(*) FROM webhook_outbox WHERE state != 'pending' OR attempts > 0`)
        .pluck()
        .get(),
    ).toBe(0);
  });

  it('[parts.http off] no HTTP server; MQTT and ingest work', async () => {
    const central = await start({ http: false });
    expect(central.httpPort).toBeNull();
    await publishLevels(central, 3);
    const store = central.store!;
    await waitFor(() => store.readings.mark(SITE, AGENT) === 3, 10_000, { what: 'three readings committed' });
  });
});
