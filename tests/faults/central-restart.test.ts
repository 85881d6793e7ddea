/**
 * Fault: the broker and central go away — `kill -9` with readings in flight and a lane in the
 * middle of its reorder debounce, and a graceful restart (SIGTERM). Whatever the agent accepted
 * meanwhile reaches central once the broker is back; the lane that crossed its reorder point gets
 * exactly one order and one webhook per transition; no other lane orders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chain, REORDER_POINT, startChain } from '../helpers/faults-chain.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 60, items: 100, capacity: 120 },
  { unitWeightG: 200, items: 9, capacity: 20 },
];

describe('[nothing lost, one need = one order] central killed or restarted', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain({ name: 'central', seed: 31, lanes });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
  });

  /** Picks on L1 (it never reaches its reorder point) while central is away. */
  async function picksWhileDown(ms: number) {
    const end = Date.now() + ms;
    let picks = 0;
    while (Date.now() < end) {
      await chain.control({ action: 'remove', lane: 1, count: 1 });
      picks++;
      await new Promise((r) => setTimeout(r, 900));
    }
    return picks;
  }

  async function oneOrderOn(lane: string) {
    await waitFor(async () => (await chain.orders()).filter((o) => o.lane === lane).length >= 1, 30_000, {
      what: `the ${lane} order`,
    });
    const order = (await chain.orders()).find((o) => o.lane === lane);
    await waitFor(() => chain.hooks.processed().some((h) => h.orderId === order?.id), 30_000, {
      what: `the ${lane} webhook`,
    });
  }

  it('kill -9 mid-debounce with readings in flight: every reading stored, one order', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    await chain.control({ action: 'remove', lane: 0, count: 8 - (REORDER_POINT - 1) });
    await waitFor(async () => (await chain.lane('L0')).units === REORDER_POINT - 1, 20_000, {
      what: 'L0 below its reorder point at central',
    });
    await chain.central.kill(); // the 1.5 s debounce has just begun
    const picks = await picksWhileDown(scale(2_500, 30_000));
    await chain.central.restart();
    const t0 = Date.now();
    await chain.relogin();
    const recoveryMs = await chain.waitCaughtUp(t0);
    await waitFor(async () => (await chain.lane('L1')).units === 100 - picks, 20_000, {
      what: 'the picks made while central was down',
    });
    await oneOrderOn('L0');
    const row = await chain.score('central kill -9 (mid-debounce)', from, recoveryMs, { picks });
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
    expect(row.readingsAccepted).toBeGreaterThan(picks);
  }, 120_000);

  it('graceful restart (SIGTERM) right after a lane crosses: every reading stored, one order', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    const before = (await chain.lane('L1')).units;
    await chain.control({ action: 'remove', lane: 2, count: 9 - (REORDER_POINT - 1) });
    await chain.central.stop();
    const picks = await picksWhileDown(scale(2_000, 20_000));
    await chain.central.restart();
    const t0 = Date.now();
    await chain.relogin();
    const recoveryMs = await chain.waitCaughtUp(t0);
    await waitFor(async () => (await chain.lane('L1')).units === before - picks, 20_000, {
      what: 'the picks made while central was stopped',
    });
    await oneOrderOn('L2');
    const row = await chain.score('central graceful restart', from, recoveryMs, { picks });
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
    expect((await chain.orders()).map((o) => o.lane).sort()).toEqual(['L0', 'L2']);
  }, 120_000);
});
