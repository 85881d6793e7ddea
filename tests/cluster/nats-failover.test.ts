/**
 * Devices on a NATS cluster: an agent given the MQTT URLs of a real 3-node `nats-server` cluster
 * connects to the first; that node is killed with SIGKILL mid-run; the agent moves to the next
 * node and its outbox drains there. A stand-in for central on the third node dedupes by
 * (agent, seq) and publishes the stored mark the agent trims on, as central does: every reading
 * the agent accepted arrives, with no sequence gap, across the loss of a node.
 */
import { Agent } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig } from '../helpers/agent.js';
import { MiniCentral } from '../helpers/mini-central.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

describe('[cluster] an agent on a 3-node NATS cluster', () => {
  let cluster: NatsCluster;
  let sim: Simulator;
  let central: MiniCentral;
  let agent: Agent;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    sim = await startSimulator({
      seed: 19,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [
          {
            serial: 'SHELF-N',
            lanes: [
              { unitWeightG: 200, items: 40, capacity: 50 },
              { unitWeightG: 90, items: 60, capacity: 80 },
            ],
          },
        ],
        events: [{ at: '1s', every: '300ms', action: 'remove', lane: 'any', count: 1 }],
      },
    });
    central = new MiniCentral(cluster.nodes[2]!.mqttUrl, 'store-1', 'pi-1');
    await central.start();
    const cfg = agentConfig(sim, cluster.nodes[0]!.mqttUrl, {
      broker: { url: cluster.nodes.map((n) => n.mqttUrl), reconnectMs: 100, keepaliveS: 2 },
      delivery: { trimOn: 'central', redeliverMs: 1_000 },
    });
    agent = new Agent(cfg, pino({ level: 'silent' }));
    await agent.start();
    // The cluster's start alone is bounded at 60 s (tests/helpers/nats.ts).
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await central?.stop();
    await sim?.stop();
    await cluster?.close();
  });

  it('[failover] loses nothing when its node is killed: it moves on and its outbox drains there', async () => {
    await waitFor(() => central.records.size >= 8, 40_000, { what: 'first records through node 1' }).catch(
      (e) => {
        throw new Error(
          `${e.message}: ${JSON.stringify({ agent: agent.describe(), central: central.records.size, dup: central.duplicates })}`,
        );
      },
    );
    expect(agent.describe().publisher).toMatchObject({ connected: true, broker: cluster.nodes[0]!.mqttUrl });

    await cluster.nodes[0]!.kill();
    const markAtKill = central.mark;
    // Readings go on while the agent finds the next node; they wait in its outbox meanwhile.
    await waitFor(() => central.mark >= markAtKill + 12, 30_000, { what: 'records through another node' });
    await waitFor(() => agent.describe().outbox?.queued === 0 || central.mark >= markAtKill + 16, 10_000, {
      what: 'the outbox drained',
    });

    // It is on a surviving node of its list (the next, or the one after if that attempt failed).
    const on = await waitFor(
      () => {
        const p = agent.describe().publisher;
        return p?.connected && p.broker !== cluster.nodes[0]!.mqttUrl ? p.broker : null;
      },
      10_000,
      { what: 'the agent connected to another node' },
    );
    expect([cluster.nodes[1]!.mqttUrl, cluster.nodes[2]!.mqttUrl]).toContain(on);
    // Readings keep arriving, possibly out of order around the failover: wait for a moment when
    // the stored mark has caught up with the highest seq, then every seq up to it is there.
    const mark = await waitFor(
      () => (central.mark === Math.max(...central.records.keys()) ? central.mark : null),
      10_000,
      { what: 'the stored mark to reach the newest record' },
    );
    for (let seq = 1; seq <= mark; seq++) expect(central.records.has(seq), `seq ${seq}`).toBe(true);
    expect(mark).toBeGreaterThanOrEqual(markAtKill + 12);
  }, 90_000);
});
