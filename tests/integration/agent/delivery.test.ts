/**
 * Nothing lost, end to end: the agent runs as its own compiled process against a real broker; the
 * broker is killed and restarted, and the agent is `kill -9`-ed while the broker is down and
 * started again. Every reading the agent accepted reaches central (here a minimal stand-in that
 * dedupes by (agent, seq) and publishes the stored mark), in order, with no sequence gap.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig } from '../../helpers/agent.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { MiniCentral } from '../../helpers/mini-central.js';
import { type CliProcess, killAll, shelfsense } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

describe('[nothing lost] agent delivery across broker restarts and kill -9', () => {
  let sim: Simulator;
  let broker: TestBroker;
  let central: MiniCentral;
  let agent: CliProcess;
  let configFile: string;

  const picks = () => sim.groundTruth.states('SHELF-D').length;

  beforeAll(async () => {
    broker = await startAedes();
    sim = await startSimulator({
      seed: 5,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [
          {
            serial: 'SHELF-D',
            lanes: [
              { unitWeightG: 200, items: 40, capacity: 50 },
              { unitWeightG: 90, items: 60, capacity: 80 },
            ],
          },
        ],
        events: [{ at: '1s', every: '400ms', action: 'remove', lane: 'any', count: 1 }],
      },
    });
    central = new MiniCentral(broker.url, 'store-1', 'pi-1');
    await central.start();
    const cfg = agentConfig(sim, broker.url, {
      delivery: { trimOn: 'central', redeliverMs: 1_000 },
      log: { level: 'warn' },
    });
    const { defaultUnitWeightG: _u, ...plain } = cfg;
    configFile = join(cfg.stateDir, 'agent.json');
    writeFileSync(configFile, JSON.stringify(plain));
    agent = shelfsense(['agent', '--config', configFile]);
    await agent.waitForLine('"ready":true', 15_000);
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await central?.stop();
    await sim?.stop();
    await broker?.close();
  });

  it('delivers every record in order with no gap after broker restart and agent kill -9', async () => {
    await waitFor(() => central.records.size >= 10, 20_000, { what: 'first records at central' }).catch(
      (e) => {
        throw new Error(
          `${e.message}\n${agent.stderr()}\n${JSON.stringify(sim.shelves.map((s) => [s.tcpPort, s.path]))} ${central.records.size}`,
        );
      },
    );

    await broker.stop();
    const before = picks();
    await waitFor(() => picks() >= before + 4, 20_000, { what: 'picks while the broker is down' });
    // Power is yanked from the agent while it holds an undelivered backlog.
    await agent.kill('SIGKILL');
    const whileDead = picks();
    await waitFor(() => picks() >= whileDead + 2, 20_000, { what: 'picks while the agent is dead' });
    agent = shelfsense(['agent', '--config', configFile]);
    await agent.waitForLine('"ready":true', 15_000);
    const afterRestart = picks();
    await waitFor(() => picks() >= afterRestart + 4, 20_000, { what: 'picks after the agent restarted' });

    const markBefore = central.mark;
    await broker.restart();
    await waitFor(() => central.mark > markBefore + 15, 30_000, { what: 'backlog delivered after restart' });
    // Let a few more records flow, then stop and check the whole history.
    const target = central.mark + 5;
    await waitFor(() => central.mark >= target, 20_000, { what: 'fresh records after recovery' });

    const seqs = [...central.records.keys()].sort((a, b) => a - b);
    expect(seqs[0]).toBe(1);
    // No gap: every seq from 1 to the highest received is present.
    expect(seqs.at(-1)).toBe(seqs.length);
    // In order, with the original timestamps: in seq order the records' own times never go back
    // (a record that arrives late, after a redelivery, still carries the time it was made).
    const ordered = seqs.map((q) => central.records.get(q)?.payload as Record<string, unknown>);
    for (let i = 1; i < ordered.length; i++) {
      expect(ordered[i]?.ts as number).toBeGreaterThanOrEqual(ordered[i - 1]?.ts as number);
    }
    // The event chain of every lane is unbroken: each pick starts where the previous one ended.
    const lastUnits = new Map<string, number>();
    for (const [i, p] of ordered.entries()) {
      const topic = central.records.get(seqs[i] as number)?.topic ?? '';
      if (!topic.endsWith('/event')) continue;
      const prev = lastUnits.get(topic);
      if (prev !== undefined && p.kind !== 'adjust') expect(prev + (p.delta as number)).toBe(p.units);
      lastUnits.set(topic, p.units as number);
    }
    expect(central.records.size).toBeGreaterThan(30);
  }, 180_000);
});
