/**
 * A catalogue applied while central runs (as `shelfsense config apply` writes it, from another
 * connection to the store) is taken up live: a lane given to another supplier leaves the old
 * supplier's MQTT subscription and HTTP view within a second, its open order is cancelled, and the
 * next low reading orders from the new supplier under its own policy. No restart, no reconnect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, serviceParts } from '@shelfsense/central';
import { applyCatalogue } from '@shelfsense/central/catalogue';
import { Store } from '@shelfsense/central/store';
import {
  CATALOGUE_TOPIC,
  type CentralConfig,
  CentralConfig as CentralConfigSchema,
  catalogueOf,
  clientIds,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { level } from '../../unit/central/store/fixtures.js';

const PASSWORD = 'correct horse battery';

interface OrderSeen {
  orderId: string;
  state: string;
  supplier: string;
  lane: string;
}
const LEVELS = 'shelfsense/v1/+/+/+/level';

function config(dataDir: string): CentralConfig {
  return parseWith(
    CentralConfigSchema,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false }, homeAssistant: { enabled: true } },
      suppliers: [{ id: 'acme' }, { id: 'crunchy' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 120, supplier: 'crunchy' },
      ],
      sites: [
        {
          id: 's1',
          shelves: [
            {
              id: 'a',
              serial: 'SN0001',
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola', capacity: 24 },
                { id: 'L1', channels: [1], sku: 'cola', capacity: 24 },
              ],
            },
          ],
        },
      ],
      replenishment: {
        defaults: { reorderPoint: 4, debounceMs: 0 },
        skus: [{ sku: 'chips', reorderPoint: 6 }],
      },
    },
    'test central config',
  );
}

describe('a catalogue applied to a running central', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalogue-live-'));
  const cfg = config(dir);
  let central: Central;
  let agent: MqttClient;
  const seen: Record<string, { topic: string; seq: number }[]> = { acme: [], crunchy: [] };
  const orderEvents: ({ by: string } & OrderSeen)[] = [];
  /** Catalogue versions each supplier heard announced. */
  const announced: Record<string, number[]> = { acme: [], crunchy: [] };
  /** Home Assistant discovery: config topic → sensor name, as retained now. */
  const discovery = new Map<string, string>();
  const countSensors = () => [...discovery.values()].filter((n) => n.endsWith(' count')).sort();
  const clients: MqttClient[] = [];
  const suppliers = new Map<string, MqttClient>();
  let seq = 0;

  const url = () => `mqtt://127.0.0.1:${central.mqttPort}`;
  const send = (lane: string, units: number) =>
    agent.publishAsync(
      topics.level('s1', 'a', lane),
      JSON.stringify(
        level(++seq, units, Date.now(), {
          sku: lane === 'L0' && central.catalogueVersion > 1 ? 'chips' : 'cola',
        }),
      ),
      { qos: 1 },
    );
  const lanesFor = async (user: string) => {
    const base = `http://127.0.0.1:${central.httpPort}`;
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const r = await fetch(`${base}/api/lanes`, { headers: { authorization: `Bearer ${token}` } });
    return ((await r.json()) as { lane: string; sku: string }[]).map((l) => `${l.lane}:${l.sku}`).sort();
  };

  beforeAll(async () => {
    central = new Central({ config: cfg, logger: pino({ level: 'silent' }), parts: serviceParts() });
    await central.start();
    const users = central.broker!.users;
    await users.add('pi-1', { role: 'agent', site: 's1', agent: 'pi-1' }, PASSWORD);
    await users.add('acme', { role: 'supplier', supplier: 'acme' }, PASSWORD);
    await users.add('crunchy', { role: 'supplier', supplier: 'crunchy' }, PASSWORD);
    await users.add('admin', { role: 'admin' }, PASSWORD);
    await users.add('ops', { role: 'operator', sites: ['s1'] }, PASSWORD);
    // Every order event anyone may read, by who read it.
    // crunchy owns no lane yet, so it could not subscribe; ops would hear any announcement.
    for (const name of ['ops', 'acme']) {
      const c = await mqtt.connectAsync(url(), { username: name, password: PASSWORD, reconnectPeriod: 0 });
      c.on('message', (_topic, p) =>
        orderEvents.push({ by: name, ...(JSON.parse(p.toString()) as OrderSeen) }),
      );
      await c.subscribeAsync('shelfsense/v1/+/+/+/order', { qos: 1 });
      clients.push(c);
    }
    const watcher = await mqtt.connectAsync(url(), {
      username: 'admin',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    watcher.on('message', (topic, p) => {
      if (p.length) discovery.set(topic, (JSON.parse(p.toString()) as { name: string }).name);
    });
    await watcher.subscribeAsync('homeassistant/sensor/+/+/config', { qos: 1 });
    clients.push(watcher);
    agent = await mqtt.connectAsync(url(), {
      username: 'pi-1',
      password: PASSWORD,
      clientId: clientIds.agent('s1', 'pi-1'),
      reconnectPeriod: 0,
    });
    clients.push(agent);
    for (const name of ['acme', 'crunchy'] as const) {
      const c = await mqtt.connectAsync(url(), { username: name, password: PASSWORD, reconnectPeriod: 0 });
      c.on('message', (topic, p) => {
        if (topic === CATALOGUE_TOPIC)
          announced[name]!.push((JSON.parse(p.toString()) as { version: number }).version);
        else seen[name]!.push({ topic, seq: (JSON.parse(p.toString()) as { seq: number }).seq });
      });
      // crunchy owns no lane yet, so its subscription is made once it does (below).
      if (name === 'acme') await c.subscribeAsync(LEVELS, { qos: 1 });
      // Every user may hear which catalogue version is in force (an open dashboard reloads).
      await c.subscribeAsync(CATALOGUE_TOPIC, { qos: 1 });
      suppliers.set(name, c);
      clients.push(c);
    }
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('before: acme sees L0 and L1, and L0 running low orders from acme', async () => {
    await send('L0', 10);
    await send('L0', 2);
    await waitFor(() => seen.acme!.length === 2, 5_000, { what: 'acme’s levels' });
    const open = await waitFor(
      () => central.store!.orders.live({ site: 's1', shelf: 'a', lane: 'L0' }),
      5_000,
      { what: 'an order' },
    );
    expect(open.supplier).toBe('acme');
    expect(await lanesFor('acme')).toEqual(['L0:cola', 'L1:cola']);
    // Retained: a client subscribing learns the version in force at once.
    expect(announced.acme).toEqual([1]);
    expect(announced.crunchy).toEqual([1]);
    await waitFor(() => countSensors().length === 2, 5_000, { what: 'the discovery configs' });
    expect(countSensors()).toEqual(['L0 cola count', 'L1 cola count']);
  });

  it('apply: within a second L0 leaves acme (MQTT and HTTP), its order is cancelled, crunchy orders next', async () => {
    const next = structuredClone(catalogueOf(cfg));
    next.sites[0]!.shelves[0]!.lanes[0]!.sku = 'chips';
    const other = Store.open({ file: join(dir, 'central.db') });
    const applied = applyCatalogue(other, cfg, next, { actor: 'admin' });
    other.close();
    expect(applied.version).toBe(2);
    const at = Date.now();
    await waitFor(() => central.catalogueVersion === 2, 1_000, { what: 'the new catalogue taken up' });
    // Both suppliers' open dashboards hear of it, so each reloads its lanes.
    await waitFor(() => announced.acme!.includes(2) && announced.crunchy!.includes(2), 1_000, {
      what: 'version 2 announced',
    });
    expect(Date.now() - at).toBeLessThan(1_000);

    expect(central.map.supplierOf('s1', 'a', 'L0')).toBe('crunchy');
    await waitFor(() => countSensors()[0] === 'L0 chips count', 2_000, {
      what: 'Home Assistant’s L0 updated',
    });
    expect(countSensors()).toEqual(['L0 chips count', 'L1 cola count']);
    expect(await lanesFor('acme')).toEqual(['L1:cola']);
    // The lane as the catalogue has it now, not as it was when the API first listed lanes.
    expect(await lanesFor('crunchy')).toEqual(['L0:chips']);
    const cancelled = central.store!.orders.get(
      applied.effects.find((e) => e.action === 'cancel')?.orderId ?? '',
    );
    expect(cancelled?.state).toBe('cancelled');
    // L0's topic is crunchy's now: acme's cancellation goes by webhook and API, never over it.
    expect(orderEvents.filter((e) => e.orderId === cancelled?.id && e.state === 'cancelled')).toEqual([]);

    const crunchy = suppliers.get('crunchy')!;
    await crunchy.subscribeAsync(LEVELS, { qos: 1 });
    const before = seen.acme!.length;
    // In order from one publisher: were acme still given L0, it would have it before L1.
    await send('L0', 5);
    await send('L1', 12);
    await waitFor(() => seen.acme!.length === before + 1, 5_000, { what: 'acme gets L1' });
    expect(seen.acme!.at(-1)!.topic).toBe(topics.level('s1', 'a', 'L1'));
    await waitFor(() => seen.crunchy!.some((m) => m.topic === topics.level('s1', 'a', 'L0')), 5_000, {
      what: 'crunchy gets L0',
    });
    // 5 items: under chips' reorder point (6), above the default (4) — the new policy orders.
    const order = await waitFor(
      () => central.store!.orders.live({ site: 's1', shelf: 'a', lane: 'L0' }),
      5_000,
      { what: 'the new order' },
    );
    expect(order.supplier).toBe('crunchy');
    expect(order.sku).toBe('chips');
  });

  it('a reorder point raised live orders at once, from the lane’s last reading, with no new one', async () => {
    // L1 last read 12 items of cola: above the default reorder point (4), below 15.
    expect(central.store!.orders.live({ site: 's1', shelf: 'a', lane: 'L1' })).toBeUndefined();
    const next = structuredClone(catalogueOf(central.config));
    next.replenishment.skus = [...next.replenishment.skus, { sku: 'cola', reorderPoint: 15 }];
    const other = Store.open({ file: join(dir, 'central.db') });
    expect(applyCatalogue(other, central.config, next, { actor: 'operator' }).version).toBe(3);
    other.close();
    const order = await waitFor(
      () => central.store!.orders.live({ site: 's1', shelf: 'a', lane: 'L1' }),
      1_500,
      {
        what: 'the order under the raised reorder point',
      },
    );
    expect(order.supplier).toBe('acme');
    expect(central.catalogueVersion).toBe(3);
  });

  it('a lane removed: its order’s cancellation is announced on MQTT, once, to those who may read it', async () => {
    const open = central.store!.orders.live({ site: 's1', shelf: 'a', lane: 'L1' });
    expect(open?.supplier).toBe('acme');
    const next = structuredClone(catalogueOf(central.config));
    next.sites[0]!.shelves[0]!.lanes = next.sites[0]!.shelves[0]!.lanes.filter((l) => l.id !== 'L1');
    const other = Store.open({ file: join(dir, 'central.db') });
    expect(applyCatalogue(other, central.config, next, { actor: 'admin' }).version).toBe(4);
    other.close();
    const heard = await waitFor(
      () => orderEvents.find((e) => e.orderId === open?.id && e.state === 'cancelled'),
      1_500,
      { what: 'the cancellation on MQTT' },
    );
    expect(heard.by).toBe('ops');
    // Nobody else, and not twice: a lane that no longer exists belongs to no supplier.
    await waitFor(() => central.catalogueVersion === 4, 1_000, { what: 'version 4 taken up' });
    expect(orderEvents.filter((e) => e.orderId === open?.id && e.state === 'cancelled')).toHaveLength(1);
  });
});
