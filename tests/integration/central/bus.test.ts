/**
 * Central's bus against real brokers: typed, validated delivery over a connection to Mosquitto
 * (subscriptions said again after the broker restarts), and in process with an embedded aedes,
 * where retained state still comes over the connection.
 */
import { createServer, type Server } from 'node:net';
import { MqttBus } from '@shelfsense/central';
import {
  type AgentStatusPayload,
  filters,
  type LevelPayload,
  type TopicRef,
  topics,
} from '@shelfsense/protocol';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';
import { level as levelPayload } from '../../unit/central/store/fixtures.js';

const log = pino({ level: 'silent' });
const level = (seq: number): LevelPayload =>
  levelPayload(seq, 7, 1_700_000_000_000 + seq, { agent: 'pi-1', serial: 'S1', sku: 'cola' });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function client(url: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  cleanups.push(() => c.endAsync());
  return c;
}

describe('the bus over a connection (Mosquitto)', () => {
  it('delivers typed payloads with their topic, refuses bad ones by name, and resubscribes after a restart', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const bus = new MqttBus(log);
    await bus.connect({ url: broker.url, clientId: 'central-bus-test' });
    cleanups.push(() => bus.close());
    const got: { ref: TopicRef<'level'>; p: LevelPayload }[] = [];
    const invalid: string[] = [];
    await bus.subscribe(filters.laneKind('level'), (ref, p) => got.push({ ref, p }), {
      onInvalid: (_t, err) => invalid.push(err.message),
    });
    let connects = 0;
    bus.onConnect(() => connects++);

    const agent = await client(broker.url);
    await agent.publishAsync(topics.level('s1', 'shelf-1', 'L0'), JSON.stringify(level(1)), { qos: 1 });
    await agent.publishAsync(topics.level('s1', 'shelf-1', 'L0'), '{"units":"many"}', { qos: 1 });
    await waitFor(() => got.length === 1 && invalid.length === 1, 5_000, { what: 'one good, one bad level' });
    expect(got[0]!.ref).toEqual({ kind: 'level', site: 's1', shelf: 'shelf-1', lane: 'L0' });
    expect(got[0]!.p).toEqual(level(1));
    expect(invalid[0]).toMatch(/^invalid level: /);

    // A retained publish through the bus reaches a client that subscribes later.
    await bus.publish(topics.stored('s1', 'pi-1'), { agent: 'pi-1', seq: 41, ts: 1 }, { retain: true });
    const late = await client(broker.url);
    const mark = new Promise<string>((resolve) => late.on('message', (_t, p) => resolve(p.toString())));
    await late.subscribeAsync(topics.stored('s1', 'pi-1'), { qos: 1 });
    expect(JSON.parse(await mark)).toEqual({ agent: 'pi-1', seq: 41, ts: 1 });

    await broker.stop();
    await waitFor(() => !bus.connected, 5_000, { what: 'the connection lost' });
    await expect(bus.publish(topics.stored('s1', 'pi-1'), { agent: 'pi-1', seq: 42, ts: 2 })).rejects.toThrow(
      /not connected/,
    );
    await broker.restart();
    await waitFor(() => connects === 1 && bus.connected, 10_000, { what: 'the bus back' });
    const again = await client(broker.url);
    // The subscription was said again on reconnect: a level after the restart still arrives.
    await waitFor(
      async () => {
        await again.publishAsync(topics.level('s1', 'shelf-1', 'L0'), JSON.stringify(level(2)), { qos: 1 });
        return got.some((g) => g.p.seq === 2);
      },
      10_000,
      { what: 'a level after the restart' },
    );
  });
});

describe('the bus with the embedded broker', () => {
  it('serves publishes and plain subscriptions in process; retained state comes over the connection', async () => {
    const aedes = await Aedes.createBroker();
    const server: Server = createServer((s) => aedes.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () => new Promise<void>((r) => server.close(() => r())),
      () => new Promise<void>((r) => aedes.close(() => r())),
    );
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const bus = new MqttBus(log);
    bus.attachBroker(aedes);
    cleanups.push(() => bus.close());

    // Before any connection: in process only.
    expect(bus.connected).toBe(false);
    expect(bus.ready).toBe(true);
    const levels: LevelPayload[] = [];
    await bus.subscribe(filters.laneKind('level'), (_ref, p) => levels.push(p));
    await expect(
      bus.subscribe(filters.agentKind('status'), () => undefined, { retained: true }),
    ).rejects.toThrow(/not connected/);
    const agent = await client(url);
    await agent.publishAsync(topics.level('s1', 'shelf-1', 'L0'), JSON.stringify(level(3)), { qos: 1 });
    await waitFor(() => levels.length === 1, 5_000, { what: 'the level in process' });

    const status: AgentStatusPayload = {
      agent: 'pi-1',
      site: 's1',
      state: 'online',
      shelves: ['shelf-1'],
      ts: 5,
    };
    await agent.publishAsync(topics.status('s1', 'pi-1'), JSON.stringify(status), { qos: 1, retain: true });
    await bus.connect({ url, clientId: 'central-bus-embedded' });
    const statuses: AgentStatusPayload[] = [];
    await bus.subscribe(filters.agentKind('status'), (_ref, p) => statuses.push(p), { retained: true });
    await waitFor(() => statuses.length === 1, 5_000, { what: 'the retained status' });
    expect(statuses[0]).toEqual(status);

    // Published in process, seen by a client on the broker.
    const watcher = await client(url);
    const order = new Promise<string>((resolve) => watcher.on('message', (t) => resolve(t)));
    await watcher.subscribeAsync(filters.laneKind('alert'), { qos: 1 });
    await bus.publish(topics.alert('s1', 'shelf-1', 'L0'), {
      alertId: 'a-1',
      kind: 'stock-out',
      state: 'open',
      site: 's1',
      shelf: 'shelf-1',
      lane: 'L0',
      message: 'empty',
      ts: 6,
    });
    expect(await order).toBe(topics.alert('s1', 'shelf-1', 'L0'));
  });
});
