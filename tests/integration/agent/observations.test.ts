/**
 * Observations end to end: the real Agent reads a simulated shelf through a socat pty and publishes
 * to a real aedes broker. On the shelf, through the simulator's HTTP control: an item of lane L2 put
 * back on L0, a foreign object on L1, then L2's SKU swapped for 57 g items without telling the
 * agent. The agent reports a misplaced item, a foreign object and a wrong unit weight with its
 * proposal on `.../{lane}/observation` (every payload valid); accepting the proposal as new lane
 * settings clears it and L2 recounts to the truth — even though L2's unit weight had been learned on
 * the agent, which otherwise overrides the lane settings. No pick or restock disagrees with the ground
 * truth, and lifting the misplaced item and the object off changes no count.
 */
import { Agent, createLogger } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { type LaneSetting, ObservationPayload, topics } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, collect, shelvesFromSim, simControl } from '../../helpers/agent.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

const SERIAL = 'SHELF-O';
const UNITS = [125, 42, 73];
const ITEMS = [12, 20, 10];

describe('lane observations through a real pty and broker', () => {
  let sim: Simulator;
  let broker: TestBroker;
  let agent: Agent;
  let seen: Awaited<ReturnType<typeof collect>>;
  const lanes: LaneSetting[] = UNITS.map((u, i) => ({
    lane: `L${i}`,
    channels: [i],
    sku: `sku-${i}`,
    unitWeightG: u,
    capacity: 40,
  }));

  const observations = () =>
    seen.messages
      .filter((m) => m.topic.endsWith('/observation'))
      .map((m) => ({ lane: m.topic.split('/').at(-2) as string, ...(m.payload as ObservationPayload) }));
  const observed = (lane: string, kind: string, state: 'open' | 'cleared', what: string) =>
    waitFor(
      () => observations().find((o) => o.lane === lane && o.kind === kind && o.state === state),
      20_000,
      {
        what,
      },
    );
  const level = (lane: string) =>
    [...seen.messages].reverse().find((m) => m.topic.endsWith(`/${lane}/level`))?.payload as
      | { units: number; stable: boolean }
      | undefined;
  const items = (lane: number) => sim.truth(SERIAL).lanes[lane]?.items;

  beforeAll(async () => {
    broker = await startAedes();
    sim = await startSimulator({
      seed: 31,
      transport: 'pty',
      scenario: {
        shelves: [
          { serial: SERIAL, lanes: UNITS.map((u, i) => ({ unitWeightG: u, items: ITEMS[i], capacity: 40 })) },
        ],
      },
    });
    const calibration = shelvesFromSim(sim)[0]?.calibration;
    const config = agentConfig(sim, broker.url, {
      shelves: [{ serial: SERIAL, shelf: SERIAL, lanes, calibration }],
    });
    seen = await collect(broker.url, ['shelfsense/v1/store-1/#']);
    agent = new Agent(config, createLogger(process.env.DEBUG_AGENT ? 'debug' : 'silent'));
    await agent.start();
    await waitFor(() => agent.shelves.size === 1 && agent.ready, 15_000, {
      what: 'shelf identified, agent ready',
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await seen?.close();
    await sim?.stop();
    await broker?.close();
  });

  const settingsFrom = (revision: number, laneSettings: LaneSetting[]) =>
    seen.client.publishAsync(
      topics.laneSettings('store-1', 'pi-1'),
      JSON.stringify({
        agent: 'pi-1',
        revision,
        shelves: [{ shelf: SERIAL, serial: SERIAL, lanes: laneSettings }],
      }),
      { qos: 1, retain: true },
    );

  it('reports a misplaced item, a foreign object and a wrong unit weight; the accepted proposal recounts', async () => {
    for (const [i, n] of ITEMS.entries()) {
      await waitFor(() => level(`L${i}`)?.stable && level(`L${i}`)?.units === n, 15_000, {
        what: `first count of L${i}`,
      });
    }
    // Central's settings as they stand, and a technician's learn-unit on L2 (10 items on it).
    await settingsFrom(0, lanes);
    await seen.client.subscribeAsync('shelfsense/v1/store-1/agents/pi-1/response/+', { qos: 1 });
    await seen.client.publishAsync(
      'shelfsense/v1/store-1/agents/pi-1/request/learn-unit',
      JSON.stringify({ transaction: 'learn-1', args: { shelf: SERIAL, lane: 'L2', count: 10 } }),
      { qos: 1 },
    );
    const learned = await waitFor(
      () => seen.messages.find((m) => m.topic.endsWith('/response/learn-unit'))?.payload,
      30_000,
      { what: 'learn-unit reply' },
    );
    expect(learned.status).toBe('ok');

    await simControl(sim, SERIAL, { action: 'misplace', from: 2, to: 0 });
    const misplaced = await observed('L0', 'misplaced-item', 'open', 'misplaced item on L0');
    expect(misplaced.otherLane).toBe('L2');
    expect(misplaced.grams).toBeCloseTo(73, 0);

    await simControl(sim, SERIAL, { action: 'place', lane: 1, grams: 30.5 });
    const object = await observed('L1', 'foreign-object', 'open', 'foreign object on L1');
    expect(object.grams).toBeCloseTo(30.5, 0);

    await simControl(sim, SERIAL, {
      action: 'sku-change',
      lane: 2,
      unitWeightG: 57,
      items: 5,
      itemMs: 1_500,
    });
    const proposed = await waitFor(
      () =>
        observations()
          .filter((o) => o.lane === 'L2' && o.kind === 'unit-weight' && o.state === 'open')
          .find((o) => (o.proposal?.steps ?? 0) >= 4),
      20_000,
      { what: 'a unit-weight proposal on L2 resting on 4 steps' },
    ).catch((e) => {
      throw new Error(
        `${e.message}: ${JSON.stringify(observations().map((o) => [o.lane, o.kind, o.state, o.grams, o.proposal]))}`,
      );
    });
    expect(proposed.proposal?.wrong).toBe(true);
    expect(Math.abs((proposed.proposal?.unitWeightG ?? 0) - 57)).toBeLessThan(0.57);
    await waitFor(() => items(2) === 5, 10_000, { what: 'all new items on L2' });

    // The technician accepts: central publishes lane settings with the proposed weight.
    const accepted = lanes.map((l) =>
      l.lane === 'L2' ? { ...l, unitWeightG: proposed.proposal?.unitWeightG as number } : l,
    );
    await settingsFrom(1, accepted);
    const cleared = await observed('L2', 'unit-weight', 'cleared', 'the proposal cleared');
    expect(cleared.observation).toBe(proposed.observation);
    await waitFor(() => level('L2')?.stable && level('L2')?.units === 5, 15_000, { what: 'L2 recounted' });

    await simControl(sim, SERIAL, { action: 'lift', lane: 0 });
    await simControl(sim, SERIAL, { action: 'lift', lane: 1 });
    const back = await observed('L0', 'misplaced-item', 'cleared', 'misplaced item taken away');
    expect(back.observation).toBe(misplaced.observation);
    const gone = await observed('L1', 'foreign-object', 'cleared', 'foreign object lifted off');
    expect(gone.observation).toBe(object.observation);
    await waitFor(() => level('L0')?.stable && level('L1')?.stable, 10_000, { what: 'L0 and L1 settled' });
    expect(level('L0')?.units).toBe(12);
    expect(level('L1')?.units).toBe(20);

    // Every observation payload is valid; every pick and restock agrees with the ground truth.
    for (const o of observations()) expect(ObservationPayload.safeParse(o).success).toBe(true);
    const last = new Map<string, number>();
    for (const m of seen.messages.filter((x) => x.topic.endsWith('/event'))) {
      const lane = m.topic.split('/').at(-2) as string;
      const i = Number(lane.slice(1));
      const p = m.payload as { kind: string; delta: number; units: number; frameSeq: number };
      const at = (seq: number) => sim.groundTruth.at(SERIAL, seq)?.lanes[i]?.items;
      if (p.kind !== 'adjust') {
        const before = last.get(lane);
        expect(before, `${p.kind} on ${lane} before any count`).toBeDefined();
        expect(p.units, `${p.kind} on ${lane}`).toBe(at(p.frameSeq));
        expect(p.delta, `${p.kind} on ${lane}`).toBe(
          (at(p.frameSeq) as number) - (at(before as number) as number),
        );
      }
      last.set(lane, p.frameSeq);
    }
  }, 90_000);
});
