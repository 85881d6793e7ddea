/**
 * What refusals cost the broker's log, and SUBSCRIBE packets aedes would mishandle: too many
 * filters in one packet, a burst of refusals, and filters repeated in one SUBSCRIBE.
 */
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../helpers/log-capture.js';
import {
  connect,
  login,
  PASSWORD,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
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

const L1 = 'shelfsense/v1/A/a1/l1/level';
const L2 = 'shelfsense/v1/A/a1/l2/level';
const WARN = 40;

async function raw(clientId: string, user: string): Promise<RawClient> {
  const { client } = await RawClient.connect(tb!.broker.ports.tcp!, {
    clientId,
    clean: true,
    username: user,
    password: PASSWORD,
  });
  raws.push(client);
  return client;
}

interface Summary {
  msg: string;
  suppressed?: Record<string, number>;
  total?: number;
}

describe('refusals and the log', () => {
  it('[guard] a SUBSCRIBE of 30 000 refused filters closes the connection before aedes sees it, with one log line', async () => {
    const { log, entries } = captureLog('info');
    tb = await startBroker({}, { logger: log });
    const c = await raw('many-filters', 'sup-x');
    const subscriptions = Array.from({ length: 30_000 }, (_, i) => ({
      topic: `f${i.toString(36)}`,
      qos: 0 as const,
    }));
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions });
    await c.closed;
    const counters = tb.broker.counters;
    expect(counters.denied.filters).toBe(1);
    expect(counters.denied.subscribe).toBe(0);
    const warns = entries.filter((e) => e.level === WARN);
    expect(warns.map((e) => e.msg)).toEqual(['denied filters']);
    expect(c.all('suback')).toEqual([]);
  });

  it('[guard] an UNSUBSCRIBE with more than maxFiltersPerPacket filters closes the connection', async () => {
    tb = await startBroker({ mqtt: { limits: { maxFiltersPerPacket: 10 } } });
    const c = await raw('unsub', 'sup-x');
    c.send({
      cmd: 'unsubscribe',
      messageId: 1,
      unsubscriptions: Array.from({ length: 11 }, (_, i) => `u/${i}`),
    });
    await c.closed;
    expect(tb.broker.counters.denied.filters).toBe(1);
    // Up to the limit is fine.
    const ok = await raw('unsub-ok', 'sup-x');
    ok.send({
      cmd: 'unsubscribe',
      messageId: 2,
      unsubscriptions: Array.from({ length: 10 }, (_, i) => `u/${i}`),
    });
    await ok.next('unsuback');
  });

  it('[log] a burst of refusals writes `lines` warnings and one summary per window; the counters are exact', async () => {
    const { log, entries } = captureLog('info');
    tb = await startBroker(
      { mqtt: { limits: { refusalLog: { lines: 5, windowMs: 60_000 } } } },
      { logger: log },
    );
    const sub = await connect(tb.url, login('sup-x'));
    clients.push(sub);
    for (let p = 0; p < 4; p++) {
      const filters = Array.from({ length: 50 }, (_, i) => `shelfsense/v1/B/b1/x${p}-${i}/level`);
      expect(await subscribeCodes(sub.client, filters)).toEqual(Array(50).fill(128));
    }
    // A refused publish closes a 3.1.1 connection: 30 publishers, one refusal each.
    for (let i = 0; i < 30; i++) {
      const pub = await connect(tb.url, login('sup-x'));
      const closed = pub.closed();
      pub.client.publish(L2, 'forged', { qos: 1 });
      await closed;
      await pub.end();
    }
    const counters = tb.broker.counters;
    expect(counters.denied.subscribe).toBe(200);
    expect(counters.denied.publish).toBe(30);
    const refusalLines = () => entries.filter((e) => e.level === WARN && e.msg.startsWith('denied '));
    expect(refusalLines()).toHaveLength(5);
    // The window ends with stop() at the latest: one summary of the 225 not written.
    await tb.broker.stop();
    const summaries = entries.filter((e) => e.level === WARN && (e as Summary).suppressed) as Summary[];
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.suppressed).toEqual({ subscribe: 195, publish: 30 });
    expect(summaries[0]!.total).toBe(225);
    expect(refusalLines()).toHaveLength(5);
  });

  it('[MQTT-3.9.3-1] repeated filters in one SUBSCRIBE get one SUBACK code each, in order', async () => {
    tb = await startBroker();
    const c = await raw('dups', 'sup-x');
    c.send({
      cmd: 'subscribe',
      messageId: 42,
      subscriptions: [
        { topic: L1, qos: 1 },
        { topic: L2, qos: 0 },
        { topic: L1, qos: 0 },
        { topic: L2, qos: 1 },
      ],
    });
    const suback = (await c.next('suback')) as ISubackPacket;
    expect(suback.messageId).toBe(42);
    expect(suback.granted).toEqual([1, 128, 0, 128]);
    // Exactly one SUBACK: a ping sent after it is answered, and no second SUBACK came before.
    c.send({ cmd: 'pingreq' });
    await c.next('pingresp');
    expect(c.all('suback')).toHaveLength(1);
    // The last copy of a topic wins [MQTT-3.8.4-3]: L1 is delivered at QoS 0.
    const agent = await connect(tb.url, login('agent-a'));
    clients.push(agent);
    await agent.client.publishAsync(L1, 'level', { qos: 1 });
    const delivered = (await c.next('publish')) as IPublishPacket;
    expect(delivered.topic).toBe(L1);
    expect(delivered.qos).toBe(0);
    // Without repeats, aedes answers itself as before.
    c.send({ cmd: 'subscribe', messageId: 43, subscriptions: [{ topic: L2, qos: 1 }] });
    const single = (await c.next('suback', (p) => p.messageId === 43)) as ISubackPacket;
    expect(single.granted).toEqual([128]);
  });
});
