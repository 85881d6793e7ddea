/**
 * Fuzzing boundary 3 — technician command requests to the agent (identify, tare, calibrate,
 * learn-unit, stream): arbitrary JSON bodies, wrong types, huge numbers, missing fields. Every bad
 * one is answered with an error that names the field (or the unknown shelf or lane), none changes a
 * calibration or leaves a calibration record, and the agent keeps running.
 *
 * In-test inputs go over MQTT to the running Agent, connected to a plain aedes: central's broker
 * refuses a malformed request itself (and disconnects its sender), so only a plain broker lets
 * them reach the agent. The big run sends a capped share over MQTT and the rest into the same
 * handler class (CommandHandler.handle) bound to the agent's live shelves.
 */
import { CommandHandler } from '@shelfsense/agent/testing';
import { COMMANDS, type CommandName, type CommandResponse, topics } from '@shelfsense/protocol';
import fc from 'fast-check';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../helpers/brokers.js';
import { mutated, payloadText } from '../helpers/fuzz-arbitraries.js';
import { FuzzTally, fcParams, fuzzRuns, loadCorpus, ProcessGuard } from '../helpers/fuzz-support.js';
import { AGENT_ID, type FuzzWorld, SERIAL, SHELF, SITE, startFuzzWorld } from '../helpers/fuzz-world.js';
import { waitFor } from '../helpers/wait.js';

const MQTT_CAP = 5_000;
/** Field names an error may name; one of them (or the unknown shelf or lane) must appear. */
const FIELDS = [
  'transaction',
  'args',
  'actor',
  'shelf',
  'lane',
  'massG',
  'count',
  'grams',
  'channel',
  'durationMs',
  '(root)',
];
const KNOWN_CODES = ['SHELF_ERR_INVALID', 'SHELF_ERR_UNKNOWN_SHELF', 'SHELF_ERR_UNKNOWN_LANE'];

// Real shelves (by id and serial) with lanes that do not exist, so no fuzzed body can tare or
// calibrate a real lane: everything except identify and a short stream must be refused.
const shelfRef = fc.constantFrom(SHELF, SERIAL, 'ghost-shelf');
const laneRef = fc.constantFrom('L9', 'ghost-lane');
const actor = fc.option(fc.record({ user: fc.constant('tech'), role: fc.constant('technician') }), {
  nil: undefined,
});
const argsOf: Record<CommandName, fc.Arbitrary<Record<string, unknown>>> = {
  identify: fc.constant({}),
  tare: fc.record({ shelf: shelfRef, lane: laneRef }),
  calibrate: fc.record({
    shelf: shelfRef,
    lane: laneRef,
    massG: fc.double({ min: 1, max: 1e6, noNaN: true }),
  }),
  'learn-unit': fc.record({ shelf: shelfRef, lane: laneRef, count: fc.integer({ min: 1, max: 10_000 }) }),
  'remove-point': fc.record({
    shelf: shelfRef,
    lane: laneRef,
    grams: fc.double({ min: 1, max: 1e6, noNaN: true }),
  }),
  stream: fc.record({ shelf: shelfRef, durationMs: fc.constant(100) }),
};
const request = fc
  .constantFrom(...COMMANDS)
  .chain((command) =>
    payloadText(
      fc.record(
        { transaction: fc.uuid(), args: argsOf[command], actor },
        { requiredKeys: ['transaction', 'args'] },
      ),
    ).map((payload) => ({ command, payload })),
  );
// Mutations of the args alone keep the envelope valid, so the argument checks are reached too.
const argsRequest = fc.constantFrom(...COMMANDS).chain((command) =>
  fc.tuple(fc.uuid(), mutated(argsOf[command])).map(([transaction, args]) => ({
    command,
    payload: Buffer.from(JSON.stringify({ transaction, args })),
  })),
);
const anyRequest = fc.oneof(request, argsRequest);

/** The reply is fine for the request: ok only where nothing can be changed, else an error naming a field. */
function checkReply(command: CommandName, r: CommandResponse): 'ok' | 'error' {
  if (r.status === 'ok') {
    expect(['identify', 'stream']).toContain(command);
    return 'ok';
  }
  expect(KNOWN_CODES).toContain(r.error?.code);
  const message = r.error?.message ?? '';
  if (r.error?.code === 'SHELF_ERR_INVALID') expect(FIELDS.some((f) => message.includes(f))).toBe(true);
  else expect(message).toMatch(/shelf|lane/);
  return 'error';
}

const guard = new ProcessGuard();
let world: FuzzWorld;
let plain: TestBroker;
/** Calibration records the agent publishes (there must be none). */
const records: string[] = [];

beforeAll(async () => {
  guard.install();
  plain = await startAedes();
  world = await startFuzzWorld({ agentBroker: plain.url });
  const watcher = await client();
  watcher.on('message', (topic) => records.push(topic));
  await watcher.subscribeAsync('shelfsense/v1/+/+/+/calibration', { qos: 1 });
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.endAsync(true);
  await world?.stop();
  await plain?.close();
  guard.dispose();
});

const clients: MqttClient[] = [];
async function client(): Promise<MqttClient> {
  const c = await mqtt.connectAsync(plain.url, { reconnectPeriod: 0, protocolVersion: 4 });
  clients.push(c);
  return c;
}

function calibrationState() {
  const shelf = world.agent.shelves.get(SERIAL)!;
  return {
    cal: [0, 1].map((c) => JSON.stringify(shelf.pipeline.calibration(c))),
    lanes: JSON.stringify(shelf.pipeline.lanes().map((l) => [l.id, l.unitWeightG])),
    records: records.length,
  };
}

describe('technician commands under fuzzing', () => {
  it('answers every bad request with an error naming the field, applies none, and keeps running', async () => {
    const runs = fuzzRuns(1_500);
    const overMqtt = Math.min(runs, MQTT_CAP);
    const before = calibrationState();
    const admin = await client();
    const replies: { command: CommandName; body: CommandResponse }[] = [];
    admin.on('message', (topic, payload) => {
      const command = topic.split('/').pop() as CommandName;
      replies.push({ command, body: JSON.parse(payload.toString('utf8')) as CommandResponse });
    });
    await admin.subscribeAsync(`shelfsense/v1/${SITE}/agents/${AGENT_ID}/response/+`, { qos: 1 });
    const tally = new FuzzTally('commands', 'Agent command handler', 'over MQTT');
    const batch = fc.sample(anyRequest, { seed: fcParams(overMqtt).seed! + 11, numRuns: overMqtt });
    for (let i = 0; i < batch.length; i += 100) {
      await Promise.all(
        batch
          .slice(i, i + 100)
          .map((r) => admin.publishAsync(topics.request(SITE, AGENT_ID, r.command), r.payload, { qos: 1 })),
      );
      // The agent answers in order; wait for this slice so a slow reply is never mixed up.
      await waitFor(() => replies.length >= Math.min(i + 100, batch.length), 30_000, {
        what: 'a reply to every request',
        intervalMs: 5,
      });
    }
    expect(replies.length).toBe(batch.length);
    for (const r of replies) {
      if (checkReply(r.command, r.body) === 'ok') tally.accept();
      else tally.reject();
    }
    tally.report();

    const rest = runs - overMqtt;
    if (rest > 0) {
      const direct = new FuzzTally('commands', 'CommandHandler.handle', 'direct');
      const answered: { command: CommandName; body: CommandResponse }[] = [];
      let command: CommandName = 'identify';
      const handler = new CommandHandler(
        {
          site: SITE,
          agent: AGENT_ID,
          settleTimeoutMs: 300,
          verifyMs: 100,
          shelves: () => [...world.agent.shelves.values()],
          respond: (_topic, body) => answered.push({ command, body }),
          stream: () => undefined,
          persist: () => {
            throw new Error('a fuzzed command was applied');
          },
          identify: () => ({ agent: AGENT_ID }),
        },
        pino({ level: 'silent' }),
      );
      for (let done = 0; done < rest; done += 10_000) {
        const n = Math.min(10_000, rest - done);
        for (const r of fc.sample(anyRequest, { seed: fcParams(n).seed! + 1_000 + done, numRuns: n })) {
          command = r.command;
          await handler.handle(r.command, r.payload, { properties: {} } as IPublishPacket);
          const last = answered[answered.length - 1]!;
          if (checkReply(last.command, last.body) === 'ok') direct.accept();
          else direct.reject();
        }
      }
      handler.stop();
      expect(answered.length).toBe(rest);
      direct.report();
    }

    expect(calibrationState()).toEqual(before);
    // Alive: a real identify still answers.
    const n = replies.length;
    await admin.publishAsync(
      topics.request(SITE, AGENT_ID, 'identify'),
      JSON.stringify({ transaction: 'probe', args: {} }),
      { qos: 1 },
    );
    await waitFor(
      () => replies.length > n && replies[replies.length - 1]?.body.transaction === 'probe',
      5_000,
      {
        what: 'the probe identify',
      },
    );
    guard.check();
  }, 600_000);

  it('replays the command regression corpus', async () => {
    const admin = await client();
    const replies: CommandResponse[] = [];
    admin.on('message', (_t, payload) =>
      replies.push(JSON.parse(payload.toString('utf8')) as CommandResponse),
    );
    await admin.subscribeAsync(`shelfsense/v1/${SITE}/agents/${AGENT_ID}/response/+`, { qos: 1 });
    const entries = loadCorpus<{ command: CommandName; payload: string }>('commands');
    for (const { input } of entries) {
      await admin.publishAsync(topics.request(SITE, AGENT_ID, input.command), input.payload, { qos: 1 });
    }
    await waitFor(() => replies.length >= entries.length, 10_000, { what: 'a reply to every corpus entry' });
    entries.forEach(({ input, note }, i) => {
      expect(replies[i]?.status, note).toBe('error');
      checkReply(input.command, replies[i]!);
    });
    guard.check();
  });
});
