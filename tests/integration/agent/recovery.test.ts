/**
 * The agent recovers by itself when the serial port vanishes and returns (socat killed and
 * restarted on the same path) and when a TCP bridge drops; and it speaks to a real Mosquitto
 * (MQTT 5) exactly as to aedes (3.1.1), delivering every record end to end.
 */
import { Agent, createLogger } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfig, collect } from '../../helpers/agent.js';
import { startAedes, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { MiniCentral } from '../../helpers/mini-central.js';
import { waitFor } from '../../helpers/wait.js';

const lanes = [
  { unitWeightG: 150, items: 30, capacity: 40 },
  { unitWeightG: 60, items: 50, capacity: 60 },
];

describe('agent recovery and interoperability', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function run(transport: 'pty' | 'tcp', broker: TestBroker) {
    const sim: Simulator = await startSimulator({
      seed: 9,
      transport,
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [{ serial: 'SHELF-R', lanes }],
        events: [
          { at: '500ms', every: '700ms', action: 'remove', lane: 'any', count: 1 },
          { at: '3s', action: 'vanish', ms: '1500ms' },
        ],
      },
    });
    cleanup.push(() => sim.stop());
    const sub = await collect(broker.url, ['shelfsense/v1/store-1/+/+/event']);
    cleanup.push(() => sub.close());
    const agent = new Agent(agentConfig(sim, broker.url), createLogger('silent'));
    cleanup.push(() => agent.stop());
    await agent.start();
    const vanished = await waitFor(() => sim.groundTruth.states('SHELF-R').find((s) => s.vanished), 20_000, {
      what: 'the port to vanish',
    });
    const back = await waitFor(
      () => sim.groundTruth.states('SHELF-R').find((s) => s.seq > vanished.seq && !s.vanished),
      20_000,
      { what: 'the port to return' },
    );
    // Counting resumes on frames sent after the port came back, without any help.
    await waitFor(() => sub.messages.some((m) => (m.payload.frameSeq as number) > back.seq + 40), 20_000, {
      what: 'events computed from frames after the port returned',
    });
    return { sim, agent, sub };
  }

  it('[port vanishing] reopens a pseudo-terminal that disappeared and came back', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    const { agent } = await run('pty', broker);
    expect(agent.describe().shelves.map((s) => s.serial)).toEqual(['SHELF-R']);
  }, 60_000);

  it('[bridge drop] reconnects to a TCP serial bridge that dropped', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    await run('tcp', broker);
  }, 60_000);

  it('[interoperability] delivers every record through a real Mosquitto over MQTT 5', async () => {
    const broker = await startMosquitto();
    cleanup.push(() => broker.close());
    const central = new MiniCentral(broker.url, 'store-1', 'pi-1');
    await central.start();
    cleanup.push(() => central.stop());
    const sim = await startSimulator({
      seed: 4,
      transport: 'pty',
      control: false,
      scenario: {
        shelves: [{ serial: 'SHELF-M', lanes }],
        events: [{ at: '500ms', every: '500ms', action: 'remove', lane: 'any', count: 1 }],
      },
    });
    cleanup.push(() => sim.stop());
    const agent = new Agent(
      agentConfig(sim, broker.url, { delivery: { trimOn: 'central' } }),
      createLogger('silent'),
    );
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor(() => central.mark >= 20 && agent.outboxStats?.trimmedThrough === central.mark, 30_000, {
      what: 'twenty records stored and trimmed',
    });
    const seqs = [...central.records.keys()].sort((a, b) => a - b);
    expect(seqs.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((agent as unknown as { publisher: { protocolVersion: number } }).publisher.protocolVersion).toBe(
      5,
    );
  }, 60_000);
});
