/**
 * What MQTT sessions may hold, on the real broker with real clients and small limits: throwaway
 * persistent ids holding unreleased QoS 2, an offline subscriber's queue, persistent sessions per
 * user, refused filters that must not be queued for, abandoned sessions, and the accounting
 * staying true through clean sessions, takeovers and restarts.
 */
import { PACKET_OVERHEAD } from '@shelfsense/broker/testing';
import type { IConnackPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  login,
  PASSWORD,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
  until,
} from './helpers.js';
import { RawClient } from './raw-client.js';

let tb: TestBroker | null = null;
const clients: Recorded[] = [];
const raws: RawClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end()));
  await Promise.all(raws.splice(0).map((r) => r.destroy()));
  await tb?.close();
  tb = null;
});

const track = async (p: Promise<Recorded>) => {
  const c = await p;
  clients.push(c);
  return c;
};

async function raw(clientId: string, user: string, clean: boolean): Promise<{ c: RawClient; code: number }> {
  const { client, connack } = await RawClient.connect(tb!.broker.ports.tcp!, {
    clientId,
    clean,
    username: user,
    password: PASSWORD,
  });
  raws.push(client);
  return { c: client, code: (connack as IConnackPacket).returnCode ?? -1 };
}

const KiB = 1024;
const L1 = 'shelfsense/v1/A/a1/l1/level';
const L2 = 'shelfsense/v1/A/a1/l2/level';
const cost = (payloadBytes: number, topic: string) =>
  PACKET_OVERHEAD + payloadBytes + Buffer.byteLength(topic);

/**
 * The attack: `ids` throwaway client ids with CleanSession=0, each sending `perId` QoS 2 publishes
 * of `bytes` and never releasing them (no PUBREL). Resolves when each connection has either had
 * every publish acknowledged (PUBREC) or been closed by the broker.
 */
async function pinQos2(
  user: string,
  prefix: string,
  ids: number,
  perId: number,
  bytes: number,
  topic: string,
) {
  const payload = Buffer.alloc(bytes, 0x61);
  const codes: number[] = [];
  for (let i = 0; i < ids; i++) {
    const { c, code } = await raw(`${prefix}-${i}`, user, false);
    codes.push(code);
    if (code !== 0) continue;
    for (let m = 1; m <= perId; m++) {
      c.send({ cmd: 'publish', topic, payload, qos: 2, messageId: m, retain: false, dup: false });
    }
    // Closed by the broker (next rejects then), or every publish acknowledged.
    await c.next('pubrec', (p) => p.messageId === perId, 30_000).catch(() => c.closed);
    await c.destroy();
  }
  return codes;
}

describe('session bounds', () => {
  it('[bound] throwaway persistent ids pinning unreleased QoS 2: bytes held stay under the per-user and total bounds, refusals are counted, a clean reconnect releases them', async () => {
    const maxBytesPerUser = 256 * KiB;
    const maxBytes = 384 * KiB;
    tb = await startBroker({
      mqtt: { limits: { sessions: { maxBytesPerUser, maxBytes, maxPerUser: 10 } } },
    });
    const broker = tb.broker;
    // 20 ids × 100 × 32 KiB would pin 64 MiB per user without the bound.
    const codes = await pinQos2('admin', 'pin-a', 20, 100, 32 * KiB, 'pin/a');
    let c = broker.counters;
    // Ids 11..20 open an eleventh and later persistent session: CONNACK 5.
    expect(codes.filter((x) => x === 0)).toHaveLength(10);
    expect(codes.slice(10)).toEqual(Array(10).fill(5));
    expect(c.denied.session_limit).toBe(10);
    expect(c.sessions.held).toBe(10);
    expect(c.sessions.bytes).toBeLessThanOrEqual(maxBytesPerUser);
    expect(c.sessions.bytes).toBeGreaterThan(maxBytesPerUser - 33 * KiB);
    // The first id filled the budget; it and the next nine were each closed at a refused publish
    // (publishes already read from the socket are refused and counted too).
    expect(c.denied.session_bytes_user).toBeGreaterThanOrEqual(10);

    // A second user fills the rest of the total budget, then meets it.
    await pinQos2('agent-a', 'pin-s', 3, 100, 32 * KiB, L1);
    c = broker.counters;
    expect(c.sessions.bytes).toBeLessThanOrEqual(maxBytes);
    expect(c.denied.session_bytes_total).toBeGreaterThanOrEqual(1);

    // Reconnecting the ids clean discards their sessions and releases every byte.
    for (let i = 0; i < 10; i++) await (await raw(`pin-a-${i}`, 'admin', true)).c.disconnect();
    for (let i = 0; i < 3; i++) await (await raw(`pin-s-${i}`, 'agent-a', true)).c.disconnect();
    await until(() => broker.counters.sessions.bytes === 0, 'the clean reconnects to release the bytes');
    expect(broker.counters.sessions.held).toBe(0);
    // And the user may open persistent sessions again.
    expect((await raw('pin-a-new', 'admin', false)).code).toBe(0);
  });

  it('[bound] an offline persistent subscriber: its queue stops at the budget, the rest is dropped and counted; on reconnect it gets what was kept', async () => {
    const maxBytesPerUser = 64 * KiB;
    tb = await startBroker({ mqtt: { limits: { maxPacketBytes: 64 * KiB, sessions: { maxBytesPerUser } } } });
    const broker = tb.broker;
    const sub = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-queue', clean: false }));
    expect(await subscribeCodes(sub.client, [L1], 1)).toEqual([1]);
    await sub.end();
    clients.splice(clients.indexOf(sub), 1);

    const agent = await track(connect(tb.url, login('agent-a')));
    const size = 4 * KiB;
    for (let i = 0; i < 100; i++) {
      await agent.client.publishAsync(L1, `${String(i).padStart(4, '0')}`.padEnd(size, '.'), { qos: 1 });
    }
    const kept = Math.floor(maxBytesPerUser / cost(size, L1));
    const c = broker.counters;
    expect(c.sessions.bytes).toBe(kept * cost(size, L1));
    expect(c.dropped.session_bytes_user).toBe(100 - kept);

    const back = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-queue', clean: false }));
    await until(() => back.messages.length === kept, 'the kept messages');
    expect(back.messages.map((m) => m.payload.slice(0, 4))).toEqual(
      Array.from({ length: kept }, (_, i) => String(i).padStart(4, '0')),
    );
    // Acknowledged: nothing is held any more, and new messages flow again.
    await until(() => broker.counters.sessions.bytes === 0, 'the acknowledgements to release the queue');
    await agent.client.publishAsync(L1, 'after', { qos: 1 });
    await back.waitFor((m) => m.payload === 'after', 'a message after the drops');
  });

  it('[acl] an offline persistent supplier subscribed to [own lane, other supplier lane] queues only its own lane', async () => {
    tb = await startBroker();
    const broker = tb.broker;
    const sub = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-acl', clean: false }));
    expect(await subscribeCodes(sub.client, [L1, L2], 1)).toEqual([1, 128]);
    await sub.end();
    clients.splice(clients.indexOf(sub), 1);
    const persistence = (
      broker.aedes as unknown as {
        persistence: { subscriptionsByClient(c: { id: string }): Promise<{ topic: string }[]> };
      }
    ).persistence;
    expect((await persistence.subscriptionsByClient({ id: 'sx-acl' })).map((s) => s.topic)).toEqual([L1]);

    const agent = await track(connect(tb.url, login('agent-a')));
    for (let i = 0; i < 5; i++) {
      await agent.client.publishAsync(L1, `own-${i}`, { qos: 1 });
      await agent.client.publishAsync(L2, `other-${i}`, { qos: 1 });
    }
    expect(broker.counters.sessions.bytes).toBe(5 * cost(5, L1));

    const back = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-acl', clean: false }));
    await until(() => back.messages.length === 5, 'the own-lane messages');
    expect(back.messages.map((m) => m.payload)).toEqual(['own-0', 'own-1', 'own-2', 'own-3', 'own-4']);
  });

  it('[acl] a wildcard the ACL grants queues only what the subscriber may read', async () => {
    tb = await startBroker();
    const broker = tb.broker;
    const sub = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-wild', clean: false }));
    expect(await subscribeCodes(sub.client, ['shelfsense/v1/A/a1/+/level'], 1)).toEqual([1]);
    await sub.end();
    clients.splice(clients.indexOf(sub), 1);
    const agent = await track(connect(tb.url, login('agent-a')));
    const filteredBefore = broker.counters.filtered;
    await agent.client.publishAsync(L2, 'other', { qos: 1 });
    await agent.client.publishAsync(L1, 'own', { qos: 1 });
    expect(broker.counters.sessions.bytes).toBe(cost(3, L1));
    expect(broker.counters.filtered).toBe(filteredBefore + 1);
    const back = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-wild', clean: false }));
    await back.waitFor((m) => m.payload === 'own', 'the own-lane message');
    expect(back.messages.map((m) => m.payload)).toEqual(['own']);
  });

  it('[expiry] an abandoned persistent session is discarded after expiryMs; a connected one is kept', async () => {
    const expiryMs = 300;
    tb = await startBroker({ mqtt: { limits: { sessions: { expiryMs } } } });
    const broker = tb.broker;
    const gone = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-gone', clean: false }));
    await subscribeCodes(gone.client, [L1], 1);
    await gone.end();
    clients.splice(clients.indexOf(gone), 1);
    const stays = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-stays', clean: false }));
    await subscribeCodes(stays.client, [L1], 1);
    // An inbound QoS 2 left unreleased by a persistent client that vanished.
    const { c: pinner } = await raw('pin-gone', 'admin', false);
    pinner.send({
      cmd: 'publish',
      topic: 'pin/x',
      payload: Buffer.alloc(1000),
      qos: 2,
      messageId: 1,
      retain: false,
      dup: false,
    });
    await pinner.next('pubrec');
    await pinner.destroy();

    const agent = await track(connect(tb.url, login('agent-a')));
    await agent.client.publishAsync(L1, 'queued', { qos: 1 });
    await stays.waitFor((m) => m.payload === 'queued', 'delivery to the connected subscriber');
    expect(broker.counters.sessions.held).toBe(3);
    expect(broker.counters.sessions.bytes).toBeGreaterThan(0);

    await until(() => broker.counters.sessions.expired === 2, 'the two abandoned sessions to expire', 5_000);
    const c = broker.counters;
    expect(c.sessions.held).toBe(1);
    expect(c.sessions.bytes).toBe(0);
    const persistence = (
      broker.aedes as unknown as {
        persistence: { subscriptionsByClient(c: { id: string }): Promise<unknown[]> };
      }
    ).persistence;
    expect(await persistence.subscriptionsByClient({ id: 'sx-gone' })).toEqual([]);
    expect((await persistence.subscriptionsByClient({ id: 'sx-stays' })).length).toBe(1);
    // The id comes back to no session: nothing queued, no subscription.
    const back = await track(connect(tb.url, { ...login('sup-x'), clientId: 'sx-gone', clean: false }));
    await agent.client.publishAsync(L1, 'later', { qos: 1 });
    await stays.waitFor((m) => m.payload === 'later', 'the later message at the kept session');
    expect(back.messages).toEqual([]);
  });

  it('[ledger] clean sessions, takeovers and a restart leave the accounting at zero', async () => {
    tb = await startBroker();
    const broker = tb.broker;
    // Clean sessions that publish QoS 2 and leave without releasing it.
    for (let i = 0; i < 30; i++) {
      const { c } = await raw(`clean-${i}`, 'admin', true);
      c.send({
        cmd: 'publish',
        topic: 'x/y',
        payload: Buffer.alloc(100),
        qos: 2,
        messageId: 1,
        retain: false,
        dup: false,
      });
      await c.next('pubrec');
      await c.destroy();
    }
    await until(() => broker.counters.sessions.bytes === 0, 'clean sessions to release their inbound QoS 2');
    expect(broker.counters.sessions.held).toBe(0);

    // The same persistent id taken over three times: one session, still held after the last leaves.
    const first = await raw('taken', 'admin', false);
    const takeovers: RawClient[] = [first.c];
    for (let i = 0; i < 3; i++) {
      const next = await raw('taken', 'admin', false);
      await takeovers[takeovers.length - 1]!.closed;
      takeovers.push(next.c);
    }
    expect(broker.counters.sessions.held).toBe(1);
    const last = takeovers[takeovers.length - 1]!;
    last.send({
      cmd: 'publish',
      topic: 'x/z',
      payload: Buffer.alloc(100),
      qos: 2,
      messageId: 9,
      retain: false,
      dup: false,
    });
    await last.next('pubrec');
    last.send({ cmd: 'pubrel', messageId: 9 });
    await last.next('pubcomp');
    await last.destroy();
    expect(broker.counters.sessions).toMatchObject({ held: 1, bytes: 0 });

    // A restart starts from an empty store and an empty ledger.
    await broker.stop();
    await broker.start();
    expect(broker.counters.sessions).toMatchObject({ held: 0, bytes: 0 });
  });

  it('[legit] a persistent subscriber within its budget gets every queued message after reconnecting', async () => {
    tb = await startBroker();
    const broker = tb.broker;
    const sub = await track(connect(tb.url, { ...login('op-a'), clientId: 'op-dash', clean: false }));
    await subscribeCodes(sub.client, ['shelfsense/v1/A/+/+/level'], 1);
    await sub.end();
    clients.splice(clients.indexOf(sub), 1);
    const agent = await track(connect(tb.url, login('agent-a')));
    for (let i = 0; i < 50; i++) await agent.client.publishAsync(i % 2 ? L1 : L2, `m${i}`, { qos: 1 });
    expect(broker.counters.dropped.session_bytes_user).toBe(0);
    const back = await track(connect(tb.url, { ...login('op-a'), clientId: 'op-dash', clean: false }));
    await until(() => back.messages.length === 50, 'all 50 queued messages');
    expect(back.messages.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    await until(() => broker.counters.sessions.bytes === 0, 'acknowledgements to empty the queue');
  });
});
