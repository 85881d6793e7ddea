/**
 * Calibration end to end: a shelf whose factory calibration is wrong (offset and scale off, unit
 * weight unknown) is put right by a technician's tare, calibrate-with-a-known-mass and
 * learn-unit-weight commands over MQTT, while the shelf is driven through the simulator's HTTP
 * control interface. The calibration survives an agent restart, and every step yields a record.
 */
import { Agent, createLogger } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type Collected, collect } from '../../helpers/agent.js';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

const SERIAL = 'SHELF-C';
const REQ = 'shelfsense/v1/store-1/agents/pi-1/request';

describe('technician calibration through MQTT commands', () => {
  let sim: Simulator;
  let broker: TestBroker;
  let agent: Agent;
  let tech: MqttClient;
  let seen: { messages: Collected[]; close: () => Promise<void> };
  let config: ReturnType<typeof agentConfig>;
  const responses: Record<string, unknown>[] = [];

  const nextSeq = () => sim.shelf(SERIAL).engine.nextSeq;

  async function control(action: Record<string, unknown>) {
    const res = await fetch(`${sim.controlUrl}/shelves/${SERIAL}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(action),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { appliesFromSeq: number };
  }

  async function command(name: string, args: Record<string, unknown>, transaction: string) {
    await tech.publishAsync(
      `${REQ}/${name}`,
      JSON.stringify({ transaction, args, actor: { user: 'tech-anna', role: 'technician' } }),
      { qos: 1 },
    );
    return waitFor(() => responses.find((r) => r.transaction === transaction), 30_000, {
      what: `reply to ${name}`,
    }) as Promise<{ status: string; data: Record<string, unknown>; error?: { code: string } }>;
  }

  /** The agent's next stable count of lane L0 computed on a frame at or after `fromSeq`. */
  function stableCountAfter(fromSeq: number) {
    return waitFor(
      () =>
        seen.messages.find(
          (m) =>
            m.topic.endsWith('/L0/level') &&
            m.payload.stable === true &&
            (m.payload.frameSeq as number) >= fromSeq,
        )?.payload,
      30_000,
      { what: `a stable count after frame ${fromSeq}` },
    );
  }

  beforeAll(async () => {
    broker = await startAedes();
    sim = await startSimulator({
      seed: 21,
      transport: 'pty',
      scenario: { shelves: [{ serial: SERIAL, lanes: [{ unitWeightG: 100, items: 0, capacity: 30 }] }] },
    });
    config = agentConfig(sim, broker.url, {
      shelves: [
        {
          serial: SERIAL,
          shelf: SERIAL,
          lanes: [{ lane: 'L0', channels: [0], sku: 'bolts', unitWeightG: 80, capacity: 30 }],
          // Factory calibration off by 5,000 counts and 8 % in scale.
          calibration: [
            {
              channel: 0,
              offset: sim.truth(SERIAL, 0).cells[0]!.offset + 5_000,
              scale: sim.truth(SERIAL, 0).cells[0]!.scale * 1.08,
            },
          ],
        },
      ],
    });
    seen = await collect(broker.url, ['shelfsense/v1/store-1/#']);
    tech = await mqtt.connectAsync(broker.url);
    tech.on('message', (_t, p) => responses.push(JSON.parse(p.toString())));
    await tech.subscribeAsync('shelfsense/v1/store-1/agents/pi-1/response/+', { qos: 1 });
    agent = new Agent(config, createLogger(process.env.DEBUG_AGENT ? 'debug' : 'silent'));
    await agent.start();
    await waitFor(() => agent.shelves.size === 1 && agent.ready, 15_000, {
      what: 'shelf identified, agent ready',
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await tech?.endAsync();
    await seen?.close();
    await sim?.stop();
    await broker?.close();
  });

  it('tare, calibrate and learn-unit make the counts exact, and the records name the technician', async () => {
    const tare = await command('tare', { shelf: SERIAL, lane: 'L0' }, 't-tare');
    expect(tare.status).toBe('ok');

    const placed = await control({ action: 'place', lane: 0, grams: 1000 });
    await waitFor(() => nextSeq() > placed.appliesFromSeq + 120, 10_000); // 1.5 s to settle
    const cal = await command('calibrate', { shelf: SERIAL, lane: 'L0', massG: 1000 }, 't-cal');
    expect(cal.status).toBe('ok');
    // The scale was 8 % high: 1000 g read as ~926 g, the error this calibration corrected …
    expect(cal.data.correctionG as number).toBeGreaterThan(-85);
    expect(cal.data.correctionG as number).toBeLessThan(-65);
    // … and fresh readings under the new calibration read the mass within noise.
    expect(Math.abs(cal.data.residualG as number)).toBeLessThan(3);
    await control({ action: 'lift', lane: 0 });

    const added = await control({ action: 'add', lane: 0, count: 10 });
    await waitFor(() => nextSeq() > added.appliesFromSeq + 120, 10_000);
    const learn = await command('learn-unit', { shelf: SERIAL, lane: 'L0', count: 10 }, 't-learn');
    expect(learn.status).toBe('ok');
    const after = (learn.data.after as Record<string, { unitWeightG: number }>)['0']?.unitWeightG ?? 0;
    expect(Math.abs(after - 100)).toBeLessThan(1);
    expect(Math.abs(learn.data.residualG as number)).toBeLessThan(5);

    const removed = await control({ action: 'remove', lane: 0, count: 3 });
    const level = await stableCountAfter(removed.appliesFromSeq + 1);
    expect(level.units).toBe(sim.truth(SERIAL, level.frameSeq as number).lanes[0]?.items);
    expect(level.units).toBe(7);

    const records = seen.messages.filter((m) => m.topic.endsWith('/L0/calibration')).map((m) => m.payload);
    expect(records.map((r) => r.kind)).toEqual(['tare', 'calibrate', 'learn-unit']);
    for (const r of records) expect(r.by).toEqual({ user: 'tech-anna', role: 'technician' });
  }, 90_000);

  it('the calibration survives an agent restart', async () => {
    await agent.stop();
    const restartAt = nextSeq();
    agent = new Agent(config, createLogger('silent'));
    await agent.start();
    await waitFor(() => agent.ready, 15_000, { what: 'agent ready' });
    const level = await stableCountAfter(restartAt + 1);
    expect(level.units).toBe(7);
    const removed = await control({ action: 'remove', lane: 0, count: 2 });
    const next = await stableCountAfter(removed.appliesFromSeq + 1);
    expect(next.units).toBe(5);
  }, 60_000);

  it('bad command payloads and unknown shelves get a clear error, and the agent keeps going', async () => {
    await tech.publishAsync(`${REQ}/tare`, 'not json', { qos: 1 });
    await tech.publishAsync(
      `${REQ}/calibrate`,
      JSON.stringify({ transaction: 'bad-mass', args: { shelf: SERIAL, lane: 'L0', massG: -5 } }),
      { qos: 1 },
    );
    const bad = (await waitFor(() => responses.find((r) => r.transaction === 'bad-mass'), 10_000)) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(bad.status).toBe('error');
    expect(bad.error.code).toBe('SHELF_ERR_INVALID');
    expect(bad.error.message).toContain('massG');
    const unknown = await command('tare', { shelf: 'NOPE', lane: 'L0' }, 't-unknown');
    expect(unknown.status).toBe('error');
    expect(unknown.error?.code).toBe('SHELF_ERR_UNKNOWN_SHELF');
    // A request on another agent's topic is not this agent's business: no reply from it.
    await tech.publishAsync(
      'shelfsense/v1/store-1/agents/pi-2/request/identify',
      JSON.stringify({ transaction: 'other-agent', args: {} }),
      { qos: 1 },
    );
    const ok = await command('identify', {}, 't-identify');
    expect(ok.status).toBe('ok');
    // Identify says which port carries which shelf and how its line is doing.
    const data = ok.data as {
      shelves: { serial: string }[];
      sources: { source: string; serial: string | null; frames: number; reconnects: number }[];
      publisher: { connected: boolean; published: number } | null;
    };
    expect(data.shelves.map((x) => x.serial)).toEqual([SERIAL]);
    expect(data.sources).toHaveLength(1);
    expect(data.sources[0]?.serial).toBe(SERIAL);
    expect(data.sources[0]?.source).toContain(sim.shelves[0]?.path as string);
    expect(data.sources[0]?.frames).toBeGreaterThan(0);
    expect(data.publisher?.connected).toBe(true);
    expect(responses.some((r) => r.transaction === 'other-agent')).toBe(false);
  }, 60_000);
});
