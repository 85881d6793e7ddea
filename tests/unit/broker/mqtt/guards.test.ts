/**
 * The routing guard against the mqemitter stack overflow, reproduced deterministically in memory:
 * hold every routing slot, queue many messages no subscription matches, then release the slots.
 */
import { installBacklogLimit, installRoutingTrampoline, routingBacklog } from '@shelfsense/broker/testing';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';

const CONCURRENCY = 10;
const UNMATCHED = 20_000;

async function saturated(guard: boolean) {
  const broker = await Aedes.createBroker({ concurrency: CONCURRENCY });
  if (guard) installRoutingTrampoline(broker);
  const held: (() => void)[] = [];
  await new Promise<void>((r) =>
    broker.subscribe(
      'hold/+',
      (_packet: unknown, cb: () => void) => held.push(cb),
      () => r(),
    ),
  );
  // Fill every routing slot with a message whose delivery has not finished...
  for (let i = 0; i < CONCURRENCY; i++) {
    broker.publish(
      { cmd: 'publish', topic: `hold/${i}`, payload: Buffer.from('x'), qos: 0, retain: false, dup: false },
      () => {},
    );
  }
  await waitFor(() => held.length === CONCURRENCY);
  // ...so these queue up; none of them matches any subscription.
  const order: number[] = [];
  for (let i = 0; i < UNMATCHED; i++) {
    broker.publish(
      { cmd: 'publish', topic: `nobody/${i}`, payload: Buffer.from('y'), qos: 0, retain: false, dup: false },
      () => {
        order.push(i);
      },
    );
  }
  return { broker, held, order };
}

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

let open: Aedes[] = [];
afterEach(async () => {
  for (const b of open) await new Promise<void>((r) => b.close(() => r()));
  open = [];
});

describe('mqemitter routing under a backlog', () => {
  it('root cause: without the guard, draining a queue of unmatched messages overflows the stack', async () => {
    const { broker, held } = await saturated(false);
    open.push(broker);
    expect(routingBacklog(broker)).toBeGreaterThanOrEqual(UNMATCHED - CONCURRENCY);
    // Releasing one slot routes the whole queue recursively: released → _do → parallel → released …
    expect(() => held[0]!()).toThrow(RangeError);
  });

  it('[guard] with the trampoline, the same queue drains without recursion and in order', async () => {
    const { broker, held, order } = await saturated(true);
    open.push(broker);
    for (const cb of held) cb();
    await waitFor(() => order.length === UNMATCHED);
    expect(order.every((v, i) => v === i)).toBe(true);
    expect(routingBacklog(broker)).toBe(0);
    const mq = (broker as unknown as { mq: { current: number } }).mq;
    expect(mq.current).toBe(0);
  });

  it('[guard] a full backlog drops QoS 0 from clients, never QoS 1, retained or internal publishes', async () => {
    const broker = await Aedes.createBroker({ concurrency: 1 });
    open.push(broker);
    installRoutingTrampoline(broker);
    const drops: string[] = [];
    installBacklogLimit(broker, 2, (p) => drops.push(p.topic));
    const fakeClient = { id: 'c' } as never;
    const delivered: string[] = [];
    const held: (() => void)[] = [];
    await new Promise<void>((r) =>
      broker.subscribe(
        't/+',
        (p: { topic: string }, cb: () => void) => {
          delivered.push(p.topic);
          held.push(cb);
        },
        () => r(),
      ),
    );
    const pub = (topic: string, qos: 0 | 1, retain = false, client: unknown = fakeClient) =>
      (broker.publish as unknown as (p: object, c: unknown, d: () => void) => void)(
        { cmd: 'publish', topic, payload: Buffer.from('p'), qos, retain, dup: false },
        client,
        () => {},
      );
    pub('t/0', 0); // in flight
    await waitFor(() => held.length === 1);
    pub('t/1', 0); // queued (backlog 1)
    pub('t/2', 0); // queued (backlog 2)
    pub('t/3', 0); // dropped
    pub('t/4', 1); // QoS 1: kept
    pub('t/5', 0, true); // retained: kept
    pub('t/6', 0, false, null); // internal: kept
    expect(drops).toEqual(['t/3']);
    // Release deliveries until everything kept has been routed.
    await waitFor(() => {
      for (const cb of held.splice(0)) cb();
      return delivered.length === 6;
    });
    expect(delivered.sort()).toEqual(['t/0', 't/1', 't/2', 't/4', 't/5', 't/6']);
  });
});
