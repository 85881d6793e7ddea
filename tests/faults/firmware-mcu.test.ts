/**
 * The agent counts a shelf whose firmware is the flashed binary as exactly as it counts the
 * simulator: the AVR ELF in simavr (HX711 parts fed the simulator's raw counts), its UART on a socat
 * pty → the agent → aedes → a subscriber, scored against the simulator's ground truth by the device
 * clock of each frame. Virtual time: the MCU runs as fast as simavr does. The figures of the long
 * run are printed (docs/reliability.md).
 */
import { Agent, createLogger } from '@shelfsense/agent';
import { type McuRunner, type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type Collected, collect } from '../helpers/agent.js';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { scale } from '../helpers/faults-figures.js';
import { buildFirmware, buildHarness } from '../helpers/mcu.js';
import { ACCURACY_LANES, PICKS, scoreStableCounts } from '../helpers/stable-levels.js';
import { waitFor } from '../helpers/wait.js';

/** Device time: a minute in `npm test`, an hour with `npm run test:faults -- --full`. */
const DURATION_MS = scale(60_000, 3_600_000);

const scenario = {
  seed: 23,
  rate: 80 as const,
  shelves: [
    {
      serial: 'MCU-SHELF',
      lanes: ACCURACY_LANES,
    },
  ],
  events: [PICKS, { at: '100s', every: '100s', action: 'restock', lane: 'all', itemMs: 900 }],
};

describe('agent counts a simulated-MCU shelf against ground truth (ELF in simavr → pty → agent)', () => {
  let sim: Simulator;
  let broker: TestBroker;
  let agent: Agent;
  let levels: Collected[];
  let closeSub: () => Promise<void>;
  let runMs = 0;

  beforeAll(
    async () => {
      buildHarness();
      const elf = buildFirmware('mega', 4);
      broker = await startAedes();
      sim = await startSimulator({
        seed: 23,
        virtual: true,
        transport: 'pty',
        scenario,
        durationMs: DURATION_MS,
        autoStart: false,
        control: false,
        mcu: { elf },
      });
      const config = agentConfig(sim, broker.url, { signal: { heartbeatMs: 3_600_000 }, readBatchMs: 0 });
      const sub = await collect(broker.url, ['shelfsense/v1/store-1/+/+/level']);
      levels = sub.messages;
      closeSub = sub.close;
      agent = new Agent(config, createLogger('silent'));
      await agent.start();
      await waitFor(() => agent.connected, 10_000, { what: 'agent connected' });
      const t0 = Date.now();
      sim.start();
      await sim.finished;
      runMs = Date.now() - t0;
      await waitFor(() => agent.outboxStats?.queued === 0 && agent.shelves.size === 1, 60_000, {
        what: 'outbox drained',
      });
      await waitFor(
        () => levels.length > 0 && levels.at(-1)?.payload.seq === agent.outboxStats?.lastSeq,
        30_000,
        { what: 'last level received' },
      );
    },
    scale(600_000, 7_200_000),
  );

  afterAll(async () => {
    await agent?.stop();
    await closeSub?.();
    await sim?.stop();
    await broker?.close();
  });

  it('the shelf is the firmware: its identity, no line rejected but the frames before it', () => {
    const src = agent.describe().sources[0] as { serial: string; rejects: Record<string, number> };
    expect(src.serial).toBe('MCU-SHELF');
    const { unidentified = 0, ...others } = src.rejects;
    expect(others).toEqual({});
    expect(unidentified).toBeLessThan(200);
  });

  it('≥ 99.9 % of the published stable counts are exact', () => {
    const { stable, exact, wrong } = scoreStableCounts(sim, levels);
    console.log(
      `firmware in simavr: ${DURATION_MS / 1000} s of device time in ${Math.round(runMs / 1000)} s, ` +
        `${stable} stable counts, ${exact} exact (${((exact / stable) * 100).toFixed(2)} %)`,
    );
    expect(stable).toBeGreaterThanOrEqual((DURATION_MS / 1000) * 0.3);
    expect(exact / stable, JSON.stringify(wrong)).toBeGreaterThanOrEqual(0.999);
  });

  it('the HX711s were read every conversion, at gain 128, powered down only by the boot reset', async () => {
    const runner = sim.shelves[0]?.runner as McuRunner;
    await sim.stop();
    expect(runner.stats).not.toBeNull();
    expect(runner.stats?.missed).toBe(0);
    expect(runner.stats?.gainErrors).toBe(0);
    expect(runner.stats?.powerDowns).toBe(1);
    expect(runner.stats?.reads).toBeGreaterThanOrEqual((DURATION_MS / 1000) * 80 * 0.99);
  });
});
