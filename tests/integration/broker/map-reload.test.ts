/**
 * The shelf map reloaded under a running broker (a lane given to another supplier): from the next
 * message on, the broker decides with the new map — on live subscriptions, on retained messages
 * and on new subscriptions — with no reconnect and no restart.
 */
import { CentralConfig, clientIds, topics } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, mapConfig, PASSWORD, type Recorded, startBroker, type TestBroker } from './helpers.js';

const LEVELS = 'shelfsense/v1/+/+/+/level';
const level = (lane: string, seq: number) =>
  JSON.stringify({
    agent: 'agent-a',
    serial: 'SA1',
    sku: null,
    units: seq,
    grams: seq * 100,
    fill: null,
    stable: true,
    confidence: 1,
    state: 'ok',
    ts: 1_700_000_000_000 + seq,
    seq,
    frameSeq: seq,
    lane,
  });

/** The same map with lane l1 given to supplier Y's SKU and l2 to supplier X's. */
function swapped() {
  const config = CentralConfig.parse({ ...mapConfig(), dataDir: '/unused' });
  const shelf = config.sites[0]!.shelves[0]!;
  shelf.lanes[0]!.sku = 'y-chips';
  shelf.lanes[1]!.sku = 'x-cola';
  return config;
}

describe('shelf map reload under a running broker', () => {
  let b: TestBroker;
  let agent: Recorded;
  let x: Recorded;
  let y: Recorded;
  beforeAll(async () => {
    b = await startBroker();
    agent = await connect(b.url, {
      username: 'agent-a',
      password: PASSWORD,
      clientId: clientIds.agent('A', 'agent-a'),
    });
    x = await connect(b.url, { username: 'sup-x', password: PASSWORD, clientId: 'sup-x-live' });
    y = await connect(b.url, { username: 'sup-y', password: PASSWORD, clientId: 'sup-y-live' });
    await x.client.subscribeAsync(LEVELS, { qos: 1 });
    await y.client.subscribeAsync(LEVELS, { qos: 1 });
  });
  afterAll(async () => {
    for (const c of [agent, x, y]) await c?.end();
    await b?.close();
  });

  const send = (lane: string, seq: number) =>
    agent.client.publishAsync(topics.level('A', 'a1', lane), level(lane, seq), { qos: 1, retain: true });
  const seqsOn = (r: Recorded, lane: string) =>
    r.messages.filter((m) => m.topic === topics.level('A', 'a1', lane)).map((m) => JSON.parse(m.payload).seq);

  it('before: each supplier receives its own lane only', async () => {
    await send('l1', 1);
    await send('l2', 2);
    await x.waitFor((m) => m.topic.endsWith('/l1/level'), 'X gets l1');
    await y.waitFor((m) => m.topic.endsWith('/l2/level'), 'Y gets l2');
    expect(seqsOn(x, 'l2')).toEqual([]);
    expect(seqsOn(y, 'l1')).toEqual([]);
  });

  it('after a reload: live subscriptions, retained messages and new subscriptions follow the new map', async () => {
    b.broker.map.reload(swapped());
    expect(b.broker.map.supplierOf('A', 'a1', 'l1')).toBe('Y');
    // In order from one publisher: if X were still given l1, it would have it before l2.
    await send('l1', 3);
    await send('l2', 4);
    await x.waitFor((m) => m.topic.endsWith('/l2/level') && JSON.parse(m.payload).seq === 4, 'X gets l2');
    await y.waitFor((m) => m.topic.endsWith('/l1/level') && JSON.parse(m.payload).seq === 3, 'Y gets l1');
    expect(seqsOn(x, 'l1')).toEqual([1]);
    expect(seqsOn(y, 'l2')).toEqual([2]);
    // A new subscription gets the retained level of the lane it now owns, not of the one it lost.
    const late = await connect(b.url, { username: 'sup-x', password: PASSWORD, clientId: 'sup-x-late' });
    await late.client.subscribeAsync(LEVELS, { qos: 1 });
    await late.waitFor((m) => m.retain && m.topic.endsWith('/l2/level'), 'the retained l2');
    await late.client.subscribeAsync(topics.level('A', 'a1', 'l1'), { qos: 1 }).catch(() => undefined);
    await agent.client.publishAsync(topics.level('A', 'a1', 'l2'), level('l2', 5), { qos: 1 });
    await late.waitFor((m) => JSON.parse(m.payload).seq === 5, 'a live l2 after the l1 subscription');
    expect(late.messages.filter((m) => m.topic.endsWith('/l1/level'))).toEqual([]);
    await late.end();
  });
});
