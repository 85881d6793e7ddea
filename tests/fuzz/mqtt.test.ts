/**
 * Fuzzing boundary 2 — MQTT payloads on every topic each side subscribes to.
 *
 * Central: levels, events, calibration records, health and agent status, published over a real
 * MQTT connection to the in-process Central's embedded aedes; ingest must count every payload its
 * schema refuses, store nothing from it, raise no order from it, and still store a valid reading sent
 * afterwards. The command relay's responses are fuzzed the same way.
 *
 * Agent: lane settings and stored marks published to the real Agent over the same broker; the
 * agent counts (logs) every refused one, keeps running and keeps its shelf.
 *
 * The big run (SHELFSENSE_FUZZ_RUNS) sends a capped share over MQTT and the rest straight into the
 * same handlers (Ingest.onMessage, the agent Publisher's onMessage): the per-message transport cost
 * would otherwise dominate. The report says which is which.
 */
import {
  AgentStatusPayload,
  type AnySchema,
  CalibrationRecord,
  CommandResponse,
  EventPayload,
  encodeDeviceFrame,
  HealthPayload,
  LaneSettingsPayload,
  LevelPayload,
  StoredMarkPayload,
  topics,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadText } from '../helpers/fuzz-arbitraries.js';
import { BIG_RUN, FuzzTally, fcParams, fuzzRuns, loadCorpus, ProcessGuard } from '../helpers/fuzz-support.js';
import {
  AGENT_ID,
  type FuzzWorld,
  laneTopic,
  SERIAL,
  SHELF,
  SITE,
  startFuzzWorld,
  validCalibration,
  validEvent,
  validHealth,
  validLaneSettings,
  validLevel,
  validStatus,
  validStoredMark,
} from '../helpers/fuzz-world.js';
import { waitFor } from '../helpers/wait.js';

/** Inputs sent over MQTT at most, per test; the rest of a big run goes in directly. */
const MQTT_CAP = 20_000;

interface Target {
  name: string;
  /** The topic for a payload the schema accepts, and for one it refuses. */
  topic(valid: boolean): string;
  schema: AnySchema;
  valid: fc.Arbitrary<unknown>;
}

const INGEST_TARGETS: Target[] = [
  // A valid reading goes to a lane the shelf map does not have, so it cannot raise an order; a
  // refused one goes to the real lane, where garbage must not raise one either.
  {
    name: 'level',
    topic: (v) => (v ? laneTopic('level', 'LX', 'fuzz-shelf') : laneTopic('level')),
    schema: LevelPayload,
    valid: validLevel,
  },
  {
    name: 'event',
    topic: (v) => (v ? laneTopic('event', 'LX', 'fuzz-shelf') : laneTopic('event')),
    schema: EventPayload,
    valid: validEvent,
  },
  {
    name: 'calibration',
    topic: () => laneTopic('calibration'),
    schema: CalibrationRecord,
    valid: validCalibration,
  },
  { name: 'health', topic: () => topics.health(SITE, SHELF), schema: HealthPayload, valid: validHealth },
  {
    name: 'status',
    topic: () => topics.status(SITE, AGENT_ID),
    schema: AgentStatusPayload,
    valid: validStatus,
  },
];

const AGENT_TARGETS: Target[] = [
  {
    name: 'lanes',
    topic: () => topics.laneSettings(SITE, AGENT_ID),
    schema: LaneSettingsPayload,
    valid: validLaneSettings,
  },
  {
    name: 'stored',
    topic: () => topics.stored(SITE, AGENT_ID),
    schema: StoredMarkPayload,
    valid: validStoredMark,
  },
];

interface Message {
  topic: string;
  payload: Buffer;
  valid: boolean;
}

/** `n` messages spread over `targets`, each payload fuzzed from its target's valid form. */
function messages(targets: Target[], n: number, seedOffset: number): Message[] {
  const arb = fc.oneof(
    ...targets.map((t) =>
      payloadText(t.valid).map((payload) => {
        let valid = false;
        try {
          valid = z.safeParse(t.schema, JSON.parse(payload.toString('utf8'))).success;
        } catch {
          valid = false;
        }
        return { topic: t.topic(valid), payload, valid };
      }),
    ),
  );
  return fc.sample(arb, { seed: fcParams(n).seed! + seedOffset, numRuns: n });
}

async function publishAll(client: MqttClient, batch: Message[]): Promise<void> {
  for (let i = 0; i < batch.length; i += 200) {
    await Promise.all(
      batch.slice(i, i + 200).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })),
    );
  }
}

const guard = new ProcessGuard();
let world: FuzzWorld;
let admin: MqttClient;

beforeAll(async () => {
  guard.install();
  world = await startFuzzWorld();
  admin = await world.client('admin');
}, 60_000);

afterAll(async () => {
  await world?.stop();
  guard.dispose();
});

describe('central ingest under fuzzed MQTT payloads', () => {
  it('counts every refused payload, stores and orders nothing from it, and stores a valid reading afterwards', async () => {
    const runs = fuzzRuns(3_000);
    const overMqtt = Math.min(runs, MQTT_CAP);
    const ingest = world.central.ingest!;
    const before = { ...ingest.counters };
    const tally = new FuzzTally(
      'mqtt',
      'central ingest (levels, events, calibration, health, status)',
      'over MQTT',
    );
    const batch = messages(INGEST_TARGETS, overMqtt, 1);
    for (const m of batch) m.valid ? tally.accept() : tally.reject();
    await publishAll(admin, batch);
    await waitFor(() => ingest.counters.received - before.received >= batch.length, 60_000, {
      what: 'ingest to receive every fuzzed payload',
      intervalMs: 50,
    });
    expect(ingest.counters.received - before.received).toBe(batch.length);
    expect(ingest.counters.invalid - before.invalid).toBe(tally.rejects);
    tally.report();

    const rest = runs - overMqtt;
    if (rest > 0) {
      // The same handler, called directly, for the part of a big run MQTT would make slow.
      const direct = new FuzzTally('mqtt', 'Ingest.onMessage', 'direct');
      const onMessage = (ingest as unknown as { onMessage(t: string, p: Buffer): void }).onMessage.bind(
        ingest,
      );
      const invalidBefore = ingest.counters.invalid;
      const chunk = 10_000;
      for (let done = 0; done < rest; done += chunk) {
        for (const m of messages(INGEST_TARGETS, Math.min(chunk, rest - done), 100 + done)) {
          onMessage(m.topic, m.payload);
          if (m.valid) direct.accept();
          else direct.reject();
        }
      }
      expect(ingest.counters.invalid - invalidBefore).toBe(direct.rejects);
      direct.report();
    }

    // Nothing refused raised an order, and a valid reading still gets stored.
    expect(world.central.orders!.list({})).toEqual([]);
    const probe = {
      agent: AGENT_ID,
      serial: SERIAL,
      sku: 'cola',
      units: 12,
      grams: 4200,
      fill: 0.5,
      stable: true,
      confidence: 1,
      state: 'ok',
      ts: Date.now(),
      seq: 50_000_000,
      frameSeq: 1,
    };
    await admin.publishAsync(laneTopic('level'), JSON.stringify(probe), { qos: 1 });
    await waitFor(
      () =>
        world.central.store!.history.latest({ site: SITE, shelf: SHELF, lane: 'L1' })[0]?.level.seq ===
        probe.seq,
      10_000,
      { what: 'the probe reading to be stored' },
    );
    expect(world.central.orders!.list({})).toEqual([]);
    guard.check();
  }, 300_000);

  it('replays the MQTT regression corpus into ingest', async () => {
    const ingest = world.central.ingest!;
    // The entries for central's topics (the lane-settings ones are the agent's, replayed below).
    const entries = loadCorpus<{ topic: string; payload: string }>('mqtt').filter(
      (e) => !e.input.topic.endsWith('/lanes'),
    );
    const before = ingest.counters.received;
    for (const { input } of entries) await admin.publishAsync(input.topic, input.payload, { qos: 1 });
    await waitFor(() => ingest.counters.received - before >= entries.length, 10_000, {
      what: 'the corpus to arrive',
    });
    expect(world.central.orders!.list({})).toEqual([]);
    guard.check();
  });
});

describe('command relay under fuzzed responses', () => {
  it('ignores every malformed response and still relays a real command', async () => {
    const runs = Math.min(fuzzRuns(1_000), MQTT_CAP);
    const tally = new FuzzTally('mqtt', 'central command relay (responses)', 'over MQTT');
    const relay = world.central.services.commands!;
    // Subscribes the relay, and proves the path works before the fuzz.
    const first = await relay.send(SITE, AGENT_ID, 'identify', {}, { user: 'tech', role: 'technician' });
    expect(first.status).toBe('ok');
    const valid = fc.record({
      transaction: fc.uuid(),
      status: fc.constantFrom('ok', 'error'),
      data: fc.jsonValue({ maxDepth: 2 }),
    });
    const batch = fc
      .sample(payloadText(valid), { seed: fcParams(runs).seed! + 7, numRuns: runs })
      .map((payload) => ({ topic: topics.response(SITE, AGENT_ID, 'identify'), payload, valid: false }));
    for (const m of batch) {
      let ok = false;
      try {
        ok = CommandResponse.safeParse(JSON.parse(m.payload.toString('utf8'))).success;
      } catch {
        ok = false;
      }
      if (ok) tally.accept();
      else tally.reject();
    }
    // The service role may publish responses only as an agent would; the admin may publish anything.
    const invalidBefore = relay.invalid;
    await publishAll(admin, batch);
    const again = await relay.send(SITE, AGENT_ID, 'identify', {}, { user: 'tech', role: 'technician' });
    expect(again.status).toBe('ok');
    // Every response its schema refuses is counted (QoS 1, in order: all arrived before `again`).
    expect(relay.invalid - invalidBefore).toBe(tally.rejects);
    guard.check();
    tally.report();
  }, 120_000);
});

describe('agent subscriptions under fuzzed MQTT payloads', () => {
  it('lane settings that cannot apply to a shelf leave the agent running when the shelf identifies anew', async () => {
    // Two lanes on one channel pass the payload schema but not the pipeline's own check. Cached,
    // they met the next identification of the shelf (here: with another channel count).
    for (const { input } of loadCorpus<{ topic: string; payload: string }>('mqtt').filter((e) =>
      e.input.topic.endsWith('/lanes'),
    )) {
      await admin.publishAsync(input.topic, input.payload, { qos: 1, retain: false });
    }
    await waitFor(() => world.agentLog.count('lane settings refused') > 0, 5_000, {
      what: 'the running shelf to refuse the settings',
    });
    await world.shelfWrite(
      encodeDeviceFrame({ type: 'identity', serial: SERIAL, firmware: 'fw-1', channels: 3, rate: 80 }) +
        encodeDeviceFrame({ type: 'sample', seq: 10, deviceMs: 120, raw: [1, 2, 3] }),
    );
    await waitFor(() => world.agent.shelves.get(SERIAL)?.identity.channels === 3, 5_000, {
      what: 'the shelf to be identified with 3 channels',
    });
    expect(world.agent.ready).toBe(true);
    guard.check();
  });

  it('counts every refused lane-settings and stored-mark payload and keeps its shelf', async () => {
    const runs = fuzzRuns(2_000);
    const overMqtt = Math.min(runs, MQTT_CAP);
    const log = world.agentLog;
    const ignoredBefore = log.count('ignored an invalid message');
    const tally = new FuzzTally('mqtt', 'agent subscriptions (lane settings, stored marks)', 'over MQTT');
    const batch = messages(AGENT_TARGETS, overMqtt, 3);
    for (const m of batch) m.valid ? tally.accept() : tally.reject();
    await publishAll(admin, batch);
    // The agent logs each refused payload once; the last one arriving means all have.
    await waitFor(() => log.count('ignored an invalid message') - ignoredBefore >= tally.rejects, 60_000, {
      what: 'the agent to refuse every invalid payload',
      intervalMs: 50,
    });
    expect(log.count('ignored an invalid message') - ignoredBefore).toBe(tally.rejects);
    tally.report();

    const rest = runs - overMqtt;
    if (rest > 0) {
      const direct = new FuzzTally('mqtt', 'agent Publisher.onMessage', 'direct');
      const publisher = world.agent['publisher'] as unknown as {
        onMessage(t: string, p: Buffer, packet: unknown): void;
        counters: { invalidInbound: number };
      };
      const invalidBefore = publisher.counters.invalidInbound;
      for (let done = 0; done < rest; done += 10_000) {
        for (const m of messages(AGENT_TARGETS, Math.min(10_000, rest - done), 300 + done)) {
          publisher.onMessage(m.topic, m.payload, { topic: m.topic, payload: m.payload, qos: 1 });
          if (m.valid) direct.accept();
          else direct.reject();
        }
      }
      expect(publisher.counters.invalidInbound - invalidBefore).toBe(direct.rejects);
      direct.report();
    }
    expect(world.agent.ready).toBe(true);
    expect(world.agent.shelves.has(SERIAL)).toBe(true);
    guard.check();
  }, 300_000);
});

it('big runs send part over MQTT and the rest directly', () => {
  expect(BIG_RUN || fuzzRuns(3_000) <= MQTT_CAP).toBe(true);
});
