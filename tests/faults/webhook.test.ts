/**
 * Fault: the supplier's webhook endpoint. Down (connection refused), slow (answers after longer
 * than central's webhook timeout) and answering 500 for a long stretch, each while an order opens.
 * Once it recovers, every order transition is delivered, under one idempotency key per transition
 * (retries reuse it, so a supplier that dedupes acts once); nothing is dead-lettered within the
 * retry budget; no order is duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chain, REORDER_POINT, startChain } from '../helpers/faults-chain.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 150, items: 10, capacity: 20 },
  { unitWeightG: 200, items: 9, capacity: 20 },
];
const TIMEOUT_MS = 1_000;

describe('[one need = one order, delivered once] webhook receiver down, slow, failing', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain({
      name: 'hooks',
      seed: 71,
      lanes,
      // Retry budget: up to 200 attempts at most 1 s apart, longer than any stretch below.
      webhooks: { timeoutMs: TIMEOUT_MS, retry: { baseMs: 200, maxMs: 1_000, maxAttempts: 200 } },
    });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
  });

  /** Makes `lane` cross its reorder point and waits for central to open the order. */
  async function orderOn(lane: number, items: number) {
    await chain.control({ action: 'remove', lane, count: items - (REORDER_POINT - 1) });
    return waitFor(async () => (await chain.orders()).find((o) => o.lane === `L${lane}`), 30_000, {
      what: `the L${lane} order`,
    });
  }

  /** Time from the receiver's recovery until it has answered 200 to every transition of `id`. */
  async function delivered(id: string, since: number) {
    await waitFor(() => chain.hooks.requests.some((r) => r.json.orderId === id && r.status === 200), 30_000, {
      what: 'the order webhook after the receiver recovered',
    });
    return Date.now() - since;
  }

  async function check(name: string, from: number, recoveryMs: number, id: string, transitions = 1) {
    const attempts = chain.hooks.requests.filter((r) => r.json.orderId === id).length;
    const keys = new Set(
      chain.hooks.requests.filter((r) => r.json.orderId === id).map((r) => r.headers['idempotency-key']),
    );
    const row = await chain.score(name, from, recoveryMs, { attempts });
    expect(keys.size).toBe(transitions); // every attempt of one transition carried the same key
    // … and no key stands for two transitions.
    const transitionsOfKey = new Map<string, Set<string>>();
    for (const r of chain.hooks.requests) {
      const key = String(r.headers['idempotency-key']);
      const set = transitionsOfKey.get(key) ?? new Set<string>();
      set.add(`${r.json.orderId}/${r.json.state}`);
      transitionsOfKey.set(key, set);
    }
    for (const set of transitionsOfKey.values()) expect(set.size).toBe(1);
    expect(await chain.deadLetters()).toEqual([]);
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
    return row;
  }

  it('receiver down while an order opens: delivered once it is back, no dead letter', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    await chain.hooks.down();
    const order = await orderOn(0, 8);
    await new Promise((r) => setTimeout(r, scale(3_000, 60_000)));
    expect(chain.hooks.requests.filter((r) => r.json.orderId === order.id)).toEqual([]);
    await chain.hooks.up();
    const recoveryMs = await delivered(order.id, Date.now());
    await check(
      scale('webhook receiver down (3 s)', 'webhook receiver down (60 s)'),
      from,
      recoveryMs,
      order.id,
    );
  }, 180_000);

  it('receiver slower than the timeout: retried under the same key, delivered once it answers in time', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    chain.hooks.mode = 'slow';
    chain.hooks.slowMs = TIMEOUT_MS * 2.5;
    const order = await orderOn(1, 10);
    await waitFor(() => chain.hooks.requests.filter((r) => r.json.orderId === order.id).length >= 2, 30_000, {
      what: 'a retry after a timed-out attempt',
    });
    await new Promise((r) => setTimeout(r, scale(1_000, 45_000)));
    chain.hooks.mode = 'ok';
    const recoveryMs = await delivered(order.id, Date.now());
    await check(
      scale('webhook receiver slow (~5 s)', 'webhook receiver slow (~50 s)'),
      from,
      recoveryMs,
      order.id,
    );
  }, 180_000);

  it('receiver answering 500 while the order moves on: each transition delivered once, in order, no dead letter', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    chain.hooks.mode = 'error';
    const order = await orderOn(2, 9);
    // The supplier acknowledges and ships through the API while its endpoint fails.
    expect(await chain.orderAction(order.id, 'acknowledge')).toBe(200);
    expect(await chain.orderAction(order.id, 'ship')).toBe(200);
    await new Promise((r) => setTimeout(r, scale(4_000, 90_000)));
    expect(chain.hooks.requests.filter((r) => r.json.orderId === order.id).length).toBeGreaterThan(2);
    chain.hooks.mode = 'ok';
    const t0 = Date.now();
    await waitFor(
      () =>
        ['open', 'acknowledged', 'shipped'].every((state) =>
          chain.hooks.requests.some(
            (r) => r.json.orderId === order.id && r.json.state === state && r.status === 200,
          ),
        ),
      30_000,
      { what: 'every transition of the order after the receiver healed' },
    );
    const recoveryMs = Date.now() - t0;
    const states = chain.hooks.processed().filter((h) => h.orderId === order.id);
    expect(states.map((h) => h.state)).toEqual(['open', 'acknowledged', 'shipped']);
    await check(
      scale('webhook receiver 500 (4 s)', 'webhook receiver 500 (90 s)'),
      from,
      recoveryMs,
      order.id,
      3,
    );
    expect((await chain.orders()).map((o) => o.lane).sort()).toEqual(['L0', 'L1', 'L2']);
  }, 240_000);
});
