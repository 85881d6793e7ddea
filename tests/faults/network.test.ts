/**
 * Fault: the network between the agent and the broker. A cut (connections reset, new ones refused)
 * and a stall (connections stay up but every byte vanishes, no RST: only the agent's MQTT
 * keepalive can notice). The agent keeps counting into its outbox; once the path is back, every
 * reading reaches central, and the lane that crossed its reorder point meanwhile orders once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chain, REORDER_POINT, startChain, picksFor as takeFor } from '../helpers/faults-chain.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 60, items: 150, capacity: 200 },
  { unitWeightG: 200, items: 9, capacity: 20 },
];

describe('[nothing lost, one need = one order] network cut and stall between agent and broker', () => {
  let chain: Chain;
  let l1 = 150;

  beforeAll(async () => {
    chain = await startChain({ name: 'net', seed: 41, lanes, proxy: true });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
  });

  /** Picks from L1 for `ms`, keeping its expected count. */
  async function picksFor(ms: number) {
    const picks = await takeFor(chain, 1, ms);
    l1 -= picks;
    return picks;
  }

  async function afterFault(lane: string, t0: number) {
    const recoveryMs = await chain.waitCaughtUp(t0);
    await waitFor(async () => (await chain.lane('L1')).units === l1, 20_000, {
      what: 'the picks made during the fault at central',
    });
    await waitFor(async () => (await chain.orders()).some((o) => o.lane === lane), 30_000, {
      what: `the ${lane} order`,
    });
    const order = (await chain.orders()).find((o) => o.lane === lane);
    await waitFor(() => chain.hooks.processed().some((h) => h.orderId === order?.id), 30_000, {
      what: `the ${lane} webhook`,
    });
    return recoveryMs;
  }

  it('a cut: connections reset and refused; every reading arrives after it, one order', async () => {
    const agent = chain.agent;
    if (!agent || !chain.proxy) throw new Error('in-process agent behind a proxy expected');
    const from = (await chain.agentSeq()).lastSeq;
    chain.proxy.cut();
    await waitFor(() => !agent.connected, 5_000, { what: 'the agent to see the cut' });
    await chain.control({ action: 'remove', lane: 0, count: 8 - (REORDER_POINT - 1) });
    const picks = await picksFor(scale(3_000, 70_000));
    expect(chain.proxy.counters.refused).toBeGreaterThan(0); // it kept trying
    chain.proxy.restore();
    const recoveryMs = await afterFault('L0', Date.now());
    const row = await chain.score(scale('network cut (3 s)', 'network cut (70 s)'), from, recoveryMs, {
      picks,
    });
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
  }, 180_000);

  it('a stall (black hole, no RST): keepalive notices; every reading arrives after it, one order', async () => {
    const agent = chain.agent;
    if (!agent || !chain.proxy) throw new Error('in-process agent behind a proxy expected');
    const from = (await chain.agentSeq()).lastSeq;
    const stalledAt = Date.now();
    chain.proxy.stall();
    await chain.control({ action: 'remove', lane: 2, count: 9 - (REORDER_POINT - 1) });
    // keepalive 2 s: a PINGREQ goes unanswered and the client gives the connection up.
    await waitFor(() => !agent.connected, 15_000, { what: 'the agent to notice the dead link' });
    const detectMs = Date.now() - stalledAt;
    const picks = await picksFor(scale(3_000, 60_000));
    chain.proxy.restore();
    const recoveryMs = await afterFault('L2', Date.now());
    const row = await chain.score(scale('network stall (3 s)', 'network stall (60 s)'), from, recoveryMs, {
      picks,
      detectMs,
    });
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
    expect(chain.proxy.counters.blackholedBytes).toBeGreaterThan(0);
  }, 180_000);
});
