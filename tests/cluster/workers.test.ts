/**
 * The cluster deployment end to end, on real engines (tests/helpers/cluster-chain.ts): a 3-node
 * NATS cluster with the accounts and permissions `shelfsense cluster nats-auth --partitions`
 * writes, Postgres, two `shelfsense cluster worker` processes, a seeded simulated shelf read by a
 * real agent that knows every NATS node, and a supplier's webhook endpoint. The agent publishes as
 * it does to one central; the readings reach the workers partitioned by lane through JetStream;
 * every reading is committed once, the stored mark comes back so the agent trims its outbox, and
 * each need opens one order, sent once. Then a worker is killed with SIGKILL mid-run: the other
 * takes its partitions over and nothing is lost or doubled. (The fault suite, tests/faults/
 * cluster*.test.ts, kills one mid-batch and scores more faults.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterChain, startClusterChain } from '../helpers/cluster-chain.js';
import { waitFor } from '../helpers/wait.js';

const LANES = [
  { unitWeightG: 200, items: 7, capacity: 20 },
  { unitWeightG: 90, items: 6, capacity: 20 },
  { unitWeightG: 150, items: 8, capacity: 20 },
  // Far above its reorder point all along: its picks keep readings coming after the others empty.
  { unitWeightG: 120, items: 100, capacity: 100 },
];
const LOW = ['L0', 'L1', 'L2'];

describe('[cluster] ingest and rules as workers on JetStream, the store in Postgres', () => {
  let chain: ClusterChain;

  beforeAll(async () => {
    chain = await startClusterChain({
      name: 'workers',
      seed: 23,
      lanes: LANES,
      workers: 2,
      // Steady picking, slow enough for each level to settle: L0–L2 cross their reorder point
      // once (nothing restocks them), L3 never does.
      events: [{ at: '1s', every: '600ms', action: 'remove', lane: 'any', count: 1 }],
    });
  }, 180_000);

  afterAll(async () => {
    await chain?.stop();
  });

  /** Every seq up to the agent's newest is committed, once, and the agent has trimmed them. */
  const allCommitted = async () => {
    await chain.waitCaughtUp(Date.now(), 30_000);
    expect(await chain.store.readings.gaps('store-1', 'pi-1')).toEqual([]);
    return chain.mark();
  };

  it('commits every reading once, returns the mark, and opens one order per need', async () => {
    await waitFor(async () => (await chain.mark()) >= 20, 40_000, { what: 'readings committed' });
    const orders = await waitFor(
      async () => {
        const list = await chain.orders();
        return list.length >= LOW.length ? list : null;
      },
      60_000,
      { what: 'one order per low lane' },
    );
    await allCommitted();
    expect(orders.map((o) => o.lane).sort()).toEqual(LOW);
    // Sent once each, under its idempotency key.
    await chain.waitWebhooks(20_000);
    const keys = chain.hooks.requests.map((h) => h.headers['idempotency-key']);
    expect(keys.length).toBeGreaterThanOrEqual(orders.length);
    expect(new Set(keys).size).toBe(keys.length);
  }, 120_000);

  it('[fault] a worker killed with SIGKILL: its partitions move, nothing lost or doubled', async () => {
    const before = await chain.mark();
    await chain.killWorker('w1');
    // w2 takes every partition once w1's leases run out.
    await waitFor(async () => (await chain.owners()).every((o) => o === 'w2'), 30_000, {
      what: 'w2 holding every partition',
    });
    await waitFor(async () => (await chain.mark()) >= before + 12, 40_000, {
      what: 'readings committed after the kill',
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await chain.diagnose()}`);
    });
    expect(await allCommitted()).toBeGreaterThan(before);
    // Still one order per lane: no need was ordered twice across the handover.
    const row = await chain.score('worker SIGKILL (workers.test)', 0, null);
    expect(row).toMatchObject({ readingsLost: 0, readingsDuplicated: 0, duplicateOrders: 0 });
  }, 120_000);
});
