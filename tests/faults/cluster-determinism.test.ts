/**
 * The same seeded scenario on the cluster chain with 1 worker and with 3 yields the same orders:
 * which lanes, how many items, at which count. The picks are scheduled in the shelf's device time,
 * and each lane that crosses its reorder point stays put afterwards, so what the rules decide does
 * not depend on which worker holds a lane or when its batch runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type ClusterChain, startClusterChain } from '../helpers/cluster-chain.js';
import type { OrderSnapshot } from '../helpers/cluster-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 200, items: 10, capacity: 20 },
  { unitWeightG: 150, items: 9, capacity: 20 },
  { unitWeightG: 60, items: 100, capacity: 120 },
];
// Needs: L0 (8 → 3) and L1 (10 → 8 → 4); L2 falls to 6, above its reorder point; L3 is picked all
// along, so readings keep coming.
const events = [
  { at: '4s', action: 'remove', lane: 0, count: 5 },
  { at: '5s', action: 'remove', lane: 1, count: 2 },
  { at: '6s', action: 'remove', lane: 2, count: 3 },
  { at: '7s', action: 'remove', lane: 1, count: 4 },
  { at: '3s', every: '1200ms', action: 'remove', lane: 3, count: 1 },
];
const NEEDS = ['L0', 'L1'];

describe('[cluster: deterministic] one seeded scenario, 1 worker or 3: the same orders', () => {
  let chain: ClusterChain | null = null;

  afterAll(async () => {
    await chain?.stop();
  });

  async function run(workers: number): Promise<OrderSnapshot[]> {
    chain = await startClusterChain({ name: `det-${workers}`, seed: 77, lanes, events, workers });
    const c = chain;
    try {
      // Past the last scheduled pick and its debounce, in device time.
      await waitFor(() => c.sim.shelf('SHELF-C').engine.nextDeviceMs > 10_000, 30_000, {
        what: 'the scheduled picks',
      });
      await waitFor(async () => (await c.orders()).length >= NEEDS.length, 30_000, { what: 'the orders' });
      await c.waitWebhooks();
      const row = await c.score(`same scenario, ${workers} worker${workers > 1 ? 's' : ''}`, 0, null);
      expect(row).toMatchObject({
        readingsLost: 0,
        readingsDuplicated: 0,
        laneOrderViolations: 0,
        duplicateOrders: 0,
        falseOrders: 0,
        missedOrders: 0,
        webhooksMissing: 0,
        webhooksConflicting: 0,
      });
      return (await c.orders()).map(({ lane, quantity, units }) => ({ lane, quantity, units }));
    } finally {
      await c.stop();
      chain = null;
    }
  }

  it('orders (lane, quantity, units at the order) are the same with 1 and with 3 workers', async () => {
    const one = await run(1);
    const three = await run(3);
    const byLane = (a: OrderSnapshot, b: OrderSnapshot) => a.lane.localeCompare(b.lane);
    expect(one.map((o) => o.lane).sort()).toEqual(NEEDS);
    expect([...three].sort(byLane)).toEqual([...one].sort(byLane));
  }, 240_000);
});
