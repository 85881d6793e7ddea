/**
 * After the outbox dropped its oldest records at the bound, what is left is still sent again when
 * central does not confirm it (central mode): the dropped records, never acknowledged, must not
 * stop the count of acknowledgements and with it the redelivery. Real outbox on disk, real aedes,
 * no central (so nothing is ever confirmed and every record must keep being sent).
 */

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { type Outbox, Publisher } from '@shelfsense/agent';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';
import { levelPayload, openOutbox, TOPIC, tempDir } from '../../unit/agent/outbox/helpers.js';

describe('redelivery after records were dropped at the outbox bound', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
  });

  /** How many times each seq arrived on TOPIC. */
  async function watch(url: string): Promise<Map<number, number>> {
    const seen = new Map<number, number>();
    const sub = await mqtt.connectAsync(url);
    stops.unshift(() => sub.endAsync());
    sub.on('message', (_t, p) => {
      const seq = (JSON.parse(p.toString()) as { seq: number }).seq;
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
    });
    await sub.subscribeAsync(TOPIC, { qos: 1 });
    return seen;
  }

  /** A publisher in central mode with no central: nothing is ever confirmed. */
  function start(url: string, outbox: Outbox, window: number): Publisher {
    const publisher = new Publisher(
      {
        url,
        protocol: 4,
        keepaliveS: 30,
        reconnectMs: 100,
        site: 'site1',
        agent: 'a1',
        trimOn: 'central',
        window,
        redeliverMs: 300,
        version: 'test',
      },
      outbox,
      pino({ level: 'silent' }),
    );
    publisher.start();
    stops.unshift(() => publisher.stop());
    return publisher;
  }

  it('[nothing lost] records dropped before they were ever sent do not stop the redelivery', async () => {
    // A broker that holds its PUBACKs while `gate` is shut: the agent's window (2) stays full, and
    // what is appended meanwhile waits unsent — the oldest of it is dropped at the bound.
    let gate = false;
    const held: (() => void)[] = [];
    const aedes = await Aedes.createBroker({
      authorizePublish: (_client, _packet, cb) => (gate ? held.push(() => cb(null)) : cb(null)),
    });
    const server = createServer((sock) => aedes.handle(sock));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => aedes.close(() => server.close(() => r(undefined)))));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const outbox = await openOutbox(tempDir(), { maxRecords: 5, segmentBytes: 4096 });
    const seen = await watch(url);
    const publisher = start(url, outbox, 2);
    await waitFor(() => publisher.connected, 10_000, { what: 'the publisher to connect' });
    gate = true;
    for (let i = 1; i <= 10; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    // At least two: on a busy machine the redelivery timer may send the held ones again first.
    await waitFor(() => held.length >= 2, 10_000, { what: 'two publishes held by the broker' });
    expect(outbox.trimmedThrough).toBe(5); // 1–5 dropped: 1 and 2 in flight, 3–5 never sent
    gate = false;
    for (const release of held.splice(0)) release();
    // 6–10 go out, are acknowledged, and — no central mark coming — are sent again.
    await waitFor(() => [6, 7, 8, 9, 10].every((s) => (seen.get(s) ?? 0) >= 2), 10_000, {
      what: 'records 6–10 sent a second time',
    });
  });

  it('[nothing lost] the records kept are sent again until central confirms them', async () => {
    const broker: TestBroker = await startAedes();
    stops.push(() => broker.close());
    const outbox = await openOutbox(tempDir(), { maxRecords: 5, segmentBytes: 4096 });
    // Appended while there is no connection: 10 records, the oldest 5 dropped at the bound.
    for (let i = 1; i <= 10; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(outbox.stats().dropped.maxRecords).toBe(5);
    expect(outbox.trimmedThrough).toBe(5);

    const seen = await watch(broker.url);
    start(broker.url, outbox, 200);
    // Sent once, then again (and again) while no central mark comes.
    await waitFor(() => [6, 7, 8, 9, 10].every((s) => (seen.get(s) ?? 0) >= 2), 10_000, {
      what: 'records 6–10 sent a second time',
    });
    expect([...seen.keys()].filter((s) => s <= 5)).toEqual([]);
  });
});
