/**
 * Counts survive an agent restart, with the drift the lane had followed: simulator (virtual time,
 * TCP, which pauses while no agent is connected) → the real Agent → aedes.
 *
 * A lane of 10 g items whose cell zero creeps up by 9 g while the agent counts (0.25 g a second:
 * each step well inside the stability band, so the lane stays settled and its count reference
 * follows). An agent that restarts without the persisted reference reads those 9 g as 0.9 of an
 * item and adjusts the count to 31 — the control run below shows it. With its state directory it
 * resumes at 30, exact, and raises no adjust.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type Collected, collect } from '../../helpers/agent.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

const SERIAL = 'SHELF-D';
const OFFSET = 100_000;
const SCALE = 420;
const RAMP_STEPS = 36; // 36 × 0.25 g = 9 g
const RAMP_END_MS = 5_000 + RAMP_STEPS * 1_000;

describe('lane counts and references persist across an agent restart', () => {
  let sim: Simulator;
  let broker: TestBroker;
  let seen: { messages: Collected[]; close: () => Promise<void> };
  let config: ReturnType<typeof agentConfig>;
  const agents: Agent[] = [];

  const engine = () => sim.shelf(SERIAL).engine;
  const lane = (agent: Agent) => agent.shelves.get(SERIAL)?.pipeline.lane('L0');

  async function startAgent(stateDir: string): Promise<{ agent: Agent; fromSeq: number }> {
    const agent = new Agent({ ...config, stateDir }, createLogger('silent'));
    agents.push(agent);
    const fromSeq = engine().nextSeq;
    await agent.start();
    await waitFor(() => agent.shelves.size === 1, 15_000, { what: 'shelf identified' });
    return { agent, fromSeq };
  }

  /** The first stable level of L0 computed on a frame at or after `fromSeq`. */
  function firstStable(fromSeq: number) {
    return waitFor(
      () =>
        seen.messages.find(
          (m) =>
            m.topic.endsWith(`/${SERIAL}/L0/level`) &&
            m.payload.stable === true &&
            (m.payload.frameSeq as number) >= fromSeq,
        )?.payload,
      30_000,
      { what: `a stable count after frame ${fromSeq}` },
    );
  }

  const eventsFrom = (fromSeq: number) =>
    seen.messages.filter(
      (m) => m.topic.endsWith(`/${SERIAL}/L0/event`) && (m.payload.frameSeq as number) >= fromSeq,
    );

  beforeAll(async () => {
    broker = await startAedes();
    sim = await startSimulator({
      seed: 5,
      virtual: true,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        model: { driftG: 0, driftWalkG: 0, creepFraction: 0, junkProbability: 0 },
        shelves: [
          {
            serial: SERIAL,
            cells: [{ offset: OFFSET, scale: SCALE, trayG: 300 }],
            lanes: [{ unitWeightG: 10, items: 30, capacity: 60, noiseG: 0.5 }],
          },
        ],
        // The cell's zero creeps up 0.25 g a second for 36 s, as a warming cell would (faster).
        events: Array.from({ length: RAMP_STEPS }, (_, k) => ({
          at: `${5_000 + (k + 1) * 1_000}ms`,
          action: 'cell',
          channel: 0,
          offset: OFFSET + Math.round((k + 1) * 0.25 * SCALE),
        })),
      },
    });
    // The count reference follows drift within a few hundred ms, so it keeps up with the ramp.
    config = agentConfig(sim, broker.url, { signal: { driftTrackMs: 300, heartbeatMs: 3_600_000 } });
    seen = await collect(broker.url, ['shelfsense/v1/store-1/#']);
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await seen?.close();
    await sim?.stop();
    await broker?.close();
  });

  it('[count-restore] after drift, a restart resumes the exact count without an adjust; without the persisted reference it would adjust wrongly', async () => {
    // 1. Counting while the zero creeps up 9 g; the reference follows it.
    const { agent: first, fromSeq: firstFrom } = await startAgent(config.stateDir);
    const counted = await firstStable(firstFrom);
    expect(counted.units).toBe(30);
    await waitFor(
      () =>
        engine().nextDeviceMs > RAMP_END_MS + 2_000 &&
        lane(first)?.state === 'ok' &&
        (lane(first)?.baselineG ?? 0) > 8.5,
      60_000,
      { what: 'the reference to follow the 9 g of drift' },
    );
    expect(lane(first)?.units).toBe(30);
    await first.stop();
    const saved = JSON.parse(readFileSync(join(config.stateDir, 'counts', `${SERIAL}.json`), 'utf8'));
    expect(saved.lanes.L0.units).toBe(30);
    expect(saved.lanes.L0.baselineG).toBeGreaterThan(8.5);

    // 2. Control: the same shelf, an agent without that state. The drift reads as 0.9 item.
    const { agent: control, fromSeq: controlFrom } = await startAgent(
      mkdtempSync(join(tmpdir(), 'agent-state-')),
    );
    const wrong = await firstStable(controlFrom);
    expect(sim.truth(SERIAL, wrong.frameSeq as number).lanes[0]?.items).toBe(30);
    expect(wrong.units).toBe(31);
    await control.stop();

    // 3. The same state directory: count and reference restored before the first frame counts.
    const { agent: again, fromSeq: againFrom } = await startAgent(config.stateDir);
    expect(lane(again)?.units).toBe(30);
    expect(lane(again)?.baselineG).toBeGreaterThan(8.5);
    const resumed = await firstStable(againFrom);
    expect(resumed.units).toBe(30);
    expect(sim.truth(SERIAL, resumed.frameSeq as number).lanes[0]?.items).toBe(30);
    // A few more seconds of counting: still 30, and no event at all (the count never changed).
    const later = engine().nextSeq + 400;
    await waitFor(() => (lane(again)?.frameSeq ?? 0) > later && lane(again)?.state === 'ok', 30_000, {
      what: 'five more seconds of counting',
    });
    expect(lane(again)?.units).toBe(30);
    expect(eventsFrom(againFrom)).toEqual([]);
  }, 120_000);
});
