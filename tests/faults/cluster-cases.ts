/**
 * Faults on the cluster deployment, scored against the simulator's ground truth: a worker killed
 * mid-batch (after its commit, before its acks), the agent's NATS node killed with `kill -9`,
 * Postgres restarted, and one NATS node cut off from the other two. In each case a lane crosses its
 * reorder point as the fault begins and another lane is picked all along; afterwards every reading
 * the agent accepted is committed once, each lane's readings were committed in order, each need
 * has one order, and every webhook event reached the supplier under one idempotency key. The test
 * files choose the cases (cluster.test.ts, cluster-partition.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterChain, REORDER_POINT, startClusterChain } from '../helpers/cluster-chain.js';
import type { ClusterRow } from '../helpers/cluster-figures.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

// Eight partitions, one lane each (partitionOf): L3, the lane picked all along, is partition 7.
const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 200, items: 9, capacity: 20 },
  { unitWeightG: 150, items: 8, capacity: 20 },
  { unitWeightG: 60, items: 100, capacity: 120 },
  { unitWeightG: 250, items: 9, capacity: 20 },
];
const ZERO = {
  readingsLost: 0,
  readingsDuplicated: 0,
  laneOrderViolations: 0,
  duplicateOrders: 0,
  falseOrders: 0,
  missedOrders: 0,
  webhooksMissing: 0,
  webhooksConflicting: 0,
};

export type ClusterFault = 'worker' | 'nats-kill' | 'postgres' | 'cut';

/** The cases of `cases`, in that order, on one cluster chain of their own. */
export function clusterFaults(name: string, cases: readonly ClusterFault[]): void {
  describe(`[cluster: nothing lost or doubled, one need = one order] ${name}`, () => {
    let chain: ClusterChain;

    beforeAll(async () => {
      chain = await startClusterChain({
        name: 'faults',
        seed: 41,
        lanes,
        workers: 2,
        batchSize: 10,
        // Steady readings: one item off L3 every 1.2 s of device time, for as long as the file runs.
        events: [{ at: '1s', every: '1200ms', action: 'remove', lane: 3, count: 1 }],
      });
      await waitFor(async () => (await chain.mark()) > 5, 30_000, { what: 'first readings committed' });
    }, 180_000);

    afterAll(async () => {
      await chain?.stop();
    });

    /** Takes `lane` from its count to one below the reorder point: one need. */
    const cross = (lane: number) =>
      chain.control({ action: 'remove', lane, count: (lanes[lane]?.items ?? 0) - (REORDER_POINT - 1) });

    /** After a fault: every reading committed, the lane's order and every webhook; then the row. */
    async function settle(name: string, lane: number, from: number, t0: number, notes?: ClusterRow['notes']) {
      const recoveryMs = await chain.waitCaughtUp(t0);
      await waitFor(async () => (await chain.orders()).some((o) => o.lane === `L${lane}`), 30_000, {
        what: `the L${lane} order`,
      }).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${await chain.diagnose()}`);
      });
      await chain.waitWebhooks();
      // A last reading committed after the order: the need's debounce is over in the ground truth.
      await chain.waitCaughtUp(Date.now());
      const row = await chain.score(name, from, recoveryMs, notes);
      expect(row).toMatchObject(ZERO);
      expect(row.readingsAccepted).toBeGreaterThan(0);
      return row;
    }

    if (cases.includes('worker'))
      it('a worker killed mid-batch (after its commit, before its acks): handed over, nothing doubled', async () => {
        const from = chain.agentSeq().lastSeq;
        // A third worker takes partitions 3 and 7 (L3's) from the others, commits its first batch and
        // SIGKILLs itself before acknowledging it.
        const w3 = await chain.startWorker('w3', { SHELFSENSE_WORKER_FAULT: 'kill-after-commit:1' });
        await cross(0);
        const exit = await Promise.race([
          w3.exited,
          new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref()),
        ]);
        if (exit?.signal !== 'SIGKILL') throw new Error(`w3 did not kill itself\n${await chain.diagnose()}`);
        chain.workers.delete('w3');
        const t0 = Date.now();
        // Its leases run out, the others take its partitions, and JetStream hands the batch out again.
        await waitFor(async () => !(await chain.owners()).some((o) => o === 'w3' || o === null), 20_000, {
          what: "w3's partitions taken over",
        });
        await settle('worker kill -9 after commit, before ack', 0, from, t0);
      }, 120_000);

    if (cases.includes('nats-kill'))
      it("the agent's NATS node killed with kill -9 mid-run, started again later", async () => {
        const from = chain.agentSeq().lastSeq;
        // The node the agent is on: it must move to another and lose nothing.
        const node = chain.nats.nodes[await agentNode(chain)];
        if (!node) throw new Error('no node');
        await cross(1);
        await node.kill();
        const down = scale(4_000, 30_000);
        await waitFor(async () => chain.agentSeq().lastSeq > from + 3, down + 10_000, {
          what: 'readings accepted while the node is down',
        });
        await new Promise((r) => setTimeout(r, down));
        await node.start();
        const t0 = Date.now();
        await settle('NATS node kill -9', 1, from, t0, { downMs: down });
      }, 150_000);

    if (cases.includes('postgres'))
      it('Postgres restarted mid-run (fast shutdown): no ack without a commit, workers recover', async () => {
        const from = chain.agentSeq().lastSeq;
        await cross(2);
        await chain.pg.stop();
        const down = scale(4_000, 30_000);
        await new Promise((r) => setTimeout(r, down));
        await chain.pg.restart();
        const t0 = Date.now();
        await settle('Postgres restart', 2, from, t0, { downMs: down });
        // Both workers survived it.
        for (const [id, w] of chain.workers) expect(w.child.exitCode, `${id} still running`).toBeNull();
      }, 150_000);

    if (cases.includes('cut'))
      it('one NATS node cut off from the others (its routes), then healed', async () => {
        const from = chain.agentSeq().lastSeq;
        // The node the agent publishes to: its readings have nowhere to go until the cut heals.
        const i = await agentNode(chain);
        await cross(4);
        chain.nats.isolate(i);
        const cut = scale(6_000, 45_000);
        await new Promise((r) => setTimeout(r, cut));
        chain.nats.heal(i);
        const t0 = Date.now();
        await settle('NATS node cut off', 4, from, t0, { cutMs: cut, node: `n${i + 1}` });
      }, 180_000);
  });
}

/** Index of the NATS node holding the agent's MQTT connection. */
async function agentNode(chain: ClusterChain): Promise<number> {
  return waitFor(
    async () => {
      for (const [i, n] of chain.nats.nodes.entries()) {
        if (!n.running) continue;
        const text = await (await fetch(`${n.monitorUrl}/connz?auth=true`)).text();
        if (text.includes('"authorized_user": "pi-1"') || text.includes('"authorized_user":"pi-1"'))
          return i + 1;
      }
      return 0;
    },
    10_000,
    { what: "the agent's NATS node" },
  ).then((x) => x - 1);
}
