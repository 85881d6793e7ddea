/**
 * Protocol and overload guards on the real broker: the empty-client-id rule, oversize packets,
 * and a QoS 0 flood from a hundred publishers.
 */
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  login,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
  until,
} from './helpers.js';

let tb: TestBroker | null = null;
const clients: Recorded[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end()));
  await tb?.close();
  tb = null;
});

const track = async (p: Promise<Recorded>) => {
  const c = await p;
  clients.push(c);
  return c;
};

/** A raw MQTT 3.1.1 CONNECT with the given client id and flags, and no credentials. */
function connectPacket(clientId: string, clean: boolean): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, clean ? 0x02 : 0x00, 0x00, 0x3c]),
    Buffer.from([id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Sends raw bytes; resolves with everything received until the broker closes the socket. */
function rawExchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = netConnect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the broker did not close the connection'));
    }, 5_000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

describe('broker guards', () => {
  it('[MQTT-3.1.3-8] an empty client id with CleanSession=0 gets CONNACK 0x02 and is closed', async () => {
    tb = await startBroker();
    const reply = await rawExchange(tb.broker.ports.tcp!, connectPacket('', false));
    expect([...reply]).toEqual([0x20, 0x02, 0x00, 0x02]);
    expect(tb.broker.counters.denied.client_id).toBe(1);
    // With CleanSession=1 an empty id is fine: the broker assigns one.
    const ok = await track(connect(tb.url, { ...login('admin'), clientId: '', clean: true }));
    expect(ok.client.connected).toBe(true);
  });

  it('[guard] a packet over limits.maxPacketBytes closes the connection and is never delivered', async () => {
    tb = await startBroker({ mqtt: { limits: { maxPacketBytes: 2048 } } });
    const observer = await track(connect(tb.url, login('svc')));
    await subscribeCodes(observer.client, ['shelfsense/v1/#']);
    const agent = await track(connect(tb.url, login('agent-a')));
    const topic = 'shelfsense/v1/A/a1/l1/level';
    await agent.client.publishAsync(topic, 'small'.padEnd(1500, '.'), { qos: 1 });
    await observer.waitFor((m) => m.payload.startsWith('small'), 'the small message');
    const closed = agent.closed();
    agent.client.publish(topic, 'large'.padEnd(4096, '.'), { qos: 1 });
    await closed;
    expect(tb.broker.counters.denied.oversize).toBe(1);
    // A later message from another client is delivered; the oversize one never was.
    const again = await track(connect(tb.url, login('agent-a')));
    await again.client.publishAsync(topic, 'after', { qos: 1 });
    await observer.waitFor((m) => m.payload === 'after', 'the message after');
    expect(observer.messages.some((m) => m.payload.startsWith('large'))).toBe(false);
  });

  it('[guard] a QoS 0 flood from 100 publishers: the broker stays up, the backlog stays bounded, drops are counted, and a later QoS 1 message arrives', async () => {
    const maxBacklog = 2_000;
    tb = await startBroker({ mqtt: { limits: { maxBacklog, concurrency: 100 } } });
    const broker = tb.broker;
    // A healthy QoS 1 subscriber on a lane nobody floods, and a stalled QoS 0 subscriber on the
    // lane of publisher 0 only. Its batches fill the routing slots; the other 99 publishers' batches
    // queue behind them and match no subscription: the scenario that overflowed the stack.
    const healthy = await track(connect(tb.url, login('svc')));
    await subscribeCodes(healthy.client, ['shelfsense/v1/A/a1/l1/level'], 1);
    const stalled = await track(connect(tb.url, login('admin')));
    await subscribeCodes(stalled.client, ['shelfsense/v1/B/b1/f0/level'], 0);
    stalled.client.stream.pause();

    const publishers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        track(connect(tb!.url, { ...login('admin'), clientId: `flood-${i}` })),
      ),
    );
    let maxSeen = 0;
    const sampler = setInterval(() => {
      maxSeen = Math.max(maxSeen, broker.counters.backlog);
    }, 5);
    const payload = Buffer.alloc(200, 0x61);
    const PER_PUBLISHER = 1_000;
    const BATCH = 200;
    try {
      // Each publisher writes its messages in batches to a lane of its own.
      await Promise.all(
        publishers.map(
          (p, i) =>
            new Promise<void>((resolve) => {
              let sent = 0;
              const pump = () => {
                for (let k = 0; k < BATCH; k++)
                  p.client.publish(`shelfsense/v1/B/b1/f${i}/level`, payload, { qos: 0 });
                sent += BATCH;
                if (sent >= PER_PUBLISHER) resolve();
                else setImmediate(pump);
              };
              pump();
            }),
        ),
      );
      await until(
        () => broker.counters.messagesIn >= 100 * PER_PUBLISHER,
        'the whole flood to reach the broker',
        60_000,
      );
    } finally {
      clearInterval(sampler);
    }
    const c = broker.counters;
    expect(c.dropped.backlog + c.dropped.slow_subscriber).toBeGreaterThan(0);
    // Only QoS 0 from clients is bounded: allow for the few internal ($SYS) messages.
    expect(maxSeen).toBeLessThanOrEqual(maxBacklog + 200);

    // The broker still routes: a QoS 1 message sent after the flood reaches the healthy subscriber.
    const late = await track(connect(tb.url, login('agent-a')));
    await late.client.publishAsync('shelfsense/v1/A/a1/l1/level', 'after the flood', { qos: 1 });
    await healthy.waitFor(
      (m) => m.payload === 'after the flood',
      'the QoS 1 message after the flood',
      30_000,
    );
    expect(broker.counters.connections).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it('[guard] a stalled QoS 0 subscriber loses its deliveries (counted) and does not hold up the others', async () => {
    tb = await startBroker();
    const topic = 'shelfsense/v1/A/a1/l1/level';
    const stalled = await track(connect(tb.url, login('admin')));
    await subscribeCodes(stalled.client, [topic], 0);
    stalled.client.stream.pause();
    // QoS 1, so the closing QoS 1 message is not itself a QoS 0 delivery the guard may drop when a
    // busy machine leaves the healthy subscriber behind too.
    const healthy = await track(connect(tb.url, login('svc')));
    await subscribeCodes(healthy.client, [topic], 1);
    const pub = await track(connect(tb.url, login('agent-a')));
    // 400 × 64 KiB: far more than the kernel buffers for the stalled socket.
    const big = Buffer.alloc(64 * 1024, 0x62);
    for (let i = 0; i < 400; i++) pub.client.publish(topic, big, { qos: 0 });
    await pub.client.publishAsync(topic, 'end', { qos: 1 });
    await healthy.waitFor((m) => m.payload === 'end', 'the last message at the healthy subscriber', 20_000);
    expect(healthy.messages.length).toBeGreaterThan(1);
    expect(tb.broker.counters.dropped.slow_subscriber).toBeGreaterThan(0);
  }, 60_000);
});
