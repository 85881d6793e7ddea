/**
 * An agent given two brokers moves to the second when the first goes away, and its outbox drains
 * there: real aedes brokers on TCP, a real agent on a simulated shelf, every seq delivered.
 */
import { Agent } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, collect } from '../../helpers/agent.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

describe('[failover] an agent with the nodes of a cluster', () => {
  let first: TestBroker;
  let second: TestBroker;
  let sim: Simulator;
  let agent: Agent;

  beforeAll(async () => {
    first = await startAedes();
    second = await startAedes();
    sim = await startSimulator({
      seed: 23,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [
          {
            serial: 'SHELF-F',
            lanes: [
              { unitWeightG: 200, items: 40, capacity: 50 },
              { unitWeightG: 90, items: 60, capacity: 80 },
            ],
          },
        ],
        events: [{ at: '1s', every: '300ms', action: 'remove', lane: 'any', count: 1 }],
      },
    });
    const cfg = agentConfig(sim, first.url, { broker: { url: [first.url, second.url], reconnectMs: 100 } });
    agent = new Agent(cfg, pino({ level: 'silent' }));
    await agent.start();
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    await first?.close();
    await second?.close();
  });

  it('moves to the next broker when its own goes away; the outbox drains there', async () => {
    await waitFor(
      () => agent.describe().publisher?.connected && (agent.describe().outbox?.appended ?? 0) >= 3,
      15_000,
      {
        what: 'readings through the first broker',
      },
    );
    expect(agent.describe().publisher?.broker).toBe(first.url);
    const sub = await collect(second.url, ['shelfsense/v1/+/+/+/event']);
    await first.stop();
    await waitFor(
      () => agent.describe().publisher?.broker === second.url && agent.describe().publisher?.connected,
      10_000,
      {
        what: 'the agent on the second broker',
      },
    );
    const appendedAtMove = agent.describe().outbox?.appended ?? 0;
    await waitFor(() => sub.messages.length >= 3, 15_000, { what: 'events through the second broker' });
    await waitFor(() => agent.describe().outbox?.queued === 0, 10_000, { what: 'the outbox drained' });
    expect(agent.describe().outbox?.appended ?? 0).toBeGreaterThan(appendedAtMove);
    await sub.close();
  }, 60_000);
});
